"""The panel worklist: open guidance items across many patients, ranked by due date and priority.

Items are stored per patient (``guidance_cache``) with the as-of date and a version of the patient's records
(how many records, and when their newest document was ingested). ``refresh`` recomputes only the patients whose
records changed since, or whose row was computed for another day; the worklist itself is then a query. Ingest and
a nightly ``caretrail guidance refresh`` keep it warm; a worklist call refreshes whatever is stale first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.guidance.engine import run_rules
from assistant.guidance.facts import RosterCache, gather
from assistant.guidance.item import PRIORITIES
from assistant.guidance.tables import GuidanceCacheTable, GuidanceStatusTable
from assistant.records.store import PatientStore
from assistant.records.tables import DocumentTable, RecordTable

_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def record_versions(engine: Engine, patient_ids: list[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    with Session(engine) as session:
        for chunk in _chunks(patient_ids):
            rows = session.execute(
                select(RecordTable.patient_id, func.count(), func.max(DocumentTable.ingested_at))
                .join(DocumentTable, DocumentTable.document_id == RecordTable.document_id)
                .where(RecordTable.patient_id.in_(chunk)).group_by(RecordTable.patient_id)
            )
            versions.update({pid: f"{count}:{latest}" for pid, count, latest in rows})
    return versions


def refresh(store: PatientStore, engine: Engine, roster: RosterCache, patient_ids: list[str], as_of: date) -> int:
    """Recompute the stale patients' items; returns how many were recomputed."""
    versions = record_versions(engine, patient_ids)
    with Session(engine) as session:
        cached: dict[str, tuple[date, str]] = {}
        for chunk in _chunks(patient_ids):
            cached.update({pid: (day, version) for pid, day, version in session.execute(
                select(GuidanceCacheTable.patient_id, GuidanceCacheTable.as_of, GuidanceCacheTable.records_version)
                .where(GuidanceCacheTable.patient_id.in_(chunk)))})
    stale = [pid for pid in patient_ids if cached.get(pid) != (as_of, versions.get(pid, "0:None"))]
    for patient_id in stale:
        items = [i.to_dict() for i in run_rules(gather(store, engine, roster, patient_id, as_of))]
        with Session(engine) as session, session.begin():
            row = session.get(GuidanceCacheTable, patient_id) or GuidanceCacheTable(patient_id=patient_id)
            row.as_of, row.records_version = as_of, versions.get(patient_id, "0:None")
            row.items, row.computed_at = items, datetime.now(UTC)
            session.merge(row)
    return len(stale)


def worklist(engine: Engine, patient_ids: list[str], as_of: date, role: str | None = None,
             limit: int = 100) -> dict[str, Any]:
    """Open items of these patients (``role``: only the items that role owns), soonest and most urgent first."""
    with Session(engine) as session:
        rows: list[tuple[str, list]] = []
        decided: dict[str, str] = {}
        for chunk in _chunks(patient_ids):
            rows.extend(session.execute(select(GuidanceCacheTable.patient_id, GuidanceCacheTable.items).where(
                GuidanceCacheTable.patient_id.in_(chunk), GuidanceCacheTable.as_of == as_of)).all())
            decided.update(session.execute(select(GuidanceStatusTable.item_id, GuidanceStatusTable.status).where(
                GuidanceStatusTable.patient_id.in_(chunk))).all())
    items = [
        {**item, "patient_id": patient_id, "status": decided.get(item["id"], "open")}
        for patient_id, stored in rows for item in stored
        if decided.get(item["id"]) not in ("dismissed", "completed") and (role is None or item["owner_role"] == role)
    ]
    items.sort(key=lambda i: (i["due"] is None, i["due"] or "9999-12-31", PRIORITIES.index(i["priority"]),
                              i["rule"], i["patient_id"]))
    return {"as_of": as_of.isoformat(), "role": role, "total": len(items),
            "counts": dict(sorted(Counter(i["rule"] for i in items).items())), "items": items[:limit]}
