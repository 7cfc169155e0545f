"""CMS165 and CMS122: the MADiE cases in ../shared/data, and small FHIR cases for the rules that are easy to get
wrong. Every case goes through the real FHIR connector, ingest and patient store (``assistant.measures.cases``),
so these tests also check that the connector keeps what the measures read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.measures import cms122, cms165
from assistant.measures.cases import evaluate_case, evaluate_cases, read_expectation
from assistant.measures.period import calendar_year, parse_period
from assistant.measures.results import DENOMINATOR_EXCLUSION, INITIAL_POPULATION, NUMERATOR, MeasureResult
from assistant.measures.valuesets import OIDS, value_set

ECQM = Path("qa_care_transitions_aco") / "cqframework_ecqm-content-qicore-2024_testcases"
PID = "p1"

# ------------------------------------------------------------------------------------------ case builders


def _patient(birth: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PID, "birthDate": birth, "gender": "female",
            "name": [{"family": "Test", "given": ["Case"]}]}  # fmt: skip


def _office_visit(rid: str, when: str, klass: str = "AMB") -> dict[str, Any]:
    return {
        "resourceType": "Encounter", "id": rid, "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
        "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
        "subject": {"reference": f"Patient/{PID}"},
        "period": {"start": f"{when}T09:00:00.000Z", "end": f"{when}T09:30:00.000Z"},
    }  # fmt: skip


def _condition(rid: str, snomed: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition", "id": rid,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": snomed}]},
        "subject": {"reference": f"Patient/{PID}"}, "onsetDateTime": onset,
    }  # fmt: skip


def _bp(rid: str, when: str, systolic: float, diastolic: float, encounter: str | None = None) -> dict[str, Any]:
    def component(code: str, value: float) -> dict[str, Any]:
        return {"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "valueQuantity": {"value": value, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                  "code": "mm[Hg]"}}  # fmt: skip

    resource = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bp"]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": when,
        "component": [component("8480-6", systolic), component("8462-4", diastolic)],
    }  # fmt: skip
    if encounter:
        resource["encounter"] = {"reference": f"Encounter/{encounter}"}
    return resource


def _survey(rid: str, loinc: str, when: str, answer: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": rid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "survey"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": answer}]},
    }  # fmt: skip


def _hba1c(rid: str, when: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": rid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": when, **value,
    }  # fmt: skip


def _percent(value: float) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}


def _run(tmp_path: Path, measure: str, resources: list[dict[str, Any]]) -> MeasureResult:
    """Write a MADiE-style case folder (one file per resource + a MeasureReport for 2025) and evaluate it."""
    case = tmp_path / measure / "case-1"
    case.mkdir(parents=True)
    report = {
        "resourceType": "MeasureReport", "id": "expected", "status": "complete", "type": "individual",
        "measure": f"https://madie.cms.gov/Measure/{measure}", "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "contained": [{"resourceType": "Parameters", "id": "params",
                       "parameter": [{"name": "subject", "valueString": PID}]}],
        "group": [{"population": [{"code": {"coding": [{"code": "initial-population"}]}, "count": 1}]}],
    }  # fmt: skip
    for resource in [*resources, report]:
        (case / f"{resource['resourceType']}-{resource['id']}.json").write_text(json.dumps(resource))
    outcome = evaluate_case(measure, case)
    assert outcome.error is None, outcome.error
    assert outcome.result is not None
    return outcome.result


def _hypertensive(birth: str = "1960-05-01") -> list[dict[str, Any]]:
    return [_patient(birth), _office_visit("visit", "2025-02-03"), _condition("htn", "59621000", "2020-01-01")]


def _diabetic(birth: str = "1960-05-01") -> list[dict[str, Any]]:
    return [_patient(birth), _office_visit("visit", "2025-02-03"), _condition("dm", "44054006", "2020-01-01")]


def _ids(result: MeasureResult, population: str) -> set[str | None]:
    return {e.record_id for e in result.evidence[population]}


# ------------------------------------------------------------------------------------------ basics


def test_value_sets_load_from_the_copied_expansions() -> None:
    assert ("snomed", "59621000") in value_set("Essential Hypertension").codes
    assert ("hcpcs", "G9473") in value_set("Hospice Encounter").codes  # expansion URI mapped to our short name
    assert all(value_set(name).codes for name in OIDS)


def test_period_defaults_to_the_calendar_year_and_reads_report_dates() -> None:
    period = calendar_year(date(2026, 3, 2))
    assert (period.first_day, period.last_day) == (date(2026, 1, 1), date(2026, 12, 31))
    assert period.end.microsecond == 999000
    assert parse_period("2025-01-01", "2025-12-31").last_day == date(2025, 12, 31)


# ------------------------------------------------------------------------------------------ CMS165 rules


def test_cms165_same_day_takes_lowest_systolic_and_lowest_diastolic_separately(tmp_path: Path) -> None:
    result = _run(tmp_path, cms165.MEASURE, [
        *_hypertensive(),
        _bp("older", "2025-03-01T10:00:00Z", 170, 100),
        _bp("morning", "2025-06-10T08:00:00Z", 150, 85),
        _bp("evening", "2025-06-10T18:00:00Z", 135, 95),
    ])  # fmt: skip
    assert result.populations[INITIAL_POPULATION] and result.populations[NUMERATOR]
    reasons = {e.record_id: e.reason for e in result.evidence[NUMERATOR]}
    assert "135 mm[Hg], below 140" in reasons["evening"]  # the lowest systolic comes from the evening reading
    assert "85 mm[Hg], below 90" in reasons["morning"]  # the lowest diastolic from the morning one
    assert "older" not in reasons
    assert all(e.locator and e.source_path and e.document_id for e in result.evidence[NUMERATOR])


def test_cms165_most_recent_day_decides(tmp_path: Path) -> None:
    result = _run(tmp_path, cms165.MEASURE, [
        *_hypertensive(),
        _bp("controlled", "2025-04-01T10:00:00Z", 120, 70),
        _bp("latest", "2025-09-01T10:00:00Z", 150, 80),
    ])  # fmt: skip
    assert result.populations[INITIAL_POPULATION] and not result.populations[NUMERATOR]
    assert _ids(result, NUMERATOR) == {"latest"}
    assert any("150 mm[Hg], not below 140" in e.reason for e in result.evidence[NUMERATOR])


def test_cms165_readings_in_emergency_or_inpatient_stays_do_not_count(tmp_path: Path) -> None:
    result = _run(tmp_path, cms165.MEASURE, [
        *_hypertensive(),
        _office_visit("ed", "2025-10-05", klass="EMER"),
        _office_visit("stay", "2025-11-05", klass="IMP"),
        _bp("clinic", "2025-05-01T10:00:00Z", 128, 78, encounter="visit"),
        _bp("in-ed", "2025-10-05T09:10:00Z", 182, 104, encounter="ed"),
        _bp("on-ward", "2025-11-05T09:10:00Z", 176, 99, encounter="stay"),
    ])  # fmt: skip
    assert result.populations[NUMERATOR]
    assert _ids(result, NUMERATOR) == {"clinic"}
    assert any("EMER" in note for note in result.notes) and any("IMP" in note for note in result.notes)


def test_cms165_excludes_66_plus_whose_last_housing_status_is_a_nursing_home(tmp_path: Path) -> None:
    nursing_home, own_home = "160734000", "160943002"
    excluded = _run(tmp_path / "a", cms165.MEASURE, [
        *_hypertensive(birth="1955-03-01"),  # 70 at the end of 2025
        _survey("housing-old", "71802-3", "2024-05-01T10:00:00Z", own_home),
        _survey("housing-new", "71802-3", "2025-05-01T10:00:00Z", nursing_home),
    ])  # fmt: skip
    assert excluded.populations[DENOMINATOR_EXCLUSION] and not excluded.populations[NUMERATOR]
    assert "housing-new" in _ids(excluded, DENOMINATOR_EXCLUSION)
    assert "housing-old" not in _ids(excluded, DENOMINATOR_EXCLUSION)

    moved_home = _run(tmp_path / "b", cms165.MEASURE, [
        *_hypertensive(birth="1955-03-01"),
        _survey("housing-old", "71802-3", "2024-05-01T10:00:00Z", nursing_home),
        _survey("housing-new", "71802-3", "2025-05-01T10:00:00Z", own_home),
    ])  # fmt: skip
    assert not moved_home.populations[DENOMINATOR_EXCLUSION]

    too_young = _run(tmp_path / "c", cms165.MEASURE, [
        *_hypertensive(birth="1965-03-01"),
        _survey("housing-new", "71802-3", "2025-05-01T10:00:00Z", nursing_home),
    ])  # fmt: skip
    assert not too_young.populations[DENOMINATOR_EXCLUSION]


def test_cms165_hypertension_must_start_in_the_first_six_months(tmp_path: Path) -> None:
    late = _run(tmp_path, cms165.MEASURE, [
        _patient("1960-05-01"), _office_visit("visit", "2025-02-03"),
        _condition("htn", "59621000", "2025-07-01T00:00:00.000Z"),
    ])  # fmt: skip
    assert not late.populations[INITIAL_POPULATION]
    assert "first six months" in late.evidence[INITIAL_POPULATION][0].reason


# ------------------------------------------------------------------------------------------ CMS122 rules


def test_cms122_high_hba1c_is_a_gap_and_cites_the_result(tmp_path: Path) -> None:
    result = _run(tmp_path, cms122.MEASURE, [
        *_diabetic(),
        _hba1c("a1c-old", "2025-02-01T10:00:00Z", **_percent(12.0)),
        _hba1c("a1c-high", "2025-03-02T10:00:00Z", **_percent(9.4)),
        _hba1c("a1c-same-day", "2025-03-02T15:00:00Z", **_percent(9.8)),
    ])  # fmt: skip
    assert result.populations[NUMERATOR]
    (evidence,) = result.evidence[NUMERATOR]
    assert evidence.record_id == "a1c-high"  # the lowest of the most recent day
    assert evidence.reason == "most recent HbA1c 9.4 % on 2025-03-02, above 9 %"


def test_cms122_controlled_hba1c_closes_the_gap(tmp_path: Path) -> None:
    result = _run(tmp_path, cms122.MEASURE, [
        *_diabetic(),
        _hba1c("a1c-old", "2025-02-01T10:00:00Z", **_percent(10.5)),
        _hba1c("a1c-new", "2025-08-02T10:00:00Z", **_percent(7.1)),
    ])  # fmt: skip
    assert result.populations[INITIAL_POPULATION] and not result.populations[NUMERATOR]
    assert _ids(result, NUMERATOR) == {"a1c-new"}


def test_cms122_no_assessment_and_no_result_are_gaps(tmp_path: Path) -> None:
    none = _run(tmp_path / "a", cms122.MEASURE, _diabetic())
    assert none.populations[NUMERATOR]
    assert none.evidence[NUMERATOR][0].record_id is None and "no HbA1c" in none.evidence[NUMERATOR][0].reason

    no_value = _run(tmp_path / "b", cms122.MEASURE, [*_diabetic(), _hba1c("pending", "2025-05-05T10:00:00Z")])
    assert no_value.populations[NUMERATOR]
    assert _ids(no_value, NUMERATOR) == {"pending"}
    assert "has no result" in no_value.evidence[NUMERATOR][0].reason


def test_cms122_codeable_concept_result_is_a_value_as_the_cql_reads_it(tmp_path: Path) -> None:
    """``"Lowest ...".value is null`` tests the Observation's value: a CodeableConcept is one, so the assessment
    has a result; it is not a Quantity, so it is not above 9 % either. Not in the numerator (as fqm-execution
    computes it from the stewards' ELM)."""
    coded = {"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "373066001"}]}}
    result = _run(tmp_path, cms122.MEASURE, [*_diabetic(), _hba1c("coded", "2025-05-05T10:00:00Z", **coded)])
    assert result.populations[INITIAL_POPULATION] and not result.populations[NUMERATOR]
    assert _ids(result, NUMERATOR) == {"coded"}
    assert "CodeableConcept result" in result.evidence[NUMERATOR][0].reason


def test_cms122_hospice_excludes_and_hides_the_numerator(tmp_path: Path) -> None:
    hospice_encounter = {
        "resourceType": "Encounter", "id": "hospice", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"},
        "type": [{"coding": [{"system": "http://www.nlm.nih.gov/research/umls/hcpcs", "code": "G9473"}]}],
        "subject": {"reference": f"Patient/{PID}"},
        "period": {"start": "2024-12-20T00:00:00Z", "end": "2025-01-02T00:00:00Z"},
    }  # fmt: skip
    result = _run(tmp_path, cms122.MEASURE, [*_diabetic(), hospice_encounter])
    assert result.populations[DENOMINATOR_EXCLUSION] and not result.populations[NUMERATOR]
    assert _ids(result, DENOMINATOR_EXCLUSION) == {"hospice"}
    assert result.evidence[NUMERATOR] == ()


# ------------------------------------------------------------------------------------------ shared MADiE cases


@pytest.mark.slow  # an eval corpus: 52 cases, each through ingest (about 20 s)
def test_shared_madie_cases_agree(shared_data: Path) -> None:
    root = shared_data / ECQM
    report, outcomes = evaluate_cases(root)
    assert report["measures"].keys() == {cms165.MEASURE, cms122.MEASURE}
    assert set(report["not_implemented"]) >= {"DocumentationofCurrentMedicationsFHIR"}
    bp = report["measures"][cms165.MEASURE]
    assert bp["cases"] >= 30 and bp["agree"] == bp["cases"], bp["disagreements"]
    # CMS122: MADiE expects two CodeableConcept-coded HbA1c results in the numerator; the CQL (and the stewards'
    # reference engine) does not put them there. Every other case must agree.
    a1c = report["measures"][cms122.MEASURE]
    assert a1c["cases"] >= 22
    by_case = {o.case_id: o for o in outcomes if o.measure == cms122.MEASURE}
    for miss in a1c["disagreements"]:
        outcome = by_case[miss["case"]]
        assert miss["population"] == NUMERATOR and (miss["expected"], miss["got"]) == (1, 0), miss
        assert outcome.result is not None
        assert "CodeableConcept result" in outcome.result.evidence[NUMERATOR][0].reason, miss
    assert a1c["agree"] == a1c["cases"] - len(a1c["disagreements"])
    assert a1c["agree"] >= a1c["cases"] - 2


def test_expectation_is_read_from_the_measure_report(shared_data: Path) -> None:
    case = next(p for p in sorted((shared_data / ECQM / cms165.MEASURE).iterdir()) if p.is_dir())
    expectation = read_expectation(case)
    assert expectation.subject == case.name
    assert expectation.period.first_day == date(2025, 1, 1)
    assert set(expectation.populations) == {"initial-population", "denominator", "denominator-exclusion", "numerator"}
