"""Turn a parsed document's narrative sections into index chunks with offsets into their source."""

from __future__ import annotations

from assistant.index.chunking import Chunk, make_chunk, split_span
from assistant.records.model import DocumentSection, ParsedDocument


def section_chunks(section: DocumentSection, document_key: str, patient_id: str | None) -> list[Chunk]:
    """Chunks of one section. Offsets are shifted by the section's own start so that a citation's
    (start, end) are offsets into the decoded source the connector recorded."""
    base = section.provenance.start or 0
    title = section.document_title or section.title
    source_uri = f"{section.provenance.source_path}#{section.provenance.locator}"
    meta = {
        "document_type": section.document_type,
        "document_date": section.document_date.isoformat() if section.document_date else None,
        "loinc": section.loinc,
        "format": section.provenance.format,
    }
    chunks = []
    for start, end in split_span(section.text, 0, len(section.text)):
        chunk = make_chunk(
            section.document_id,
            title,
            section.title,
            section.text,
            start,
            end,
            source_uri,
            patient_id=patient_id,
            meta=meta,
            id_prefix=f"{document_key[:16]}:{section.id}",
        )
        chunks.append(
            Chunk(
                chunk_id=chunk.chunk_id,
                doc_id=chunk.doc_id,
                title=chunk.title,
                section=chunk.section,
                start=base + start,
                end=base + end,
                text=chunk.text,
                sha256=chunk.sha256,
                source_uri=chunk.source_uri,
                patient_id=patient_id,
                meta=chunk.meta,
            )
        )
    return chunks


def document_sections(parsed: ParsedDocument) -> list[DocumentSection]:
    return [record for record in parsed.records if isinstance(record, DocumentSection) and record.text.strip()]
