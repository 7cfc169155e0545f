"""The open-episode worklist: one stored row per episode, kept fresh, read with one sorted and limited query.

Freshness, cheapest check first:
1. ``catch_up``: the ingest ledger's document count and newest ingest time, against what the episodes last saw.
   When they moved, the patients of the documents ingested since are synced (``episodes.sync``) and their rows
   marked stale; when documents were removed, every patient is. The ADT listener and the CLI ingest also sync at
   once (``assistant.services.updates``); this catches any other way records arrived.
2. ``refresh``: episodes in the requested window whose row is missing, stale, computed for a later date, or past
   its ``valid_until`` get their checklist built again (records read once per patient, knowledge sentences once
   per call).
3. ``query``: the rows, filtered by state in SQL, sorted by the nearest deadline and limited in SQL.

States: ``open`` (not cancelled, not complete, inside the 30-day TCM service period on the as-of date),
``closed`` (every required item done, waived or not applicable, or the service period over), ``cancelled``
(ADT A13), ``all``.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, false, func, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from assistant.records import id_lists
from assistant.records.store import PatientRow, PatientStore
from assistant.records.tables import DocumentTable, RecordTable
from assistant.transitions import actions as item_actions
from assistant.transitions import episodes
from assistant.transitions.checklist import PERIOD_DAYS, Checklist, build_checklist
from assistant.transitions.item import WAITING
from assistant.transitions.knowledge import KnowledgeCites
from assistant.transitions.sources import StoredRecord, read_records
from assistant.transitions.tables import TransitionEpisodeTable, TransitionSummaryTable, TransitionSyncTable
from assistant.transitions.text_lines import as_date

STATES = ("open", "closed", "cancelled", "all")
_CHUNK = 500  # ids per IN (...) list in writes, well under SQLite's bound-parameter limit
PANEL_CHUNK = 30_000  # ids per IN (...) list in the worklist query: SQLite takes 32,766 parameters, psycopg 65,535


def _chunks(ids: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# -- 1. catching up with the ingest ledger ----------------------------------------------------------------------


def catch_up(engine: Engine) -> int | None:
    """Sync the episodes of patients whose documents arrived since the last look; returns how many patients were
    synced (None: every patient, after a removal)."""
    with Session(engine) as session:
        count, latest = session.execute(select(func.count(), func.max(DocumentTable.ingested_at))).one()
        seen = session.get(TransitionSyncTable, 1)
        if seen is not None and seen.documents == count and seen.latest == latest:
            return 0
        patients: set[str] | None = None
        if seen is not None and count >= seen.documents and seen.latest is not None:
            patients = set(
                session.scalars(
                    select(RecordTable.patient_id)
                    .distinct()
                    .join(DocumentTable, DocumentTable.document_id == RecordTable.document_id)
                    .where(DocumentTable.ingested_at > seen.latest, RecordTable.patient_id.is_not(None))
                )
            )
    episodes.sync(engine, patients)
    mark_stale(engine, patients)
    with Session(engine) as session, session.begin():
        row = session.get(TransitionSyncTable, 1) or TransitionSyncTable(id=1)
        row.documents, row.latest = count, latest
        session.merge(row)
    return None if patients is None else len(patients)


def mark_stale(engine: Engine, patient_ids: set[str] | None = None, episode_ids: list[str] | None = None) -> None:
    """Rows of these patients (every row when both are None) are computed again before they are shown."""
    with Session(engine) as session, session.begin():
        if episode_ids is not None:
            for chunk in _chunks(episode_ids):
                session.execute(
                    update(TransitionSummaryTable)
                    .where(TransitionSummaryTable.episode_id.in_(chunk))
                    .values(stale=True)
                )
        elif patient_ids is None:
            session.execute(update(TransitionSummaryTable).values(stale=True))
        else:
            for chunk in _chunks(sorted(patient_ids)):
                session.execute(
                    update(TransitionSummaryTable)
                    .where(TransitionSummaryTable.patient_id.in_(chunk))
                    .values(stale=True)
                )


# -- 2. refreshing rows -----------------------------------------------------------------------------------------


def _window(state: str, as_of: date, table: Any) -> ColumnElement[bool]:
    """Which episodes a state can show on ``as_of`` (columns of the episode or the summary table)."""
    dated = table.discharge_date <= as_of
    period_start = as_of - timedelta(days=PERIOD_DAYS)
    status = table.status if table is TransitionEpisodeTable else table.episode_status
    if state == "open":
        return and_(dated, status == episodes.OPEN, table.discharge_date > period_start)
    if state == "closed":
        return and_(dated, status == episodes.OPEN)
    if state == "cancelled":
        return and_(dated, status == episodes.CANCELLED)
    return dated


def refresh(engine: Engine, store: PatientStore, patient_ids: set[str] | None, as_of: date, state: str = "open") -> int:
    """Compute the rows the worklist for ``state`` on ``as_of`` may show and that are not valid for it."""
    episode = TransitionEpisodeTable
    summary = TransitionSummaryTable
    invalid = or_(
        summary.episode_id.is_(None),
        summary.stale.is_(true()),
        summary.computed_as_of > as_of,
        and_(summary.valid_until.is_not(None), summary.valid_until <= as_of),
    )
    stmt = (
        select(episode.id, episode.patient_id)
        .outerjoin(summary, summary.episode_id == episode.id)
        .where(_window(state, as_of, episode), invalid)
    )
    stale: dict[str, list[str]] = defaultdict(list)
    with Session(engine) as session:  # one query over every episode: on a warm store it returns nothing
        rows = [r for r in session.execute(stmt) if patient_ids is None or r.patient_id in patient_ids]
    for episode_id, patient_id in rows:
        stale[patient_id].append(episode_id)
    if not stale:
        return 0
    cite = KnowledgeCites(engine)
    for chunk in _chunks(sorted(stale), 200):
        records: dict[str, list[StoredRecord]] = defaultdict(list)
        for stored in read_records(engine, set(chunk)):
            records[stored.patient_id].append(stored)
        people = {row.id: row for row in store.list_patients(limit=len(chunk), patient_ids=chunk)}
        histories: dict[str, list[episodes.Episode]] = defaultdict(list)
        for found in episodes.list_episodes(engine, set(chunk)):
            histories[found.patient_id].append(found)
        wanted = {e for pid in chunk for e in stale[pid]}
        done = item_actions.for_episodes(engine, sorted(wanted))
        built = []
        for patient_id in chunk:
            for found in histories[patient_id]:
                if found.id in wanted:
                    built.append(
                        build_checklist(
                            engine,
                            found,
                            as_of,
                            histories[patient_id],
                            records[patient_id],
                            people.get(patient_id),
                            cite,
                            done[found.id],
                        )
                    )
        store_rows(engine, built, records)
    return sum(len(v) for v in stale.values())


def _valid_until(records: list[StoredRecord], as_of: date) -> date | None:
    """The first date after ``as_of`` on which a record of the patient is dated: what is done may change then."""
    later = None
    for stored in records:
        record = stored.record
        for value in (
            getattr(record, name, None)
            for name in ("start", "document_date", "performed", "from_date", "authored_on", "effective", "onset")
        ):
            day = as_date(value)
            if day is not None and day > as_of and (later is None or day < later):
                later = day
    return later


def summary_values(checklist: Checklist, records: list[StoredRecord]) -> dict[str, Any]:
    waiting = [i for i in checklist.items if i.status in WAITING]
    nearest = checklist.next_due()
    episode = checklist.episode
    return {
        "patient_id": episode.patient_id, "discharge_date": episode.discharge_date, "episode_status": episode.status,
        "complete": checklist.complete, "next_due": nearest.due if nearest else None,
        "next_item": nearest.id if nearest else None, "next_text": nearest.text if nearest else None,
        "open_dues": sorted(i.due.isoformat() for i in waiting if i.due is not None), "open_items": len(waiting),
        "complexity": checklist.complexity["level"], "facility": episode.facility,
        "encounter_ids": list(episode.encounter_ids), "missing": checklist.missing,
        "computed_as_of": checklist.as_of, "valid_until": _valid_until(records, checklist.as_of), "stale": False,
        "computed_at": datetime.now(UTC),
    }  # fmt: skip


def store_rows(engine: Engine, built: list[Checklist], records: dict[str, list[StoredRecord]]) -> None:
    with Session(engine) as session, session.begin():
        for checklist in built:
            values = summary_values(checklist, records.get(checklist.episode.patient_id, []))
            row = session.get(TransitionSummaryTable, checklist.episode.id)
            if row is None:
                session.add(TransitionSummaryTable(episode_id=checklist.episode.id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)


# -- 3. the query -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    total: int
    entries: list[dict[str, Any]]


def _state_filter(state: str, as_of: date) -> ColumnElement[bool]:
    summary = TransitionSummaryTable
    period_start = as_of - timedelta(days=PERIOD_DAYS)
    window = _window(state, as_of, summary)
    if state == "open":
        return and_(window, summary.complete.is_(false()))
    if state == "closed":
        return and_(window, or_(summary.complete.is_(true()), summary.discharge_date <= period_start))
    return window


def _order(summary: type[TransitionSummaryTable]) -> list[Any]:
    return [summary.next_due.is_(None), summary.next_due, summary.discharge_date, summary.episode_id]


def _key(row: TransitionSummaryTable) -> tuple[Any, ...]:
    return (row.next_due is None, row.next_due or date.max, row.discharge_date, row.episode_id)


def query(
    engine: Engine, patient_ids: set[str] | None, as_of: date, state: str = "open", limit: int = 100, offset: int = 0
) -> Page:
    """The rows for ``state`` on ``as_of``, nearest deadline first, ``limit`` of them from ``offset``."""
    summary = TransitionSummaryTable
    where = _state_filter(state, as_of)
    with Session(engine) as session:
        if patient_ids is None:
            total = session.scalar(select(func.count()).select_from(summary).where(where)) or 0
            rows = list(
                session.scalars(select(summary).where(where).order_by(*_order(summary)).offset(offset).limit(limit))
            )
        else:
            chunks = list(id_lists.chunks(engine, sorted(patient_ids), PANEL_CHUNK))
            # One list (always on PostgreSQL): the page is cut in SQL. Several: each chunk's first offset + limit
            # rows, merged, hold the page.
            skip, take = (offset, limit) if len(chunks) == 1 else (0, offset + limit)
            total, parts = 0, []
            for chunk in chunks:
                scoped = and_(where, id_lists.among(engine, summary.patient_id, chunk))
                total += session.scalar(select(func.count()).select_from(summary).where(scoped)) or 0
                parts.append(list(session.scalars(select(summary).where(scoped).order_by(*_order(summary))
                                                  .offset(skip).limit(take))))  # fmt: skip
            rows = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=_key))[offset : offset + limit]
    return Page(total, [_entry(row, as_of) for row in rows])


def _state(row: TransitionSummaryTable, as_of: date) -> str:
    if row.episode_status == episodes.CANCELLED:
        return "cancelled"
    if row.complete or as_of >= row.discharge_date + timedelta(days=PERIOD_DAYS):
        return "closed"
    return "open"


def _entry(row: TransitionSummaryTable, as_of: date) -> dict[str, Any]:
    today = as_of.isoformat()
    return {
        "episode_id": row.episode_id, "patient_id": row.patient_id, "discharge_date": row.discharge_date.isoformat(),
        "facility": row.facility, "encounter_ids": list(row.encounter_ids or []), "status": _state(row, as_of),
        "complete": row.complete, "complexity": row.complexity,
        "next_due": row.next_due.isoformat() if row.next_due else None, "next_item": row.next_item,
        "next_text": row.next_text, "open_items": row.open_items,
        "overdue_items": sum(1 for due in row.open_dues or [] if due < today), "missing": list(row.missing or []),
    }  # fmt: skip


def name_entries(entries: list[dict[str, Any]], people: list[PatientRow]) -> None:
    by_id = {person.id: person for person in people}
    for entry in entries:
        person = by_id.get(entry["patient_id"])
        entry["name"] = person.name if person else None
        entry["mbi"] = person.mbi if person else None
