"""The stewards' reference engine (fqm-execution over the shared ELM) against the MADiE expected results.

Why: Caretrail's own CMS165/CMS122 logic needs an independent second opinion. These tests show that the reference
engine, run offline through `assistant.measures.reference`, reproduces the gold MeasureReports of every shared case,
so that it can arbitrate when Caretrail's engine disagrees. The one known exception is pinned, not hidden: a
glycemic-status result coded as a CodeableConcept (MADiE exported some intended percentages that way). By the CQL
it is neither a missing result (`.value is null` is false) nor above 9% (`value as Quantity` is null), so the engine
leaves the patient out of the numerator, while the MeasureReport may expect the numerator.

Skips when ../shared/data is absent. When node or the installed engine is missing it skips locally and fails in CI
(CI=true), where `make test` installs both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.measures import reference

pytestmark = pytest.mark.slow

CMS165 = "ControllingHighBloodPressureFHIR"
CMS122 = "DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR"
MEASURES = (CMS165, CMS122)
PERIOD = ("2025-01-01", "2025-12-31")

# CMS122's glycemic status: the "HbA1c Laboratory Test" value set, or the glucose management indicator code.
HBA1C_VALUE_SET = "ValueSet-2.16.840.1.113883.3.464.1003.198.12.1013.json"
GMI = ("http://loinc.org", "97506-0")
PERFORMED = {"final", "amended", "corrected"}  # Status.isLaboratoryTestPerformed

QICORE = "http://hl7.org/fhir/us/qicore/StructureDefinition/"
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@pytest.mark.parametrize("measure", MEASURES)
def test_reference_engine_agrees_with_madie_cases(measure: str, ecqm: Path, reference_engine: None) -> None:
    cases = sorted(path for path in (ecqm / measure).iterdir() if path.is_dir())
    assert cases, f"no cases for {measure}"
    loaded = {case.name: reference.case_bundles(case) for case in cases}

    # One engine call per measurement period (all cases use 2025 today), so node starts once, not per case.
    results: dict[str, dict[str, int]] = {}
    for period in sorted({period for _, _, period in loaded.values()}):
        bundles = [bundle for bundle, _, case_period in loaded.values() if case_period == period]
        results.update(reference.run_reference(measure, bundles, period, shared_dir=ecqm))

    glycemic_codes = _glycemic_status_codes(ecqm)
    disagreements: list[str] = []
    known_divergences: list[str] = []
    for name, (bundle, expected, period) in loaded.items():
        got = results[_patient_id(bundle)]
        if measure == CMS122 and _coded_glycemic_result_on_last_day(bundle, period, glycemic_codes):
            # The known divergence: everything but the numerator agrees, and the engine's numerator is 0.
            others = {code: count for code, count in expected.items() if code != "numerator"}
            assert {code: got.get(code, 0) for code in others} == others, name
            assert got.get("numerator") == 0, f"{name}: a coded glycemic result should leave the numerator"
            if expected.get("numerator") != 0:
                known_divergences.append(name)
            continue
        if any(got.get(code, 0) != count for code, count in expected.items()):
            disagreements.append(f"{name}: expected {expected}, reference engine {got}")

    assert not disagreements, "\n".join(disagreements)
    agreed = len(cases) - len(known_divergences)
    print(f"{measure}: the reference engine agrees with {agreed} of {len(cases)} cases; "
          f"known divergence (coded glycemic result): {known_divergences}")


def test_hand_built_cms165_patients(ecqm: Path, reference_engine: None) -> None:
    """A bundle written by hand, not by MADiE: a controlled and an uncontrolled hypertensive patient."""
    controlled = _hypertensive_patient("hand-built-controlled", systolic=128, diastolic=78)
    uncontrolled = _hypertensive_patient("hand-built-uncontrolled", systolic=152, diastolic=95)
    results = reference.run_reference(CMS165, [controlled, uncontrolled], PERIOD, shared_dir=ecqm)
    in_denominator = {"initial-population": 1, "denominator": 1, "denominator-exclusion": 0}
    assert results["hand-built-controlled"] == {**in_denominator, "numerator": 1}
    assert results["hand-built-uncontrolled"] == {**in_denominator, "numerator": 0}


def test_coded_glycemic_result_is_not_in_the_numerator(ecqm: Path, reference_engine: None) -> None:
    """Pins the known divergence on a hand-built patient: 9.5 % counts as poor control, a coded result does not."""
    high = _diabetic_patient("hand-built-hba1c-high", {"valueQuantity": _quantity(9.5, "%")})
    coded = _diabetic_patient("hand-built-hba1c-coded", {"valueCodeableConcept": {"coding": [
        {"system": "http://snomed.info/sct", "code": "373066001", "display": "Yes (qualifier value)"}]}})
    results = reference.run_reference(CMS122, [high, coded], PERIOD, shared_dir=ecqm)
    assert results["hand-built-hba1c-high"]["numerator"] == 1
    assert results["hand-built-hba1c-coded"] == {
        "initial-population": 1, "denominator": 1, "denominator-exclusion": 0, "numerator": 0}


def test_case_bundles_reads_a_madie_case(ecqm: Path) -> None:
    case = sorted(path for path in (ecqm / CMS165).iterdir() if path.is_dir())[0]
    bundle, expected, period = reference.case_bundles(case)
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert "Patient" in types and "MeasureReport" not in types
    assert set(expected) == set(reference.POPULATION_CODES)
    assert period == PERIOD


def test_missing_node_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference.shutil, "which", lambda name: None)
    with pytest.raises(reference.ReferenceEngineError) as raised:
        reference.run_reference(CMS165, [], PERIOD)
    assert "node is not installed" in str(raised.value) and "\n" not in str(raised.value)


# --- helpers -------------------------------------------------------------------------------------------------------


def _patient_id(bundle: dict[str, Any]) -> str:
    return next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")


def _glycemic_status_codes(ecqm: Path) -> set[tuple[str, str]]:
    value_set = json.loads((ecqm / "valuesets" / HBA1C_VALUE_SET).read_text(encoding="utf-8"))
    codes = {(item["system"], item["code"]) for item in value_set["expansion"]["contains"]}
    return codes | {GMI}


def _coded_glycemic_result_on_last_day(
    bundle: dict[str, Any], period: tuple[str, str], codes: set[tuple[str, str]]
) -> bool:
    """True when the patient's most recent glycemic-status day in the period has a result coded as a concept.

    Found by content, never by case id: held-back cases must be judged the same way.
    """
    coded_by_day: dict[str, bool] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Observation" or resource.get("status") not in PERFORMED:
            continue
        if not any((c.get("system"), c.get("code")) in codes for c in resource.get("code", {}).get("coding", [])):
            continue
        day = _latest_day(resource)
        if day is None or not period[0] <= day <= period[1]:
            continue
        coded_by_day[day] = coded_by_day.get(day, False) or "valueCodeableConcept" in resource
    return bool(coded_by_day) and coded_by_day[max(coded_by_day)]


def _latest_day(observation: dict[str, Any]) -> str | None:
    """QICoreCommon's latest(): the end of an effective period if it has one, else its start, as YYYY-MM-DD."""
    moment = observation.get("effectiveDateTime") or observation.get("effectiveInstant")
    if "effectivePeriod" in observation:
        moment = observation["effectivePeriod"].get("end") or observation["effectivePeriod"].get("start")
    return moment[:10] if isinstance(moment, str) else None


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _meta(profile: str) -> dict[str, Any]:
    return {"meta": {"profile": [profile]}}


def _patient(patient_id: str, birth_date: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": patient_id, **_meta(QICORE + "qicore-patient"),
            "gender": "male", "birthDate": birth_date}


def _office_visit(patient_id: str, day: str) -> dict[str, Any]:
    return {"resourceType": "Encounter", "id": "visit-1", **_meta(QICORE + "qicore-encounter"), "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
            "subject": {"reference": f"Patient/{patient_id}"},
            "period": {"start": f"{day}T09:00:00Z", "end": f"{day}T09:30:00Z"}}


def _condition(patient_id: str, code: str, display: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "condition-1", **_meta(QICORE + "qicore-condition"),
            "clinicalStatus": {"coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{patient_id}"}, "onsetDateTime": "2019-03-01T00:00:00Z"}


def _hypertensive_patient(patient_id: str, systolic: float, diastolic: float) -> dict[str, Any]:
    """Aged 65, essential hypertension since 2019, an office visit in March 2025 with one blood pressure."""
    blood_pressure = {
        "resourceType": "Observation", "id": "bp-1", **_meta(BP_PROFILE), "status": "final",
        "category": [{"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "subject": {"reference": f"Patient/{patient_id}"}, "encounter": {"reference": "Encounter/visit-1"},
        "effectiveDateTime": "2025-03-10T09:10:00Z",
        "component": [
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": _quantity(systolic, "mm[Hg]")},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": _quantity(diastolic, "mm[Hg]")},
        ],
    }
    return reference.patient_bundle([
        _patient(patient_id, "1960-05-04"),
        _office_visit(patient_id, "2025-03-10"),
        _condition(patient_id, "59621000", "Essential hypertension (disorder)"),
        blood_pressure,
    ])


def _diabetic_patient(patient_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """Aged 65, type 2 diabetes, an office visit in April 2025 and one HbA1c that day with the given value."""
    hba1c = {
        "resourceType": "Observation", "id": "hba1c-1", **_meta(QICORE + "qicore-observation"),
        "status": "final",
        "category": [{"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "4548-4"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2025-04-02T10:00:00Z",
        **value,
    }
    return reference.patient_bundle([
        _patient(patient_id, "1960-05-04"),
        _office_visit(patient_id, "2025-04-02"),
        _condition(patient_id, "44054006", "Diabetes mellitus type 2 (disorder)"),
        hba1c,
    ])
