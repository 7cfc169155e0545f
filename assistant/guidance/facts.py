"""Everything the rules read about one patient, gathered once: records, this year's measure results, the
claims-based estimates, transition episodes, and the as-of date every due date is computed from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from assistant.measures.common import PatientData
from assistant.measures.engine import MEASURES, evaluate
from assistant.measures.estimates import Estimates, estimate
from assistant.measures.period import calendar_year
from assistant.measures.results import MeasureResult
from assistant.records.store import PatientRow, PatientStore


@dataclass(frozen=True)
class PatientFacts:
    patient: PatientRow
    as_of: date
    records: list[Any]
    measures: dict[str, MeasureResult]
    estimates: Estimates
    cite: Callable[[str, str], dict[str, Any]]  # (knowledge doc id, sentence) -> citation

    def of_kind(self, kind: str) -> list[Any]:
        return [r for r in self.records if r.kind == kind]


def gather(store: PatientStore, engine: Engine, patient_id: str, as_of: date) -> PatientFacts:
    from assistant.guidance.citations import knowledge_span

    patient = store.get_patient(patient_id)
    if patient is None:
        raise KeyError(f"no patient {patient_id!r}")
    records = [r for r in store.patient_records(patient_id) if _on_or_before(r, as_of)]
    data = PatientData.from_records(patient_id, patient.birth_date, records)
    period = calendar_year(as_of)
    results = {measure: evaluate(measure, data, period) for measure in MEASURES}
    estimates = estimate(patient_id, records, patient.birth_date, as_of)
    return PatientFacts(patient, as_of, records, results, estimates, lambda doc, s: knowledge_span(engine, doc, s))


def _on_or_before(record: Any, as_of: date) -> bool:
    """Guidance as of a date sees only what had happened by then, so a replayed date gives the same answer."""
    from assistant.records.store import effective_time

    when = effective_time(record)
    return when is None or when.date() <= as_of
