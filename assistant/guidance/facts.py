"""Everything the rules read about one patient, gathered once: records, this year's measure results, the
claims-based estimates, transition episodes, and the as-of date every due date is computed from.

Also each source's own Patient entry (a preferred language is cited to the entry that states it), the engine (the
transitions engine reads episodes through it) and the roster audit's findings for this patient. The roster audit
compares every patient with every other (duplicates), so it runs once per store version and as-of date and is
shared by every patient's rules: a panel worklist costs one audit, not one per patient.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.measures.common import PatientData
from assistant.measures.engine import MEASURES, evaluate
from assistant.measures.estimates import Estimates, estimate
from assistant.measures.period import calendar_year
from assistant.measures.results import MeasureResult
from assistant.records.model import Patient
from assistant.records.roster import Finding, audit
from assistant.records.store import PatientRow, PatientStore, effective_time
from assistant.records.tables import DocumentTable, MpiLinkTable, PatientTable


@dataclass(frozen=True)
class PatientFacts:
    patient: PatientRow
    as_of: date
    records: list[Any]
    measures: dict[str, MeasureResult]
    estimates: Estimates
    cite: Callable[[str, str], dict[str, Any]]  # (knowledge doc id, sentence) -> citation
    sources: tuple[Patient, ...] = ()  # each source document's own Patient entry for this patient
    engine: Engine | None = None  # for rules that read through another engine (transition episodes)
    roster: Callable[[], list[Finding]] | None = None  # the roster audit's findings naming this patient
    data: PatientData | None = None  # the records sorted by kind, as the measures read them

    def of_kind(self, kind: str) -> list[Any]:
        return [r for r in self.records if r.kind == kind]


def gather(store: PatientStore, engine: Engine, roster: RosterCache, patient_id: str, as_of: date) -> PatientFacts:
    from assistant.guidance.citations import knowledge_span

    patient = store.get_patient(patient_id)
    if patient is None:
        raise KeyError(f"no patient {patient_id!r}")
    records = [r for r in store.patient_records(patient_id) if _on_or_before(r, as_of)]
    data = PatientData.from_records(patient_id, patient.birth_date, records)
    period = calendar_year(as_of)
    results = {measure: evaluate(measure, data, period) for measure in MEASURES}
    estimates = estimate(patient_id, records, patient.birth_date, as_of)
    sources = tuple(entry for _document, entry in store.patient_sources(patient_id))
    return PatientFacts(patient, as_of, records, results, estimates, lambda doc, s: knowledge_span(engine, doc, s),
                        sources=sources, engine=engine, data=data,
                        roster=lambda: roster_findings(roster, store, patient_id, as_of))


@dataclass
class RosterCache:
    """The last roster audit and the store version it was run on: one audit serves a whole panel's guidance. Owned
    by the application context (one per data dir), never by the module."""

    key: tuple[Any, ...] | None = None
    findings: list[Finding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store_version(store: PatientStore) -> tuple[Any, ...]:
    """Changes whenever a document, a patient or an MPI link is added, replaced or removed (cheap counts)."""
    with Session(store.engine) as session:
        documents, latest = session.execute(select(func.count(), func.max(DocumentTable.ingested_at))).one()
        patients = session.scalar(select(func.count()).select_from(PatientTable))
        links = session.scalar(select(func.count()).select_from(MpiLinkTable))
    return (documents, latest, patients, links)


def roster_findings(cache: RosterCache, store: PatientStore, patient_id: str, as_of: date) -> list[Finding]:
    """The roster audit's findings that name this patient; the audit runs again only when the store changed."""
    key = (as_of, *_store_version(store))
    with cache.lock:
        if cache.key != key:
            cache.findings, cache.key = audit(store, as_of).findings, key
        findings = cache.findings
    return [f for f in findings if patient_id in f.patients]


def _on_or_before(record: Any, as_of: date) -> bool:
    """Guidance as of a date sees only what had happened by then, so a replayed date gives the same answer."""
    when = effective_time(record)
    return when is None or when.date() <= as_of
