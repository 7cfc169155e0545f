"""Evaluate a measure for a patient in the store: records in, a MeasureResult with cited evidence out.

Why through the store: the engine sees exactly what ingest kept (connectors -> records -> store), the same records
every other engine reads, never raw source files.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.measures import cms122, cms165
from assistant.measures.common import PatientData
from assistant.measures.period import MeasurementPeriod
from assistant.measures.results import DENOMINATOR, DENOMINATOR_EXCLUSION, NUMERATOR, MeasureResult
from assistant.records.store import PatientStore

Evaluator = Callable[[PatientData, MeasurementPeriod], MeasureResult]

MEASURES: dict[str, Evaluator] = {
    cms165.MEASURE: cms165.evaluate,
    cms122.MEASURE: cms122.evaluate,
}
TITLES = {cms165.MEASURE: cms165.TITLE, cms122.MEASURE: cms122.TITLE}
# Inverse measures: lower is better, and the numerator itself is the care gap.
INVERSE = {cms122.MEASURE}


def is_gap(result: MeasureResult) -> bool:
    """A care gap: in the denominator, not excluded, and on the wrong side of the numerator (in it for an inverse
    measure such as CMS122, outside it for CMS165)."""
    populations = result.populations
    if not populations[DENOMINATOR] or populations[DENOMINATOR_EXCLUSION]:
        return False
    return populations[NUMERATOR] if result.measure in INVERSE else not populations[NUMERATOR]


# The record kinds the measures read; the rest of a patient's records are not loaded.
KINDS = {"encounter", "condition", "observation", "medication", "procedure", "order"}


def patient_data(store: PatientStore, patient_id: str) -> PatientData:
    """A store patient's records as the measures read them (birth date and the Patient's provenance included)."""
    row = store.get_patient(patient_id)
    if row is None:
        raise KeyError(f"no patient {patient_id!r}")
    sources = store.patient_sources(patient_id)
    provenance = sources[0][1].provenance if sources else None
    return PatientData.from_records(patient_id, row.birth_date, store.patient_records(patient_id, KINDS), provenance)


def evaluate(measure: str, data: PatientData, period: MeasurementPeriod) -> MeasureResult:
    try:
        evaluator = MEASURES[measure]
    except KeyError:
        raise KeyError(f"measure {measure!r} is not implemented (known: {', '.join(sorted(MEASURES))})") from None
    return evaluator(data, period)


def evaluate_patient(store: PatientStore, patient_id: str, measure: str, period: MeasurementPeriod) -> MeasureResult:
    return evaluate(measure, patient_data(store, patient_id), period)
