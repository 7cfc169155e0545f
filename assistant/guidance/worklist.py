"""The panel worklist: open guidance items across many patients, ranked by due date and priority.

Items are stored one row per item (``guidance_items``), and each patient's row in ``guidance_computed`` says for
which day and which records version they were computed. Ingest gives every patient it writes a new records
version in the same transaction (``RecordsVersionTable``), so ``refresh`` recomputes exactly the patients whose
records changed, or whose items were computed for another day. The worklist itself is then a query: the database
filters out decided items, ranks by due date and priority, limits, and counts per rule.

Ingest (``services.updates.records_changed``) keeps the worklist warm; a worklist call refreshes whatever is stale
first, so the first call of a new day pays for the day's recomputation.
"""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session

from assistant.guidance.engine import run_rules
from assistant.guidance.facts import RosterCache, gather
from assistant.guidance.item import PRIORITIES
from assistant.guidance.tables import GuidanceComputedTable, GuidanceItemTable, GuidanceStatusTable
from assistant.records import id_lists
from assistant.records.store import PatientStore

_WRITE_BATCH = 200  # patients recomputed per transaction: one commit per batch, not per patient
_CLOSED = ("dismissed", "completed")
_NO_VERSION = ""  # a patient with no records version row (nothing written since versions were kept)


def stale_patients(store: PatientStore, engine: Engine, patient_ids: list[str], as_of: date) -> dict[str, str]:
    """The patients whose stored items are not for this day and their current records; id -> records version."""
    versions = store.records_versions(patient_ids)
    computed: dict[str, tuple[date, str]] = {}
    with Session(engine) as session:
        for chunk in id_lists.chunks(engine, patient_ids):
            computed.update(
                {
                    pid: (day, version)
                    for pid, day, version in session.execute(
                        select(
                            GuidanceComputedTable.patient_id,
                            GuidanceComputedTable.as_of,
                            GuidanceComputedTable.records_version,
                        ).where(id_lists.among(engine, GuidanceComputedTable.patient_id, chunk))
                    )
                }
            )
    return {
        pid: versions.get(pid, _NO_VERSION)
        for pid in patient_ids
        if computed.get(pid) != (as_of, versions.get(pid, _NO_VERSION))
    }


def _item_row(patient_id: str, as_of: date, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "item_id": item["id"],
        "as_of": as_of,
        "rule": item["rule"],
        "owner_role": item["owner_role"],
        "due": date.fromisoformat(item["due"]) if item["due"] else None,
        "priority_rank": PRIORITIES.index(item["priority"]),
        "item": item,
    }


def _store(engine: Engine, as_of: date, computed: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
    """Replace these patients' items and computed rows in one transaction."""
    ids = [pid for pid, _, _ in computed]
    rows = [_item_row(pid, as_of, item) for pid, _, items in computed for item in items]
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.execute(delete(GuidanceItemTable).where(GuidanceItemTable.patient_id.in_(ids)))
        session.execute(delete(GuidanceComputedTable).where(GuidanceComputedTable.patient_id.in_(ids)))
        if rows:
            session.execute(insert(GuidanceItemTable), rows)
        session.execute(
            insert(GuidanceComputedTable),
            [
                {"patient_id": pid, "as_of": as_of, "records_version": version, "computed_at": now}
                for pid, version, _ in computed
            ],
        )


def refresh(store: PatientStore, engine: Engine, roster: RosterCache, patient_ids: list[str], as_of: date) -> int:
    """Recompute the stale patients' items; returns how many were recomputed."""
    stale = stale_patients(store, engine, patient_ids, as_of)
    batch: list[tuple[str, str, list[dict[str, Any]]]] = []
    for patient_id, version in stale.items():
        items = [i.to_dict() for i in run_rules(gather(store, engine, roster, patient_id, as_of))]
        batch.append((patient_id, version, items))
        if len(batch) >= _WRITE_BATCH:
            _store(engine, as_of, batch)
            batch = []
    if batch:
        _store(engine, as_of, batch)
    return len(stale)


def _open_items(engine: Engine, patient_ids: list[str], as_of: date, role: str | None) -> Any:
    """The WHERE clause shared by the ranked page and the counts: these patients, this day, not decided."""
    conditions = [
        id_lists.among(engine, GuidanceItemTable.patient_id, patient_ids),
        GuidanceItemTable.as_of == as_of,
        or_(GuidanceStatusTable.status.is_(None), GuidanceStatusTable.status.not_in(_CLOSED)),
    ]
    if role is not None:
        conditions.append(GuidanceItemTable.owner_role == role)
    return and_(*conditions)


_JOIN_STATUS = GuidanceItemTable.__table__.outerjoin(
    GuidanceStatusTable.__table__, GuidanceStatusTable.item_id == GuidanceItemTable.item_id
)
# Soonest first, undated last, then the most urgent; rule and patient make the order total and stable.
_RANK = (
    GuidanceItemTable.due.is_(None),
    GuidanceItemTable.due,
    GuidanceItemTable.priority_rank,
    GuidanceItemTable.rule,
    GuidanceItemTable.patient_id,
    GuidanceItemTable.item_id,
)


def _rank_key(row: Any) -> tuple:
    return (row.due is None, row.due or date.max, row.priority_rank, row.rule, row.patient_id, row.item_id)


def worklist(
    engine: Engine, patient_ids: list[str], as_of: date, role: str | None = None, limit: int = 100
) -> dict[str, Any]:
    """Open items of these patients (``role``: only the items that role owns), soonest and most urgent first.

    Each chunk of patients gives its own first ``limit`` items; the overall first ``limit`` are among them, so a
    merge of the chunks' pages is exact."""
    pages: list[list[Any]] = []
    counts: Counter[str] = Counter()
    with Session(engine) as session:
        for chunk in id_lists.chunks(engine, patient_ids):
            where = _open_items(engine, chunk, as_of, role)
            pages.append(
                list(
                    session.execute(
                        select(
                            GuidanceItemTable.patient_id,
                            GuidanceItemTable.item_id,
                            GuidanceItemTable.rule,
                            GuidanceItemTable.due,
                            GuidanceItemTable.priority_rank,
                            GuidanceItemTable.item,
                            func.coalesce(GuidanceStatusTable.status, literal_column("'open'")).label("status"),
                        )
                        .select_from(_JOIN_STATUS)
                        .where(where)
                        .order_by(*_RANK)
                        .limit(limit)
                    )
                )
            )
            counts.update(
                dict(
                    session.execute(
                        select(GuidanceItemTable.rule, func.count())
                        .select_from(_JOIN_STATUS)
                        .where(where)
                        .group_by(GuidanceItemTable.rule)
                    ).all()
                )
            )
    ranked = heapq.merge(*pages, key=_rank_key)
    items = [{**row.item, "patient_id": row.patient_id, "status": row.status} for row in islice(ranked, limit)]
    return {
        "as_of": as_of.isoformat(),
        "role": role,
        "total": sum(counts.values()),
        "counts": dict(sorted(counts.items())),
        "items": items,
    }
