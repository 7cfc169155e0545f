"""Ingest files: one transaction per document, idempotent by content hash, resumable after a crash.

For each file: refuse what is too large, hash the bytes (the hash is the document id), skip it if
that document is already in the ledger, detect the format, parse, embed the narrative chunks, then in
one SQL transaction store records + ledger row + chunk rows while the vectors are staged in Chroma.
Only the committed SQL state is visible to retrieval, so a crash at any point (kill -9 included)
leaves each document either fully present or absent, and a re-run completes exactly what was missing.
A bad file is reported in one line and never stops the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.context import AppContext
from assistant.index.chunking import Chunk
from assistant.index.knowledge import KnowledgeReport, ingest_knowledge_file, is_knowledge_file
from assistant.index.vectors import PATIENT
from assistant.index.writer import embed_chunks, replace_rows, stage_vectors_for
from assistant.ingest.chunks import document_sections, section_chunks
from assistant.records.model import DocumentSection, ParsedDocument
from connectors import registry
from connectors.errors import ParseError

SIDE_CAR_SUFFIXES = (".meta.json",)
# Package and demo bookkeeping that sits beside data files but is not a patient record.
SKIPPED_NAMES = {"LICENSE", "COPYING", "MANIFEST.md", "README.md", "README.txt", "Readme.md", "manifest.json"}


@dataclass
class IngestSummary:
    files: int = 0
    documents: int = 0
    patients: int = 0
    records: int = 0
    chunks: int = 0
    skipped_unchanged: int = 0
    knowledge_documents: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def iter_files(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths in a stable order (the same order on every run)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return [p for p in found if not p.name.endswith(SIDE_CAR_SUFFIXES) and p.name not in SKIPPED_NAMES]


def _previous_versions(session: Session, source_path: str, document_id: str) -> list[str]:
    from assistant.records.tables import DocumentTable

    query = select(DocumentTable.document_id).where(
        DocumentTable.source_path == source_path, DocumentTable.document_id != document_id
    )
    return list(session.scalars(query))


@dataclass
class Prepared:
    """A parsed document waiting for its embeddings; chunks carry no patient id until the store assigns it."""

    parsed: ParsedDocument
    document_id: str
    sections: list[tuple[DocumentSection, list[Chunk]]]

    @property
    def chunks(self) -> list[Chunk]:
        return [chunk for _, chunks in self.sections for chunk in chunks]


def prepare(parsed: ParsedDocument, document_id: str) -> Prepared:
    sections = [(section, section_chunks(section, document_id, None)) for section in document_sections(parsed)]
    return Prepared(parsed, document_id, sections)


@dataclass
class Written:
    chunks: list[Chunk]
    stale: list[str]
    patients: int


def write_rows(ctx: AppContext, session: Session, prepared: Prepared) -> Written:
    """One document's SQL rows inside the caller's transaction: a previous version of the same file is
    replaced, records go through the MPI, and chunks learn their patient ids."""
    parsed, document_id = prepared.parsed, prepared.document_id
    store = ctx.patients
    stale: list[str] = []
    for old_id in _previous_versions(session, parsed.source_path, document_id):
        stale += replace_rows(session, PATIENT, old_id, [])
        store.delete_document(session, old_id)
    keys = store.save_document(session, parsed, document_id)
    chunks = [
        replace(piece, patient_id=keys.get(section.patient_key))
        for section, pieces in prepared.sections
        for piece in pieces
    ]
    stale += replace_rows(session, PATIENT, document_id, chunks)
    return Written(chunks, stale, len(set(keys.values())))


def store_documents(ctx: AppContext, batch: list[Prepared], vectors: np.ndarray) -> list[Written]:
    """Store a batch in one transaction with one Chroma write.

    Every document is still all-or-none: the whole batch commits or none of it does, and a re-run redoes
    exactly the documents whose ledger rows are missing. Vectors are staged before the commit under
    content-addressed ids, so a crash leaves only invisible vectors that the re-run overwrites.
    """
    written: list[Written] = []
    with ctx.patients.transaction() as session:
        for prepared in batch:
            written.append(write_rows(ctx, session, prepared))
        items = [
            (prepared.document_id, chunk) for prepared, w in zip(batch, written, strict=True) for chunk in w.chunks
        ]
        stage_vectors_for(ctx.vectors, PATIENT, items, vectors)
    ctx.vectors.delete(PATIENT, [chunk_id for w in written for chunk_id in w.stale])
    return written


def read_file(ctx: AppContext, path: Path, summary: IngestSummary, seen: set[str]) -> Prepared | None:
    """Check, hash and parse one file. Knowledge files are ingested on the spot; patient documents come back
    prepared for a batched embedding; anything wrong is recorded in the summary as one line."""
    summary.files += 1
    limit = ctx.settings.max_file_bytes
    size = path.stat().st_size
    if size > limit:
        summary.errors.append({"path": str(path), "error": f"{path}: file is {size} bytes, over the "
                               f"{limit}-byte limit (CARETRAIL_MAX_FILE_BYTES)"})
        return None
    if size == 0:
        summary.errors.append({"path": str(path), "error": f"{path}: file is empty (0 bytes)"})
        return None
    if is_knowledge_file(path):
        report = KnowledgeReport()
        ingest_knowledge_file(ctx, path, report)
        summary.errors.extend(report.errors)
        summary.knowledge_documents += report.added + report.replaced
        summary.skipped_unchanged += report.unchanged
        summary.chunks += report.chunks
        return None
    data = path.read_bytes()
    document_id = hashlib.sha256(data).hexdigest()
    if document_id in seen or ctx.patients.is_ingested(document_id):
        summary.skipped_unchanged += 1
        return None
    connector = registry.detect(path, data[:8192])
    if connector is None:
        reason = registry.unrecognized_reason(path, data[:8192])
        summary.errors.append({"path": str(path), "error": f"{path}: {reason}"})
        return None
    try:
        parsed = connector.parse(path, data)
    except ParseError as exc:
        summary.errors.append({"path": str(path), "error": str(exc)})
        return None
    except (RecursionError, MemoryError, ValueError, KeyError, TypeError, IndexError) as exc:
        # A connector bug or a shape it did not foresee: still one line, still the rest goes on.
        summary.errors.append({"path": str(path), "error": f"{path}: could not read ({type(exc).__name__}: {exc})"})
        return None
    seen.add(document_id)
    return prepare(parsed, document_id)


def flush(ctx: AppContext, batch: list[Prepared], summary: IngestSummary) -> None:
    """Embed a batch of documents in one call (the embedder sorts by length, so little padding) and store it
    in one transaction. If the batch fails, each document is retried alone so that one bad document is
    reported and the others still land."""
    vectors = embed_chunks(ctx.embedder, [chunk for prepared in batch for chunk in prepared.chunks])
    try:
        results = list(zip(batch, store_documents(ctx, batch, vectors), strict=True))
    except Exception:  # noqa: BLE001 - rolled back as a whole; find the culprit document by document
        results = []
        position = 0
        for prepared in batch:
            count = len(prepared.chunks)
            embeddings = vectors[position : position + count]
            position += count
            try:
                results.append((prepared, store_documents(ctx, [prepared], embeddings)[0]))
            except Exception as exc:  # noqa: BLE001 - this document rolled back; report it and go on
                path = prepared.parsed.source_path
                summary.errors.append({"path": path, "error": f"{path}: not stored ({type(exc).__name__}: {exc}); "
                                       "nothing of it was kept, re-run to retry"})
    for prepared, written in results:
        summary.documents += 1
        summary.patients += written.patients
        summary.records += len(prepared.parsed.records)
        summary.chunks += len(written.chunks)
    batch.clear()


def ingest_paths(ctx: AppContext, paths: Iterable[Path],
                 on_file: Callable[[Path], None] | None = None) -> IngestSummary:
    summary = IngestSummary()
    batch: list[Prepared] = []
    batch_chunks = 0
    seen: set[str] = set()
    settings = ctx.settings
    for path in iter_files(paths):
        if on_file:
            on_file(path)
        prepared = read_file(ctx, path, summary, seen)
        if prepared is not None:
            batch.append(prepared)
            batch_chunks += len(prepared.chunks)
            if batch_chunks >= settings.ingest_batch_chunks or len(batch) >= settings.ingest_batch_documents:
                flush(ctx, batch, summary)
                batch_chunks = 0
    if batch:
        flush(ctx, batch, summary)
    return summary
