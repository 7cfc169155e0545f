"""The CQL libraries both measures include, definition by definition, over Caretrail's normalized records.

Libraries implemented here (cqframework ecqm-content-qicore-2024): ``Status`` (which records count as performed,
ordered or active), ``QICoreCommon`` (``prevalenceInterval``, ``latest``), ``CumulativeMedicationDuration``
(``medicationRequestPeriod``), ``AdultOutpatientEncounters``, ``Hospice``, ``PalliativeCare`` and
``AdvancedIllnessandFrailty``. Each function names the CQL definition it implements.

Why records and not FHIR JSON: the engine must work on whatever the connectors brought in, read back from the
patient store; a record keeps what the CQL needs (statuses, every coding, periods as written, provenance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from assistant.measures import intervals
from assistant.measures.intervals import Span
from assistant.measures.period import MeasurementPeriod
from assistant.measures.results import NOT_MET, Evidence, Finding
from assistant.measures.valuesets import value_set
from assistant.records.model import (
    Code,
    Condition,
    Encounter,
    Medication,
    Observation,
    Order,
    Procedure,
    Provenance,
)
from assistant.records.vocabulary import code_system_name

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Status library: the statuses each QDM-style category accepts.
ENCOUNTER_PERFORMED = {"finished", "arrived", "triaged", "in-progress", "onleave"}
OBSERVATION_DONE = {"final", "amended", "corrected"}
SYMPTOM_STATUSES = {"preliminary", "final", "amended", "corrected"}
ORDER_STATUSES = {"active", "completed"}
ACTIVE_CONDITION = {"active", "recurrence", "relapse"}

LOINC = "loinc"
SNOMED = "snomed"


@dataclass
class PatientData:
    """One patient's records, sorted by kind once, for the per-patient evaluation."""

    patient_id: str
    birth_date: date | None
    patient_provenance: Provenance | None = None
    encounters: list[Encounter] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    encounters_by_id: dict[str, Encounter] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls,
        patient_id: str,
        birth_date: date | None,
        records: Iterable[object],
        patient_provenance: Provenance | None = None,
    ) -> PatientData:
        data = cls(patient_id=patient_id, birth_date=birth_date, patient_provenance=patient_provenance)
        buckets: dict[str, list] = {
            "encounter": data.encounters,
            "condition": data.conditions,
            "observation": data.observations,
            "medication": data.medications,
            "procedure": data.procedures,
            "order": data.orders,
        }
        for record in records:
            bucket = buckets.get(getattr(record, "kind", ""))
            if bucket is not None:
                bucket.append(record)
        for encounter in data.encounters:
            data.encounters_by_id.setdefault(encounter.id, encounter)
        return data

    def patient_evidence(self, reason: str) -> Evidence:
        return Evidence(
            reason=reason,
            record_kind="patient",
            record_id=self.patient_id,
            document_id=self.patient_provenance.source_sha256 if self.patient_provenance else None,
            source_path=self.patient_provenance.source_path if self.patient_provenance else None,
            locator=self.patient_provenance.locator if self.patient_provenance else None,
        )


# ------------------------------------------------------------------------------------------------ codes


def same_code(code: Code, system: str, value: str) -> bool:
    """CQL ``~`` between a coding and a Code: same system and code."""
    return code_system_name(code.system) == system and code.code == value


def any_code(codes: Iterable[Code], system: str, value: str) -> bool:
    """CQL ``concept ~ code``: any coding of the concept is equivalent."""
    return any(same_code(code, system, value) for code in codes)


def codes_of(record: Condition | Observation | Procedure | Order) -> list[Code]:
    """Every coding of the record's code; sources that keep one coding only give that one."""
    return record.codes or [record.code]


def encounter_types(encounter: Encounter) -> list[Code]:
    return encounter.types or ([encounter.type] if encounter.type else [])


def in_value_set(codes: Iterable[Code], name: str) -> Code | None:
    return value_set(name).first_match(codes)


def describe(code: Code) -> str:
    return f"{code.display or code.code} ({code.system} {code.code})"


def day(moment: datetime | date | None) -> str:
    if moment is None:
        return "no date"
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


# ------------------------------------------------------------------------------------------ time helpers


def mp_span(period: MeasurementPeriod) -> Span:
    return intervals.closed(period.start, period.end)


def age_in_years_at(birth_date: date | None, on: date) -> int | None:
    """CQL ``AgeInYearsAt(date)``: whole years from the birth date; None without a birth date."""
    if birth_date is None:
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_at_end(data: PatientData, period: MeasurementPeriod) -> int | None:
    """``AgeInYearsAt(date from end of "Measurement Period")``."""
    return age_in_years_at(data.birth_date, period.last_day)


def encounter_period(encounter: Encounter) -> Span | None:
    """``Encounter.period.toInterval()``."""
    return intervals.fhir_period(encounter.start, encounter.end)


def effective_interval(observation: Observation) -> Span | None:
    """``Observation.effective.toInterval()``: a dateTime as a point, a Period as FHIRHelpers reads it."""
    return intervals.fhir_period(observation.effective_start, observation.effective_end)


def latest(observation: Observation) -> datetime | None:
    """QICoreCommon ``effective.latest()``: the end of the effective interval when it has one, else its start."""
    span = effective_interval(observation)
    if span is None:
        return None
    if span.high.latest != intervals.MAX and span.high.earliest == span.high.latest:
        return span.high.latest
    if span.low.earliest == span.low.latest and span.low.earliest != intervals.MIN:
        return span.low.earliest
    return None


def performed_interval(procedure: Procedure) -> Span | None:
    """``Procedure.performed.toInterval()``."""
    return intervals.fhir_period(procedure.performed, procedure.performed_end)


def prevalence_interval(condition: Condition) -> Span:
    """QICoreCommon ``prevalenceInterval()``.

    Active (or recurrence, relapse): ``Interval[onset, abatement]``, both ends closed, so a missing onset or
    abatement is unbounded. Otherwise ``Interval[onset, abatement]`` when it abated, else ``Interval[onset, null)``:
    an open, unknown end.
    """
    onset = condition.onset_at
    abatement = condition.abatement_at
    if (condition.clinical_status or "").lower() in ACTIVE_CONDITION or abatement is not None:
        return intervals.closed(onset, abatement)
    low = intervals.exactly(onset) if onset else intervals.UNBOUNDED_LOW
    return Span(low, intervals.Bound(onset or intervals.MIN, intervals.MAX))


def medication_request_period(medication: Medication) -> Span | None:
    """CumulativeMedicationDuration ``medicationRequestPeriod()``, in whole days.

    Start: the boundsPeriod start, else authoredOn, else the validity period start. Length: the expected supply
    duration, else quantity / (dose x doses per day), times (1 + refills); without a length, up to the bounds end.
    """
    starts = (medication.bounds_start, medication.authored_on, medication.validity_start)
    start = next((moment.date() for moment in starts if moment is not None), None)
    if start is None:
        return None
    total_days: float | None = medication.supply_days
    if total_days is None and medication.dispense_quantity is not None and medication.dose_value is not None:
        per_day = medication.dose_value * (medication.doses_per_day or 0.0)  # Count(timeOfDay) is 0, not null
        total_days = medication.dispense_quantity / per_day if per_day else None
    if total_days is not None:
        total_days *= 1 + (medication.refills or 0)
        end = start + timedelta(days=int(total_days - 1))
    elif medication.bounds_end is not None:
        end = medication.bounds_end.date()
    else:
        return None
    return intervals.closed(datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time()))


# ------------------------------------------------------------------------------------------ Status library


def is_encounter_performed(encounter: Encounter) -> bool:
    """Status ``isEncounterPerformed``."""
    return (encounter.status or "") in ENCOUNTER_PERFORMED


def has_category(observation: Observation, category: str) -> bool:
    return any_code(observation.categories, OBSERVATION_CATEGORY, category)


def is_laboratory_test_performed(observation: Observation) -> bool:
    """Status ``isLaboratoryTestPerformed``: final/amended/corrected, category laboratory."""
    return (observation.status or "") in OBSERVATION_DONE and has_category(observation, "laboratory")


def is_assessment_performed(observation: Observation) -> bool:
    """Status ``isAssessmentPerformed``: final/amended/corrected, category survey."""
    return (observation.status or "") in OBSERVATION_DONE and has_category(observation, "survey")


def is_symptom(observation: Observation) -> bool:
    """Status ``isSymptom``."""
    return (observation.status or "") in SYMPTOM_STATUSES


def is_order(order: Order) -> bool:
    """Status ``isInterventionOrder`` / ``isDeviceOrder``: active or completed, intent order."""
    return (order.status or "") in ORDER_STATUSES and order.intent == "order"


def is_procedure_performed(procedure: Procedure) -> bool:
    """Status ``isProcedurePerformed`` / ``isInterventionPerformed``: ``status ~ 'completed'``."""
    return (procedure.status or "").lower() == "completed"


def is_medication_active(medication: Medication) -> bool:
    """Status ``isMedicationActive``: a MedicationRequest, status active, intent order."""
    return (
        medication.resource_type == "MedicationRequest"
        and medication.status == "active"
        and (medication.intent == "order")
    )


# --------------------------------------------------------------------------------- AdultOutpatientEncounters

OUTPATIENT_VALUE_SETS = (
    "Office Visit",
    "Annual Wellness Visit",
    "Preventive Care Services Established Office Visit, 18 and Up",
    "Preventive Care Services Initial Office Visit, 18 and Up",
    "Home Healthcare Services",
    "Virtual Encounter",
    "Telephone Visits",
)


def qualifying_encounters(data: PatientData, period: MeasurementPeriod) -> list[Evidence]:
    """AdultOutpatientEncounters ``"Qualifying Encounters"``: a performed outpatient-type encounter during the MP."""
    found: list[Evidence] = []
    mp = mp_span(period)
    for encounter in data.encounters:
        if not is_encounter_performed(encounter) or not intervals.during(encounter_period(encounter), mp):
            continue
        for name in OUTPATIENT_VALUE_SETS:
            code = in_value_set(encounter_types(encounter), name)
            if code:
                reason = f"{name} encounter {describe(code)} on {day(encounter.start)}"
                found.append(Evidence.of(encounter, reason))
                break
    return found


# -------------------------------------------------------------------------------------------------- Hospice

HOSPICE_DISCHARGES = ("428361000124107", "428371000124100")  # discharge to home / to a facility for hospice care
HOSPICE_CARE_MDS = "45755-6"  # LOINC Hospice care [Minimum Data Set]
YES = "373066001"  # SNOMED Yes (qualifier value)


def has_hospice_services(data: PatientData, period: MeasurementPeriod) -> Finding:
    """Hospice ``"Has Hospice Services"``."""
    mp = mp_span(period)
    found: list[Evidence] = []
    for encounter in data.encounters:
        if not is_encounter_performed(encounter):
            continue
        span = encounter_period(encounter)
        inpatient = in_value_set(encounter_types(encounter), "Encounter Inpatient")
        if inpatient and any(any_code(encounter.discharge_codes, SNOMED, c) for c in HOSPICE_DISCHARGES):
            if intervals.ends_during(span, mp):
                found.append(
                    Evidence.of(encounter, f"inpatient stay ending {day(encounter.end)} discharged to hospice care")
                )
        hospice = in_value_set(encounter_types(encounter), "Hospice Encounter")
        if hospice and intervals.overlaps(span, mp):
            found.append(Evidence.of(encounter, f"hospice encounter {describe(hospice)} on {day(encounter.start)}"))
    for observation in data.observations:
        if any_code(codes_of(observation), LOINC, HOSPICE_CARE_MDS) and is_assessment_performed(observation):
            in_period = intervals.overlaps(effective_interval(observation), mp)
            if in_period and any_code(observation.value_codes, SNOMED, YES):
                found.append(
                    Evidence.of(
                        observation, f"hospice care assessment answered yes on {day(observation.effective_start)}"
                    )
                )
    for order in data.orders:
        code = in_value_set(codes_of(order), "Hospice Care Ambulatory")
        if code and order.resource_type == "ServiceRequest" and is_order(order):
            if intervals.during(intervals.point(order.authored_on), mp):
                found.append(Evidence.of(order, f"hospice care ordered {describe(code)} on {day(order.authored_on)}"))
    for procedure in data.procedures:
        code = in_value_set(codes_of(procedure), "Hospice Care Ambulatory")
        if code and is_procedure_performed(procedure) and intervals.overlaps(performed_interval(procedure), mp):
            found.append(Evidence.of(procedure, f"hospice care {describe(code)} on {day(procedure.performed)}"))
    for condition in data.conditions:
        code = in_value_set(codes_of(condition), "Hospice Diagnosis")
        if code and intervals.overlaps(prevalence_interval(condition), mp):
            found.append(Evidence.of(condition, f"hospice diagnosis {describe(code)}"))
    return Finding(bool(found), tuple(found))


# -------------------------------------------------------------------------------------------- PalliativeCare

FACIT_PAL = "71007-9"  # LOINC FACIT-Pal questionnaire


def has_palliative_care(data: PatientData, period: MeasurementPeriod) -> Finding:
    """PalliativeCare ``"Has Palliative Care in the Measurement Period"``."""
    mp = mp_span(period)
    found: list[Evidence] = []
    for observation in data.observations:
        if any_code(codes_of(observation), LOINC, FACIT_PAL) and is_assessment_performed(observation):
            if intervals.overlaps(effective_interval(observation), mp):
                found.append(
                    Evidence.of(
                        observation, f"palliative care assessment (FACIT-Pal) on {day(observation.effective_start)}"
                    )
                )
    for condition in data.conditions:
        code = in_value_set(codes_of(condition), "Palliative Care Diagnosis")
        if code and intervals.overlaps(prevalence_interval(condition), mp):
            found.append(Evidence.of(condition, f"palliative care diagnosis {describe(code)}"))
    for encounter in data.encounters:
        code = in_value_set(encounter_types(encounter), "Palliative Care Encounter")
        if code and is_encounter_performed(encounter) and intervals.overlaps(encounter_period(encounter), mp):
            reason = f"palliative care encounter {describe(code)} on {day(encounter.start)}"
            found.append(Evidence.of(encounter, reason))
    for procedure in data.procedures:
        code = in_value_set(codes_of(procedure), "Palliative Care Intervention")
        if code and is_procedure_performed(procedure) and intervals.overlaps(performed_interval(procedure), mp):
            found.append(
                Evidence.of(procedure, f"palliative care intervention {describe(code)} on {day(procedure.performed)}")
            )
    return Finding(bool(found), tuple(found))


# --------------------------------------------------------------------------------- AdvancedIllnessandFrailty

HOUSING_STATUS = "71802-3"  # LOINC Housing status
LIVES_IN_NURSING_HOME = "160734000"  # SNOMED Lives in a nursing home (finding)
MEDICAL_EQUIPMENT_USED = "98181-1"  # LOINC Medical equipment used


def has_criteria_indicating_frailty(data: PatientData, period: MeasurementPeriod) -> Finding:
    """AdvancedIllnessandFrailty ``"Has Criteria Indicating Frailty"``."""
    mp = mp_span(period)
    found: list[Evidence] = []
    for order in data.orders:
        code = in_value_set(codes_of(order), "Frailty Device")
        if code and order.resource_type == "DeviceRequest" and is_order(order) and order.do_not_perform is not True:
            if intervals.during(intervals.point(order.authored_on), mp):
                found.append(Evidence.of(order, f"frailty device ordered {describe(code)} on {day(order.authored_on)}"))
    for observation in data.observations:
        if any_code(codes_of(observation), LOINC, MEDICAL_EQUIPMENT_USED) and is_assessment_performed(observation):
            device = in_value_set(observation.value_codes, "Frailty Device")
            if device and intervals.ends_during(effective_interval(observation), mp):
                found.append(Evidence.of(observation, f"uses frailty device {describe(device)}"))
        symptom = in_value_set(codes_of(observation), "Frailty Symptom")
        if symptom and is_symptom(observation) and intervals.overlaps(effective_interval(observation), mp):
            found.append(
                Evidence.of(observation, f"frailty symptom {describe(symptom)} on {day(observation.effective_start)}")
            )
    for condition in data.conditions:
        code = in_value_set(codes_of(condition), "Frailty Diagnosis")
        if code and intervals.overlaps(prevalence_interval(condition), mp):
            found.append(Evidence.of(condition, f"frailty diagnosis {describe(code)}"))
    for encounter in data.encounters:
        code = in_value_set(encounter_types(encounter), "Frailty Encounter")
        if code and is_encounter_performed(encounter) and intervals.overlaps(encounter_period(encounter), mp):
            found.append(Evidence.of(encounter, f"frailty encounter {describe(code)} on {day(encounter.start)}"))
    return Finding(bool(found), tuple(found))


def _year_before_and_during(period: MeasurementPeriod) -> Span:
    """``Interval[start of "Measurement Period" - 1 year, end of "Measurement Period"]``."""
    return intervals.closed(intervals.add_months(period.start, -12), period.end)


def has_advanced_illness(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Has Advanced Illness in Year Before or During Measurement Period"``: the diagnosis starts in that window."""
    window = _year_before_and_during(period)
    found = [
        Evidence.of(condition, f"advanced illness {describe(code)} since {day(condition.onset_at)}")
        for condition in data.conditions
        if (code := in_value_set(codes_of(condition), "Advanced Illness"))
        and intervals.starts_during(prevalence_interval(condition), window)
    ]
    return Finding(bool(found), tuple(found))


def has_dementia_medications(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Has Dementia Medications in Year Before or During Measurement Period"``.

    Only a medication coded on the request counts: the retrieve filters ``medication`` by value set, which a
    ``medicationReference`` never matches (CQLIT-412).
    """
    window = _year_before_and_during(period)
    found: list[Evidence] = []
    for medication in data.medications:
        code = in_value_set(medication.codes, "Dementia Medications")
        if code and is_medication_active(medication):
            if intervals.overlaps(medication_request_period(medication), window):
                found.append(
                    Evidence.of(
                        medication, f"dementia medication {describe(code)} ordered {day(medication.authored_on)}"
                    )
                )
    return Finding(bool(found), tuple(found))


def _frail_with_illness(data: PatientData, period: MeasurementPeriod) -> Finding:
    frailty = has_criteria_indicating_frailty(data, period)
    if not frailty:
        return NOT_MET
    illness = has_advanced_illness(data, period)
    medication = has_dementia_medications(data, period)
    if not (illness or medication):
        return NOT_MET
    return Finding(True, frailty.evidence + illness.evidence + medication.evidence)


def age_66_plus_with_advanced_illness_and_frailty(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Is Age 66 or Older with Advanced Illness and Frailty"`` (CMS122)."""
    age = age_at_end(data, period)
    if age is None or age < 66:
        return NOT_MET
    found = _frail_with_illness(data, period)
    if not found:
        return NOT_MET
    return Finding(True, (data.patient_evidence(f"aged {age} at the end of the period"), *found.evidence))


def age_66_to_80_frail_and_ill_or_81_plus_frail(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Is Age 66 to 80 with Advanced Illness and Frailty or Is Age 81 or Older with Frailty"`` (CMS165)."""
    age = age_at_end(data, period)
    if age is None or age < 66:
        return NOT_MET
    found = _frail_with_illness(data, period) if age <= 80 else has_criteria_indicating_frailty(data, period)
    if not found:
        return NOT_MET
    return Finding(True, (data.patient_evidence(f"aged {age} at the end of the period"), *found.evidence))


def age_66_plus_in_nursing_home(data: PatientData, period: MeasurementPeriod) -> Finding:
    """``"Is Age 66 or Older Living Long Term in a Nursing Home"``: the last housing status says nursing home."""
    age = age_at_end(data, period)
    if age is None or age < 66:
        return NOT_MET
    statuses = []
    for observation in data.observations:
        if any_code(codes_of(observation), LOINC, HOUSING_STATUS) and is_assessment_performed(observation):
            span = effective_interval(observation)
            if intervals.ends_on_or_before(span, period.end, day=True):
                statuses.append((span.end if span else intervals.MAX, observation))
    if not statuses:
        return NOT_MET
    statuses.sort(key=lambda item: item[0])
    last = statuses[-1][1]
    if not any_code(last.value_codes, SNOMED, LIVES_IN_NURSING_HOME):
        return NOT_MET
    return Finding(
        True,
        (
            data.patient_evidence(f"aged {age} at the end of the period"),
            Evidence.of(last, f"last housing status ({day(last.effective_end)}): lives in a nursing home"),
        ),
    )
