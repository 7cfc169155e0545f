"""CMS165 Controlling High Blood Pressure (ControllingHighBloodPressureFHIR 0.1.000), definition by definition.

Patients 18-85 with essential hypertension overlapping the first six months of the period and an outpatient visit
in it; the numerator is the most recent blood-pressure day in the period whose lowest systolic is below 140 and
lowest diastolic below 90 mm[Hg]. Readings taken during emergency, inpatient or other acute stays do not count.

Which Observations are blood pressures: the CQL retrieves ``["observation-bp"]`` (FHIR's vital-signs ``bp``
profile) and checks no code. We take an Observation to be one when it claims a blood-pressure profile, carries the
profile's code (LOINC 85354-9), or has a systolic or diastolic component (as Synthea's 55284-4 panels do). A
heart rate or a lab taken the same day is not a blood-pressure reading and never hides one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from assistant.measures import common, intervals
from assistant.measures.common import LOINC, PatientData, any_code, codes_of, describe, in_value_set
from assistant.measures.period import MeasurementPeriod
from assistant.measures.results import NOT_MET, Evidence, Finding, MeasureResult, proportion_result
from assistant.records.model import Observation

MEASURE = "ControllingHighBloodPressureFHIR"
TITLE = "CMS165 Controlling High Blood Pressure"

SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
BP_PANEL = "85354-9"
BP_PROFILES = {
    "http://hl7.org/fhir/StructureDefinition/bp",
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure",
    "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-observation-bp",
}
# Encounter classes whose readings do not count (ActCode), from "Qualifying ... Blood Pressure Reading".
EXCLUDED_CLASSES = {"EMER", "IMP", "ACUTE", "NONAC", "PRENC", "SS"}
# For sources that keep only our mapped class (no ActCode): the mapped names of those classes.
EXCLUDED_MAPPED_CLASSES = {"emergency", "inpatient"}
# The unit of the thresholds ('mm[Hg]'); "mmHg" is the common non-UCUM spelling of the same unit.
MM_HG = {"mm[Hg]", "mmHg"}


@dataclass(frozen=True)
class Reading:
    """One qualifying blood-pressure Observation and the day it counts for."""

    observation: Observation
    day: date


_ONE_MS = timedelta(milliseconds=1)


def essential_hypertension_diagnosis(data: PatientData, period: MeasurementPeriod) -> list[Evidence]:
    """``"Essential Hypertension Diagnosis"``: prevalence overlaps the first six months (exact, not day precision)."""
    end = intervals.add_months(period.start, 6)
    window = intervals.Span(intervals.exactly(period.start), intervals.exactly(end - _ONE_MS))
    found = []
    for condition in data.conditions:
        code = in_value_set(codes_of(condition), "Essential Hypertension")
        if code and intervals.overlaps(common.prevalence_interval(condition), window, day=False):
            found.append(
                Evidence.of(
                    condition, f"essential hypertension {describe(code)} since {common.day(condition.onset_at)}"
                )
            )
    return found


def initial_population(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Initial Population"``: aged 18-85 at the end of the period, hypertension, a qualifying encounter."""
    age = common.age_at_end(data, period)
    if age is None or not 18 <= age <= 85:
        return Finding(False, (data.patient_evidence(f"aged {age} at the end of the period, not 18-85"),))
    diagnosis = essential_hypertension_diagnosis(data, period)
    if not diagnosis:
        return Finding(False, (Evidence("no essential hypertension overlapping the first six months of the period"),))
    encounters = common.qualifying_encounters(data, period)
    if not encounters:
        return Finding(False, (Evidence("no qualifying outpatient encounter in the period"),))
    return Finding(True, (data.patient_evidence(f"aged {age} at the end of the period"), *diagnosis, *encounters))


def pregnancy_or_renal_diagnosis(data: PatientData, period: MeasurementPeriod) -> list[Evidence]:
    """``"Pregnancy or Renal Diagnosis"``: prevalence overlaps the period (exact)."""
    mp = common.mp_span(period)
    found = []
    for condition in data.conditions:
        for name in (
            "Pregnancy",
            "End Stage Renal Disease",
            "Kidney Transplant Recipient",
            "Chronic Kidney Disease, Stage 5",
        ):
            code = in_value_set(codes_of(condition), name)
            if code and intervals.overlaps(common.prevalence_interval(condition), mp, day=False):
                found.append(Evidence.of(condition, f"{name.lower()} diagnosis {describe(code)}"))
                break
    return found


def end_stage_renal_disease_procedures(data: PatientData, period: MeasurementPeriod) -> list[Evidence]:
    """``"End Stage Renal Disease Procedures"``: kidney transplant or dialysis ending on or before the period end."""
    found = []
    for procedure in data.procedures:
        code = in_value_set(codes_of(procedure), "Kidney Transplant") or in_value_set(
            codes_of(procedure), "Dialysis Services"
        )
        if code and common.is_procedure_performed(procedure):
            if intervals.ends_on_or_before(common.performed_interval(procedure), period.end):
                found.append(Evidence.of(procedure, f"{describe(code)} on {common.day(procedure.performed)}"))
    return found


def end_stage_renal_disease_encounter(data: PatientData, period: MeasurementPeriod) -> list[Evidence]:
    """``"End Stage Renal Disease Encounter"``: monthly ESRD services starting on or before the period end."""
    found = []
    for encounter in data.encounters:
        code = in_value_set(common.encounter_types(encounter), "ESRD Monthly Outpatient Services")
        if code and common.is_encounter_performed(encounter):
            if intervals.starts_on_or_before(common.encounter_period(encounter), period.end):
                found.append(
                    Evidence.of(encounter, f"ESRD monthly services {describe(code)} on {common.day(encounter.start)}")
                )
    return found


def denominator_exclusions(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Denominator Exclusions"``: every criterion is evaluated, so the evidence lists all that apply."""
    found: list[Evidence] = []
    found += common.has_hospice_services(data, period).evidence
    found += pregnancy_or_renal_diagnosis(data, period)
    found += end_stage_renal_disease_procedures(data, period)
    found += end_stage_renal_disease_encounter(data, period)
    found += common.age_66_to_80_frail_and_ill_or_81_plus_frail(data, period).evidence
    found += common.age_66_plus_in_nursing_home(data, period).evidence
    found += common.has_palliative_care(data, period).evidence
    return Finding(bool(found), tuple(found))


def is_blood_pressure(observation: Observation) -> bool:
    """Whether an Observation is an ``"observation-bp"`` record (see the module docstring)."""
    if BP_PROFILES.intersection(observation.profiles) or any_code(codes_of(observation), LOINC, BP_PANEL):
        return True
    return any(
        any_code(codes_of(component), LOINC, SYSTOLIC) or any_code(codes_of(component), LOINC, DIASTOLIC)
        for component in observation.components
    )


def _excluded_setting(data: PatientData, observation: Observation) -> str | None:
    """The encounter class that disqualifies a reading (``getEncounter().class.code in {...}``), if any."""
    encounter = data.encounters_by_id.get(observation.encounter_id or "")
    if encounter is None:
        return None
    if encounter.class_code:
        return encounter.class_code if encounter.class_code in EXCLUDED_CLASSES else None
    return encounter.encounter_class if encounter.encounter_class in EXCLUDED_MAPPED_CLASSES else None


def qualifying_readings(data: PatientData, period: MeasurementPeriod) -> tuple[list[Reading], list[str]]:
    """``"Qualifying Systolic/Diastolic Blood Pressure Reading"`` (the same set), plus notes on readings left out."""
    mp = common.mp_span(period)
    readings: list[Reading] = []
    notes: list[str] = []
    for observation in data.observations:
        if not is_blood_pressure(observation) or (observation.status or "") not in common.OBSERVATION_DONE:
            continue
        moment = common.latest(observation)
        if not intervals.includes_point(mp, intervals.exactly(moment) if moment else None):
            continue
        setting = _excluded_setting(data, observation)
        if setting:
            notes.append(
                f"blood pressure {observation.provenance.locator} on {common.day(moment)} not counted: "
                f"taken during a {setting} encounter"
            )
            continue
        readings.append(Reading(observation, moment.date()))
    return readings, notes


def _component_value(observation: Observation, loinc: str) -> tuple[float | None, str | None]:
    """``singleton from (component where code ~ X return value as Quantity)``: (value, unit) or (None, None)."""
    for component in observation.components:
        if any_code(codes_of(component), LOINC, loinc):
            if component.value_type == "Quantity" and component.value is not None:
                return component.value, component.unit_code or component.unit or "1"
            return None, None
    return None, None


def _lowest(readings: list[Reading], loinc: str) -> tuple[Reading | None, float | None, str | None]:
    """``First(... sort asc)``: the lowest value on the day; a reading without one sorts first (nulls first)."""
    values = [(reading, *_component_value(reading.observation, loinc)) for reading in readings]
    values.sort(key=lambda item: (item[1] is not None, item[1] or 0.0))
    return values[0] if values else (None, None, None)


def numerator(data: PatientData, period: MeasurementPeriod) -> tuple[Finding, list[str]]:
    """``"Numerator"``: lowest systolic < 140 and lowest diastolic < 90 on the most recent blood-pressure day."""
    readings, notes = qualifying_readings(data, period)
    if not readings:
        return Finding(
            False, (Evidence("no blood pressure reading in the period outside emergency and inpatient stays"),)
        ), notes
    most_recent = max(reading.day for reading in readings)  # "Most Recent Blood Pressure Day"
    that_day = [reading for reading in readings if reading.day == most_recent]
    evidence: list[Evidence] = []
    controlled = True
    for loinc, label, limit in ((SYSTOLIC, "systolic", 140.0), (DIASTOLIC, "diastolic", 90.0)):
        reading, value, unit = _lowest(that_day, loinc)
        assert reading is not None
        if value is None:
            controlled = False
            evidence.append(Evidence.of(reading.observation, f"blood pressure on {most_recent} has no {label} value"))
        elif unit not in MM_HG:
            controlled = False
            evidence.append(
                Evidence.of(
                    reading.observation,
                    f"lowest {label} on {most_recent} is {value:g} {unit}, not comparable with mm[Hg]",
                )
            )
        else:
            below = value < limit
            controlled = controlled and below
            relation = "below" if below else "not below"
            evidence.append(
                Evidence.of(
                    reading.observation,
                    f"lowest {label} on {most_recent} (most recent blood "
                    f"pressure day) is {value:g} mm[Hg], {relation} "
                    f"{limit:g}",
                )
            )
    return Finding(controlled, tuple(evidence)), notes


def evaluate(data: PatientData, period: MeasurementPeriod) -> MeasureResult:
    population = initial_population(data, period)
    exclusion = denominator_exclusions(data, period) if population else NOT_MET
    found, notes = numerator(data, period) if population else (NOT_MET, [])
    return proportion_result(MEASURE, data.patient_id, period, population, exclusion, found, tuple(notes))
