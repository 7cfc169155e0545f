"""Opening a record citation: the stored record, the text a reader sees, and the place in the source file.

Why a reference in ``chunk_id``: a narrative citation opens with ``GET /v1/sources/{chunk_id}`` (the chunk, the
quoted span marked). A record citation opens the same way: its ``chunk_id`` is ``record:<document>/<kind>/<id>``
and ``start``/``end`` are offsets into the text that opening it shows, so the UI's source dialog, the CLI and any
client of the ``caretrail.ask/1`` contract open both kinds with the same call. What opening shows:
- a narrative section (a discharge summary's lines, an allergies list): the section text, offsets as in the source;
- a structured record (an Observation, a MedicationRequest, a C-CDA entry, a claim line): the stored record as
  sorted, indented JSON (what the store holds and the answer's fields were read from), the whole of it marked,
  and beside it the source excerpt itself when the file is still where it was read from with the same content:
  the FHIR resource out of its bundle or NDJSON line, the C-CDA element at its XPath, the claim or message line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.records.tables import RecordTable

RECORD_REF = "record:"
_CDA = {"cda": "urn:hl7-org:v3", "sdtc": "urn:hl7-org:sdtc"}


def record_ref(document_id: str, kind: str, record_id: str | None) -> str:
    return f"{RECORD_REF}{document_id}/{kind}/{record_id or ''}"


def is_record_ref(ref: str) -> bool:
    return ref.startswith(RECORD_REF)


def canonical(payload: dict[str, Any]) -> str:
    """The stored record as a reader sees it opened: sorted keys, indented, stable for the same record."""
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)


def opened_text(payload: dict[str, Any]) -> tuple[str, int]:
    """What opening the record shows, and the source offset its first character has (sections keep theirs)."""
    if payload.get("kind") == "section" and isinstance(payload.get("text"), str):
        return payload["text"], (payload.get("provenance") or {}).get("start") or 0
    return canonical(payload), 0


@dataclass(frozen=True)
class OpenedRecord:
    ref: str
    document_id: str
    kind: str
    record_id: str
    patient_id: str | None
    payload: dict[str, Any]
    text: str
    base: int  # the source offset of text[0]
    source: str | None  # the excerpt of the source file, when it can still be read there
    source_note: str | None  # why there is no excerpt

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def open_record(engine: Engine, ref: str) -> OpenedRecord | None:
    """The record ``ref`` names, or None when the store no longer holds it."""
    document_id, _, rest = ref.removeprefix(RECORD_REF).partition("/")
    kind, _, record_id = rest.partition("/")
    if not document_id or not kind:
        return None
    with Session(engine) as session:
        row = session.execute(
            select(RecordTable.patient_id, RecordTable.payload)
            .where(RecordTable.document_id == document_id, RecordTable.kind == kind,
                   RecordTable.record_id == record_id)
            .order_by(RecordTable.seq)
        ).first()  # fmt: skip
    if row is None:
        return None
    text, base = opened_text(row.payload)
    source, note = source_excerpt(row.payload.get("provenance") or {})
    return OpenedRecord(ref, document_id, kind, record_id, row.patient_id, row.payload, text, base, source, note)


def source_excerpt(provenance: dict[str, Any]) -> tuple[str | None, str | None]:
    """The cited place in the original file, or (None, why not): the file may have moved or changed since."""
    path = Path(str(provenance.get("source_path") or ""))
    try:
        data = path.read_bytes()
    except OSError:
        return None, f"the source file {path} cannot be read here"
    if hashlib.sha256(data).hexdigest() != provenance.get("source_sha256"):
        return None, f"the source file {path} has changed since it was read"
    locator = str(provenance.get("locator") or "")
    fmt = str(provenance.get("format") or "")
    try:
        if locator.startswith("line "):
            number = int(locator.split()[1])
            return data.decode("utf-8", "replace").splitlines()[number - 1], None
        if fmt.startswith("fhir"):
            return _fhir_resource(data, locator), None
        if fmt == "ccda":
            tree = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            found = tree.getroottree().xpath(locator.rsplit(" (line ", 1)[0], namespaces=_CDA)
            if found:
                return etree.tostring(found[0], encoding="unicode"), None
    except (ValueError, IndexError, etree.LxmlError) as exc:
        return None, f"{path} at {locator}: {exc}"
    return None, f"{path} at {locator}: no excerpt for the {fmt} format"


def _fhir_resource(data: bytes, locator: str) -> str | None:
    """The resource a FHIR locator names (``Type/id`` or ``Bundle.entry[i]``) in a bundle or a single resource."""
    document = json.loads(data)
    entries = [e.get("resource") for e in document.get("entry") or [] if isinstance(e, dict)]
    if document.get("resourceType") != "Bundle":
        entries = [document]
    found: Any = None
    if locator.startswith("Bundle.entry["):
        index = int(locator[len("Bundle.entry[") :].split("]")[0])
        found = entries[index] if index < len(entries) else None
    else:
        kind, _, rid = locator.partition("#")[0].partition("/")
        found = next((r for r in entries if isinstance(r, dict) and (r.get("resourceType"), r.get("id")) ==
                      (kind, rid)), None)  # fmt: skip
    return json.dumps(found, indent=2, ensure_ascii=False) if found is not None else None
