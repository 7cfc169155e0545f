"""CMS122 Diabetes: Glycemic Status Assessment Greater Than 9% (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR
0.1.002), definition by definition.

An inverse measure: the numerator is the care gap. Patients 18-75 with diabetes and an outpatient visit in the
period are in the numerator when their most recent glycemic status assessment (HbA1c or GMI) is above 9 %, has no
result, or is missing altogether.

"Without result" follows the CQL to the letter: ``"Lowest ... on Most Recent Day".value is null`` tests the
Observation's own value, so only an Observation with no value at all (or a Quantity without a number) has no
result. A result written as a CodeableConcept is a value: it is neither missing nor, having no Quantity, above
9 % (``value as Quantity > 9 '%'`` is null), so that patient is not in the numerator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.measures import common, intervals
from assistant.measures.common import LOINC, PatientData, any_code, codes_of, describe, in_value_set
from assistant.measures.period import MeasurementPeriod
from assistant.measures.results import NOT_MET, Evidence, Finding, MeasureResult, proportion_result
from assistant.records.model import Observation

MEASURE = "DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR"
TITLE = "CMS122 Diabetes: Glycemic Status Assessment Greater Than 9%"

GLUCOSE_MANAGEMENT_INDICATOR = "97506-0"
PERCENT = "%"


@dataclass(frozen=True)
class Assessment:
    observation: Observation
    moment: datetime
    name: str


def initial_population(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Initial Population"``: aged 18-75 at the end of the period, a qualifying encounter, diabetes in the period."""
    age = common.age_at_end(data, period)
    if age is None or not 18 <= age <= 75:
        return Finding(False, (data.patient_evidence(f"aged {age} at the end of the period, not 18-75"),))
    encounters = common.qualifying_encounters(data, period)
    if not encounters:
        return Finding(False, (Evidence("no qualifying outpatient encounter in the period"),))
    mp = common.mp_span(period)
    diabetes = []
    for condition in data.conditions:
        code = in_value_set(codes_of(condition), "Diabetes")
        if code and intervals.overlaps(common.prevalence_interval(condition), mp):
            diabetes.append(Evidence.of(condition, f"diabetes {describe(code)} since {common.day(condition.onset_at)}"))
    if not diabetes:
        return Finding(False, (Evidence("no diabetes diagnosis overlapping the period"),))
    return Finding(True, (data.patient_evidence(f"aged {age} at the end of the period"), *diabetes, *encounters))


def denominator_exclusions(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Denominator Exclusions"``: hospice, 66+ in a nursing home, 66+ frail and ill, palliative care."""
    found: list[Evidence] = []
    found += common.has_hospice_services(data, period).evidence
    found += common.age_66_plus_in_nursing_home(data, period).evidence
    found += common.age_66_plus_with_advanced_illness_and_frailty(data, period).evidence
    found += common.has_palliative_care(data, period).evidence
    return Finding(bool(found), tuple(found))


def glycemic_status_assessments(data: PatientData, period: MeasurementPeriod) -> list[Assessment]:
    """``"Glycemic Status Assessment"``: performed HbA1c or GMI lab tests whose ``effective.latest()`` is in the MP."""
    mp = common.mp_span(period)
    found = []
    for observation in data.observations:
        hba1c = in_value_set(codes_of(observation), "HbA1c Laboratory Test")
        gmi = any_code(codes_of(observation), LOINC, GLUCOSE_MANAGEMENT_INDICATOR)
        if not (hba1c or gmi) or not common.is_laboratory_test_performed(observation):
            continue
        moment = common.latest(observation)
        if moment is not None and intervals.includes_point(mp, intervals.exactly(moment)):
            found.append(Assessment(observation, moment, "HbA1c" if hba1c else "GMI"))
    return found


def _quantity(observation: Observation) -> float | None:
    """``value as Quantity`` (its number): None unless the value is a Quantity with a number."""
    return observation.value if observation.value_type == "Quantity" else None


def numerator(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Numerator"``: the most recent assessment without result, above 9 %, or no assessment at all."""
    assessments = glycemic_status_assessments(data, period)
    if not assessments:  # "Has No Record Of Glycemic Status Assessment"
        return Finding(True, (Evidence("no HbA1c or glucose management indicator result in the period"),))
    most_recent = max(a.moment.date() for a in assessments)  # "Most Recent Glycemic Status Date"
    that_day = [a for a in assessments if a.moment.date() == most_recent]
    # "Lowest Glycemic Status Assessment Reading on Most Recent Day": sort by value as Quantity, nulls first.
    that_day.sort(key=lambda a: (_quantity(a.observation) is not None, _quantity(a.observation) or 0.0))
    lowest = that_day[0]
    observation = lowest.observation
    value = _quantity(observation)
    no_value = observation.value_type is None or (observation.value_type == "Quantity" and value is None)
    if no_value:  # "Has Most Recent Glycemic Status Assessment Without Result"
        return Finding(True, (Evidence.of(observation, f"most recent {lowest.name} on {most_recent} has no result"),))
    if value is None:
        reason = (
            f"most recent {lowest.name} on {most_recent} has a {observation.value_type} result "
            f"({observation.value_text or 'no text'}), not a quantity: neither above 9 % nor missing"
        )
        return Finding(False, (Evidence.of(observation, reason),))
    unit = observation.unit_code or observation.unit or "1"
    if unit != PERCENT:
        reason = f"most recent {lowest.name} on {most_recent} is {value:g} {unit}, not comparable with 9 %"
        return Finding(False, (Evidence.of(observation, reason),))
    elevated = value > 9  # "Has Most Recent Elevated Glycemic Status Assessment"
    relation = "above" if elevated else "not above"
    reason = f"most recent {lowest.name} {value:g} % on {most_recent}, {relation} 9 %"
    return Finding(elevated, (Evidence.of(observation, reason),))


def evaluate(data: PatientData, period: MeasurementPeriod) -> MeasureResult:
    population = initial_population(data, period)
    exclusion = denominator_exclusions(data, period) if population else NOT_MET
    found = numerator(data, period) if population else NOT_MET
    return proportion_result(MEASURE, data.patient_id, period, population, exclusion, found)
