"""Records an EHR sent (prefetch) or let us fetch, into the patient store through the normal ingest pipeline.

How identical data is not ingested again on every hook call: the resources become one FHIR Bundle in a canonical
form (entries sorted by type and id, keys sorted, no whitespace), so the same records give the same bytes
whatever order the EHR listed them in and whether they were prefetched or fetched. The Bundle is written to one
file per EHR and patient (``<data dir>/ehr/<ehr>/Patient-<id>.json``) and ingested with ``ingest_paths``, whose
ledger is keyed by the content hash: unchanged records are recognised from the hash alone before anything is
parsed (no file write, no ingest), and changed records replace the previous version of the same file in one
transaction (the pipeline drops a file's earlier document when its contents change), so the store holds the
EHR's latest view of the chart, never two overlapping copies. The file is also the record of what the EHR sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import BadRequest
from assistant.ingest.pipeline import IngestDeps, ingest_paths
from assistant.records.model import ParsedDocument
from connectors import fhir

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass
class Stored:
    document_id: str
    ingested: bool  # False: the same records were already in the store
    patient_ids: set[str] = field(default_factory=set)  # store patients this ingest wrote


def canonical_bundle(resources: list[dict[str, Any]]) -> bytes:
    ordered = sorted(
        resources, key=lambda r: (r["resourceType"], str(r.get("id") or ""), json.dumps(r, sort_keys=True))
    )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in ordered]}
    return json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def bundle_path(data_dir: Path, ehr: str, patient_id: str) -> Path:
    if not NAME.match(ehr):
        raise RuntimeError(f"CARETRAIL_EHR_SYSTEMS: name {ehr[:64]!r} must be letters, digits, - and _")
    return data_dir / "ehr" / ehr / f"Patient-{patient_id}.json"


def parse(path: Path, data: bytes) -> ParsedDocument:
    """What the FHIR connector reads from these bytes (used to check the panel before anything is stored)."""
    return fhir.parse(path, data)


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


def store(deps: IngestDeps, path: Path, data: bytes, label: str) -> Stored:
    """Write and ingest the bundle unless the store already holds exactly these bytes. Errors name ``label`` (the
    EHR and patient), not the server's file path."""
    document_id = hashlib.sha256(data).hexdigest()
    if deps.patients.is_ingested(document_id):
        return Stored(document_id, False)
    with _lock(path):
        if deps.patients.is_ingested(document_id):  # another request for the same patient just stored it
            return Stored(document_id, False)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        summary = ingest_paths(deps, [path])
    if summary.errors and not deps.patients.is_ingested(document_id):
        message = summary.errors[0]["error"].replace(str(path), label)
        raise BadRequest(message)
    return Stored(document_id, True, set(summary.patient_ids))
