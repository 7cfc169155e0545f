"""Transition episodes: one per patient and discharge, opened, updated or cancelled from the records.

What opens or updates an episode (all read from the patient store, whatever door the record came through):
- an HL7 v2 ADT A03 (discharge), from a file or the MLLP listener; an A03 for a patient the store did not know
  has already created the patient (a stub, through the MPI) at ingest, so it opens an episode like any other;
- a FHIR Encounter with ``period.end`` and a discharge disposition, or of class inpatient or observation;
- a C-CDA Discharge Summary: its encompassing encounter (``effectiveTime/high`` is the discharge), or, when the
  document has no encounter end, the document's own date (the episode's sources say so).
An ADT A13 (cancel discharge) for the same visit cancels the episode and keeps the A13 as evidence; a later A03
for that visit opens it again.

Why one episode per patient and discharge date (or the same source encounter id): the same stay arrives as an
A03, a discharge summary and a FHIR Encounter with three different encounter ids; a resent A03 must not open a
second one. Events are applied in ingest order, so a message's effect follows the order the feed sent it in.
``sync`` rebuilds the rows from the records every time (idempotent); an episode keeps the id its first source
gave it and the time Caretrail first saw it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.records.model import DocumentSection, Encounter
from assistant.transitions.sources import StoredRecord, read_records, record_citation
from assistant.transitions.tables import TransitionEpisodeTable

OPEN = "open"
CANCELLED = "cancelled"
HL7_DISCHARGE = "A03"
HL7_CANCEL_DISCHARGE = "A13"
FHIR_DISCHARGE_CLASSES = {"inpatient", "observation"}
DISCHARGE_SUMMARY = "discharge_summary"


@dataclass(frozen=True)
class Episode:
    """One discharge of one patient, as the records describe it."""

    id: str
    patient_id: str
    discharge_date: date
    discharged_at: str | None
    admitted_on: date | None
    encounter_class: str | None
    facility: str | None
    disposition: str | None
    status: str
    encounter_ids: list[str]
    sources: list[dict[str, Any]]
    cancelled_by: dict[str, Any] | None
    opened_at: datetime | None = None

    @property
    def encounter_id(self) -> str | None:
        """The first encounter id a source gave this discharge (what ``--encounter`` matches first)."""
        return self.encounter_ids[0] if self.encounter_ids else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "episode_id": self.id, "patient_id": self.patient_id, "discharge_date": self.discharge_date.isoformat(),
            "discharged_at": self.discharged_at, "admitted_on": self.admitted_on.isoformat() if self.admitted_on
            else None, "encounter_class": self.encounter_class, "facility": self.facility,
            "disposition": self.disposition, "status": self.status, "encounter_ids": list(self.encounter_ids),
            "sources": list(self.sources), "cancelled_by": self.cancelled_by,
        }  # fmt: skip


@dataclass(frozen=True)
class DischargeEvent:
    """What one record says about a discharge: it happened (``discharge``) or it was cancelled (``cancel``)."""

    kind: str  # "discharge" | "cancel"
    patient_id: str
    encounter_key: str  # the source's encounter id, scoped by format: ids from two systems never collide
    encounter_id: str
    discharge_date: date | None
    discharged_at: str | None
    admitted_on: date | None
    encounter_class: str | None
    facility: str | None
    disposition: str | None
    source: dict[str, Any]


def _hl7_event(encounter: Encounter) -> str | None:
    if encounter.type is not None and encounter.type.system == "hl7-event":
        return encounter.type.code
    return None


def _is_encompassing(encounter: Encounter) -> bool:
    locator = encounter.provenance.locator
    return "cda:encompassingEncounter" in locator and "cda:entry" not in locator


def _event(
    stored: StoredRecord,
    kind: str,
    discharged: datetime | date | None,
    note: str | None = None,
    encounter: Encounter | None = None,
    encounter_id: str | None = None,
) -> DischargeEvent:
    source = {**record_citation(stored), "event": kind}
    if note:
        source["note"] = note
    fmt = stored.record.provenance.format
    if encounter is not None:
        encounter_id = encounter.id
        event_name = _hl7_event(encounter)
        if event_name:
            source["event"] = f"{kind} ({event_name})"
    at = discharged.isoformat() if isinstance(discharged, datetime) else None
    day = discharged.date() if isinstance(discharged, datetime) else discharged
    return DischargeEvent(
        kind=kind, patient_id=stored.patient_id, encounter_key=f"{fmt}:{encounter_id}", encounter_id=str(encounter_id),
        discharge_date=day, discharged_at=at,
        admitted_on=encounter.start.date() if encounter is not None and encounter.start else None,
        encounter_class=encounter.encounter_class if encounter is not None else None,
        facility=encounter.facility if encounter is not None else None,
        disposition=encounter.discharge_disposition if encounter is not None else None, source=source,
    )  # fmt: skip


def discharge_events(records: list[StoredRecord]) -> list[DischargeEvent]:
    """Every discharge and cancelled discharge the records show, in ingest order."""
    summaries: dict[str, StoredRecord] = {}  # ledger document id -> its first discharge-summary section
    for stored in records:
        record = stored.record
        if isinstance(record, DocumentSection) and record.document_type == DISCHARGE_SUMMARY:
            summaries.setdefault(stored.document_id, stored)
    events: list[DischargeEvent] = []
    dated_summaries: set[str] = set()
    for stored in records:
        encounter = stored.record
        if not isinstance(encounter, Encounter):
            continue
        fmt = encounter.provenance.format
        if fmt == "hl7v2":
            name = _hl7_event(encounter)
            if name == HL7_DISCHARGE and encounter.end is not None:
                events.append(_event(stored, "discharge", encounter.end, encounter=encounter))
            elif name == HL7_CANCEL_DISCHARGE:
                events.append(_event(stored, "cancel", encounter.end, encounter=encounter))
        elif fmt.startswith("fhir"):
            status = getattr(encounter, "status", None)  # FHIR Encounter.status, where the record keeps it
            if status not in (None, "finished"):
                continue  # planned, in progress, cancelled or entered in error: no discharge happened
            if encounter.end is not None and (
                encounter.discharge_disposition or encounter.encounter_class in FHIR_DISCHARGE_CLASSES
            ):
                events.append(_event(stored, "discharge", encounter.end, encounter=encounter))
        elif fmt == "ccda" and stored.document_id in summaries and _is_encompassing(encounter):
            if encounter.end is not None:
                events.append(_event(stored, "discharge", encounter.end, encounter=encounter))
                dated_summaries.add(stored.document_id)
    for document_id, stored in summaries.items():
        section = stored.record
        assert isinstance(section, DocumentSection)
        if document_id in dated_summaries or section.provenance.format != "ccda" or section.document_date is None:
            continue
        events.append(
            _event(
                stored,
                "discharge",
                section.document_date,
                note="the discharge summary names no discharge time; its document date is used",
                encounter_id=section.document_id,
            )
        )
    return events


@dataclass
class _Draft:
    first: DischargeEvent
    latest: DischargeEvent
    status: str = OPEN
    keys: list[str] = field(default_factory=list)
    encounter_ids: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    cancelled_by: dict[str, Any] | None = None
    discharge_date: date | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        seed = f"{self.first.patient_id}|{self.first.encounter_key}|{self.first.discharge_date}"
        return "tx-" + hashlib.sha256(seed.encode()).hexdigest()[:24]

    def add(self, event: DischargeEvent) -> None:
        if event.encounter_key not in self.keys:
            self.keys.append(event.encounter_key)
        if event.encounter_id not in self.encounter_ids:
            self.encounter_ids.append(event.encounter_id)
        self.sources.append(event.source)
        if event.kind == "cancel":
            self.status, self.cancelled_by = CANCELLED, event.source
            return
        self.status, self.cancelled_by = OPEN, None  # a discharge after an A13 opens the episode again
        if event.encounter_key == self.latest.encounter_key:
            self.discharge_date = event.discharge_date  # a resent A03 may correct the time
        self.latest = event
        for name in ("discharged_at", "admitted_on", "encounter_class", "facility", "disposition"):
            # The ADT feed and FHIR describe the stay itself; a document header only fills what they left out.
            value = getattr(event, name)
            if value is not None and (self.details.get(name) is None or event.source["format"] != "ccda"):
                self.details[name] = value


def _group(events: list[DischargeEvent]) -> list[_Draft]:
    drafts: list[_Draft] = []
    for event in events:
        mine = [d for d in drafts if d.first.patient_id == event.patient_id]
        target = next((d for d in reversed(mine) if event.encounter_key in d.keys), None)
        if target is None and event.kind == "discharge":
            target = next((d for d in reversed(mine) if d.discharge_date == event.discharge_date), None)
        if target is None and event.kind == "cancel" and event.discharge_date is not None:
            target = next((d for d in reversed(mine) if d.discharge_date == event.discharge_date), None)
        if target is None:
            if event.kind == "cancel" or event.discharge_date is None:
                continue  # an A13 for a discharge we never saw cancels nothing
            target = _Draft(first=event, latest=event, discharge_date=event.discharge_date)
            drafts.append(target)
        target.add(event)
    return drafts


def _episode(row: TransitionEpisodeTable) -> Episode:
    return Episode(
        id=row.id, patient_id=row.patient_id, discharge_date=row.discharge_date, discharged_at=row.discharged_at,
        admitted_on=row.admitted_on, encounter_class=row.encounter_class, facility=row.facility,
        disposition=row.disposition, status=row.status, encounter_ids=list(row.encounter_ids or []),
        sources=list(row.sources or []), cancelled_by=row.cancelled_by, opened_at=row.opened_at,
    )  # fmt: skip


def _write(engine: Engine, drafts: list[_Draft], patient_ids: set[str] | None) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        query = select(TransitionEpisodeTable)
        if patient_ids is not None:
            query = query.where(TransitionEpisodeTable.patient_id.in_(sorted(patient_ids)))
        existing = {row.id: row for row in session.scalars(query)}
        for draft in drafts:
            assert draft.discharge_date is not None
            values = {
                "patient_id": draft.first.patient_id, "discharge_date": draft.discharge_date,
                "discharged_at": draft.details.get("discharged_at"), "admitted_on": draft.details.get("admitted_on"),
                "encounter_class": draft.details.get("encounter_class"), "facility": draft.details.get("facility"),
                "disposition": draft.details.get("disposition"), "status": draft.status,
                "encounter_ids": draft.encounter_ids, "sources": draft.sources, "cancelled_by": draft.cancelled_by,
            }  # fmt: skip
            row = existing.pop(draft.id, None)
            if row is None:
                session.add(TransitionEpisodeTable(id=draft.id, opened_at=now, updated_at=now, **values))
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now
        if existing:  # their records are gone (a document replaced or deleted): so is the episode
            session.execute(delete(TransitionEpisodeTable).where(TransitionEpisodeTable.id.in_(sorted(existing))))


def sync(engine: Engine, patient_ids: set[str] | None = None) -> None:
    """Open, update or cancel the episodes of these patients (every patient when None) from their records.

    Idempotent: a second run with the same records changes nothing. Two runs racing to open the same episode
    both derive the same row; the loser's insert fails on the primary key and it simply runs again.
    """
    records = read_records(engine, patient_ids, {"encounter", "section"}, formats={"section": {"ccda"}})
    drafts = _group(discharge_events(records))
    try:
        _write(engine, drafts, patient_ids)
    except IntegrityError:
        _write(engine, drafts, patient_ids)


def list_episodes(engine: Engine, patient_ids: set[str] | None = None) -> list[Episode]:
    """Episodes of these patients (every patient when None), latest discharge first."""
    query = select(TransitionEpisodeTable).order_by(
        TransitionEpisodeTable.discharge_date.desc(), TransitionEpisodeTable.id
    )
    if patient_ids is not None:
        query = query.where(TransitionEpisodeTable.patient_id.in_(sorted(patient_ids)))
    with Session(engine) as session:
        return [_episode(row) for row in session.scalars(query)]


def get_episode(engine: Engine, episode_id: str) -> Episode | None:
    with Session(engine) as session:
        row = session.get(TransitionEpisodeTable, episode_id)
        return _episode(row) if row is not None else None
