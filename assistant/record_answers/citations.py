"""Citations of structured records, in the ``caretrail.ask/1`` citation shape, and the check that they still hold.

A record citation is the transitions engine's ``record_citation`` (the stored document, the record id, its kind,
the source file, format and locator: enough to open the FHIR resource, the C-CDA entry or the claim line) plus what
the sentence quotes from it:
- a structured record quotes its fields: ``fields`` maps a path into the stored record (``value``, ``unit``,
  ``components[0].value``) to the value stored there, and ``quote`` is those fields written out;
- a line of a narrative section (a discharge summary's "Pending results", an allergies list) quotes the exact span,
  with its source offsets (``start``/``end``) and, when the patient's notes are indexed, the chunk that holds it.

``check_citations`` re-reads every cited record from the store before an answer is shown, as the narrative
answer's citation verifier re-reads every cited chunk: the record must still be there, belong to the patient the
answer is about, and still say exactly what is quoted. A sentence with a citation that fails is dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.record_answers.opening import opened_text, record_ref
from assistant.records.tables import RecordTable
from assistant.transitions.sources import StoredRecord, record_citation

_STEP = re.compile(r"([A-Za-z_]+)(?:\[(\d+)\])?")
_MISSING = object()


def value_at(payload: Any, path: str) -> Any:
    """The value at ``path`` (``code.display``, ``components[0].value``) in a stored record's JSON, or None."""
    current = payload
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None or not isinstance(current, dict):
            return None
        current = current.get(match.group(1), _MISSING)
        if current is _MISSING:
            return None
        if match.group(2) is not None:
            index = int(match.group(2))
            if not isinstance(current, list) or index >= len(current):
                return None
            current = current[index]
    return current


def shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def resource_type(stored: StoredRecord) -> str:
    """What the citation opens, named as the source names it: a FHIR resource type, a C-CDA entry, a claim line."""
    record = stored.record
    provenance = record.provenance
    explicit = getattr(record, "resource_type", None)
    if provenance.format.startswith("fhir"):
        head = provenance.locator.split("/", 1)[0]
        return explicit or (head if head and head[0].isupper() and "/" in provenance.locator else record.kind)
    if provenance.format == "ccda":
        return "C-CDA section" if record.kind == "section" else "C-CDA entry"
    if provenance.format == "cclf":
        return f"{getattr(record, 'file_type', 'CCLF')} claim line" if record.kind == "claim" else "CCLF line"
    if provenance.format == "hl7v2":
        return "HL7 v2 message"
    return record.kind


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cite_fields(stored: StoredRecord, paths: Iterable[str]) -> dict[str, Any]:
    """Cite a structured record by the fields a sentence states, each read back from the stored record itself.

    ``start``/``end`` span the whole of what opening the record shows (``opening.opened_text``)."""
    payload = stored.record.model_dump(mode="json")
    fields = {path: value for path in paths if (value := value_at(payload, path)) not in (None, "", [])}
    text, _base = opened_text(payload)
    citation = record_citation(stored, 0, len(text))
    citation["opened_sha256"] = _sha256(text)
    citation["fields"] = fields
    citation["quote"] = "; ".join(f"{path}: {shown(value)}" for path, value in fields.items())
    citation["resource_type"] = resource_type(stored)
    return citation


def cite_span(stored: StoredRecord, start: int, end: int, quote: str, chunk_id: str | None) -> dict[str, Any]:
    """Cite the exact span of a narrative section (source offsets), and the index chunk that holds it."""
    citation = record_citation(stored, start, end, quote=quote, chunk_id=chunk_id)
    citation["opened_sha256"] = _sha256(opened_text(stored.record.model_dump(mode="json"))[0])
    citation["resource_type"] = resource_type(stored)
    return citation


def as_ask_citation(n: int, citation: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The record citation with the keys every ``caretrail.ask/1`` citation has (``doc_id``, ``title``, ``section``,
    ``sha256`` of the quote, ``source_uri``, ``chunk_id``...), so a reader of the contract needs no second shape."""
    quote = citation.get("quote") or ""
    ref = record_ref(citation["document_id"], citation["kind"], citation.get("record_id"))
    return {
        "n": n,
        "type": "record",
        "doc_id": citation["document_id"],
        "title": f"{citation.get('resource_type') or citation['kind']} {citation.get('record_id') or ''}".strip(),
        "section": citation["locator"],
        "start": citation.get("start"),
        "end": citation.get("end"),
        "sha256": _sha256(quote),
        "quote": quote,
        "source_uri": f"{citation['source_path']}#{citation['locator']}",
        "chunk_id": ref,  # opens with GET /v1/sources/{chunk_id}, as a narrative citation does
        "chunk_sha256": citation.get("opened_sha256"),
        "index_chunk_id": citation.get("chunk_id"),  # the patient index chunk holding a cited line, if indexed
        "patient_id": patient_id,
        "source_urls": [],
        "document_id": citation["document_id"],
        "record_id": citation.get("record_id"),
        "kind": citation["kind"],
        "resource_type": citation.get("resource_type") or citation["kind"],
        "source_path": citation["source_path"],
        "format": citation["format"],
        "locator": citation["locator"],
        "fields": dict(citation.get("fields") or {}),
    }


def stored_payloads(engine: Engine, document_id: str, record_id: str | None) -> list[tuple[str | None, dict]]:
    """``(patient_id, payload)`` of the stored records with this document and record id."""
    with Session(engine) as session:
        rows = session.execute(
            select(RecordTable.patient_id, RecordTable.payload).where(
                RecordTable.document_id == document_id, RecordTable.record_id == (record_id or "")
            )
        ).all()
    return [(row.patient_id, row.payload) for row in rows]


def check_citation(engine: Engine, patient_id: str, citation: dict[str, Any]) -> str | None:
    """None when the cited record is still stored for this patient and says what is quoted; else why not."""
    stored = stored_payloads(engine, citation["document_id"], citation.get("record_id"))
    found = [
        payload for _owner, payload in stored if (payload.get("provenance") or {}).get("locator") == citation["locator"]
    ]
    if not found:
        return "the cited record is no longer in the store"
    if {owner for owner, _payload in stored} != {patient_id}:
        return "the cited record belongs to another patient"
    payload = found[0]
    opened = citation.get("chunk_sha256") or citation.get("opened_sha256")
    if opened and _sha256(opened_text(payload)[0]) != opened:
        return "the record has changed since it was read"
    fields = citation.get("fields") or {}
    for path, value in fields.items():
        if value_at(payload, path) != value:
            return f"the record no longer says {path}: {shown(value)}"
    if not fields and citation.get("quote"):
        text = payload.get("text")
        base = (payload.get("provenance") or {}).get("start") or 0
        start, end = citation.get("start"), citation.get("end")
        if not isinstance(text, str) or start is None or end is None:
            return "the quote has no place in a section text"
        if text[start - base : end - base] != citation["quote"]:
            return "the quote differs from the section text at its offsets"
    return None


def check_sentences(
    engine: Engine, patient_id: str, sentences: list[dict[str, Any]], citations: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split sentences into (kept, dropped): a sentence is kept only when every one of its citations checks."""
    by_number = {c["n"]: c for c in citations}
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for sentence in sentences:
        numbers = sentence.get("citations") or []
        failure = None if numbers else "no citation"
        for number in numbers:
            citation = by_number.get(number)
            reason = "does not exist" if citation is None else check_citation(engine, patient_id, citation)
            if reason:
                failure = f"citation [{number}]: {reason}"
                break
        if failure:
            dropped.append({**sentence, "reason": failure})
        else:
            kept.append(sentence)
    return kept, dropped
