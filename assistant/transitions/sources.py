"""Reading a patient's records together with where they were stored, and citing them.

Why not ``PatientStore.patient_records``: a checklist item must name the stored document it came from (the
ledger's document id) and, for narrative, the index chunk a reader can open with ``/v1/sources/{chunk_id}``;
the store's reader returns the records alone. Knowledge citations live in ``assistant.transitions.knowledge``.
Reads only: nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.index.tables import ChunkRow
from assistant.records.model import Patient, Record
from assistant.records.tables import DocumentTable, RecordTable

_RECORD: TypeAdapter[Record] = TypeAdapter(Record)


@dataclass(frozen=True)
class StoredRecord:
    """One record and its place in the store: the ledger document and its position there."""

    document_id: str
    seq: int
    patient_id: str
    record: Record
    ingested_at: datetime


def read_records(
    engine: Engine,
    patient_ids: set[str] | None,
    kinds: set[str] | None = None,
    formats: dict[str, set[str]] | None = None,
) -> list[StoredRecord]:
    """Records of these patients (every patient when None), in the order they were ingested.

    ``formats`` narrows a kind to documents of some formats (``{"section": {"ccda"}}``), so a scan of every
    patient for discharges does not read every note's text."""
    stmt = (
        select(
            RecordTable.document_id,
            RecordTable.seq,
            RecordTable.patient_id,
            RecordTable.payload,
            DocumentTable.ingested_at,
        )
        .join(DocumentTable, DocumentTable.document_id == RecordTable.document_id)
        .where(RecordTable.kind != "patient", RecordTable.patient_id.is_not(None))
        .order_by(DocumentTable.ingested_at, RecordTable.document_id, RecordTable.seq)
    )
    if patient_ids is not None:
        stmt = stmt.where(RecordTable.patient_id.in_(sorted(patient_ids)))
    if kinds is not None:
        stmt = stmt.where(RecordTable.kind.in_(sorted(kinds)))
    for kind, allowed in (formats or {}).items():
        stmt = stmt.where((RecordTable.kind != kind) | DocumentTable.format.in_(sorted(allowed)))
    with Session(engine) as session:
        return [
            StoredRecord(
                row.document_id, row.seq, row.patient_id, _RECORD.validate_python(row.payload), row.ingested_at
            )
            for row in session.execute(stmt)
        ]


def read_patient_records(engine: Engine, patient_id: str) -> list[StoredRecord]:
    return read_records(engine, {patient_id})


def read_patient_entries(engine: Engine, patient_id: str) -> list[StoredRecord]:
    """Each source document's own Patient entry for this patient (what a preferred language is cited to)."""
    stmt = (
        select(RecordTable.document_id, RecordTable.seq, RecordTable.payload, DocumentTable.ingested_at)
        .join(DocumentTable, DocumentTable.document_id == RecordTable.document_id)
        .where(RecordTable.kind == "patient", RecordTable.patient_id == patient_id)
        .order_by(DocumentTable.ingested_at, RecordTable.document_id, RecordTable.seq)
    )
    with Session(engine) as session:
        return [
            StoredRecord(
                row.document_id,
                row.seq,
                patient_id,
                Patient.model_validate(row.payload),  # type: ignore[arg-type]
                row.ingested_at,
            )
            for row in session.execute(stmt)
        ]


def record_citation(
    stored: StoredRecord,
    start: int | None = None,
    end: int | None = None,
    quote: str | None = None,
    chunk_id: str | None = None,
) -> dict[str, Any]:
    """Enough to open the record again: the stored document, the source file, the locator and offsets.

    ``start``/``end`` default to the record's own offsets; for a line inside a narrative section they are the
    line's offsets in the decoded source (the section's start plus the line's place in the section text).
    """
    provenance = stored.record.provenance
    citation: dict[str, Any] = {
        "type": "record",
        "document_id": stored.document_id,
        "record_id": getattr(stored.record, "id", None),
        "kind": stored.record.kind,
        "source_path": provenance.source_path,
        "format": provenance.format,
        "locator": provenance.locator,
        "start": provenance.start if start is None else start,
        "end": provenance.end if end is None else end,
    }
    if quote is not None:
        citation["quote"] = quote
    if chunk_id is not None:
        citation["chunk_id"] = chunk_id
    return citation


class PatientChunks:
    """The index chunks of one patient's documents, read once: which chunk holds a cited line.

    Why read once: a checklist cites tens of lines; a query per line (a connection, a round trip) cost more than
    building the checklist on PostgreSQL. Only the columns that place a chunk are read, never its text or vectors.
    """

    def __init__(self, engine: Engine, patient_id: str) -> None:
        self.engine = engine
        self.patient_id = patient_id
        self._rows: dict[tuple[str, str], list[tuple[int, int, str]]] | None = None

    def _load(self) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
        if self._rows is None:
            found: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
            with Session(self.engine) as session:
                rows = session.execute(
                    select(ChunkRow.document_key, ChunkRow.source_uri, ChunkRow.start, ChunkRow.end, ChunkRow.chunk_id)
                    .where(ChunkRow.collection == "patient", ChunkRow.patient_id == self.patient_id)
                    .order_by(ChunkRow.start)
                )
                for row in rows:
                    found.setdefault((row.document_key, row.source_uri), []).append((row.start, row.end, row.chunk_id))
            self._rows = found
        return self._rows

    def at(self, stored: StoredRecord, start: int, end: int) -> str | None:
        """The chunk of this section record that holds ``start``-``end`` (source offsets), if it was indexed."""
        provenance = stored.record.provenance
        rows = self._load().get((stored.document_id, f"{provenance.source_path}#{provenance.locator}"), [])
        for first, last, chunk_id in rows:
            if first <= start and end <= last:
                return chunk_id
        for first, last, chunk_id in rows:  # a line split across two chunks: the chunk where it starts
            if first <= start < last:
                return chunk_id
        return None
