"""LEAD claims-based estimates on records that came in through the real FHIR connector and the store, plus CCLF
claim records saved through the store: readmission, Days at Home, Timely Follow-Up and the UAMCC cohort, each flag
citing the stays and visits it rests on."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.measures.estimates import estimate
from assistant.records.model import Claim, Code, ParsedDocument
from assistant.records.store import PatientStore
from connectors import registry
from tests.helpers_store import MBI_ONEIL, prov, save

KEY = f"mbi|{MBI_ONEIL}"

AS_OF = date(2026, 11, 16)


def _encounter(eid: str, klass: str, start: str, end: str, icd10: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter", "id": eid, "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
        "subject": {"reference": "Patient/p1"}, "period": {"start": start, "end": end},
    }
    if icd10:
        resource["reasonCode"] = [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd10}]}]
    return {"resource": resource}


def _bundle() -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1944-02-01", "gender": "female",
                      "name": [{"family": "Nguyen", "given": ["Lan"]}],
                      "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": MBI_ONEIL}]}},
        _encounter("ip-1", "IMP", "2026-03-02T08:00:00Z", "2026-03-06T12:00:00Z", "I50.9"),  # HF stay
        _encounter("amb-1", "AMB", "2026-03-12T09:00:00Z", "2026-03-12T09:30:00Z"),  # seen 6 days later
        _encounter("ip-2", "IMP", "2026-03-20T08:00:00Z", "2026-03-23T10:00:00Z", "J44.1"),  # readmitted, COPD
        _encounter("ed-1", "EMER", "2026-11-10T22:00:00Z", "2026-11-11T03:00:00Z", "I10"),  # HTN ED visit, open
        {"resource": {"resourceType": "Condition", "id": "c-ckd", "subject": {"reference": "Patient/p1"},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.3"}]}}},
    ]}


@pytest.fixture
def patient(tmp_path: Path) -> tuple[PatientStore, str]:
    store = PatientStore(f"sqlite:///{tmp_path / 'store.db'}")
    path = tmp_path / "bundle.json"
    data = json.dumps(_bundle()).encode()
    path.write_bytes(data)
    parsed = registry.detect(path, data).parse(path, data)  # type: ignore[union-attr]
    save(store, parsed)
    snf = Claim(id="clm-snf", patient_key=KEY, claim_type="20", file_type="CCLF1",
                from_date=date(2026, 3, 23), thru_date=date(2026, 3, 30),
                diagnoses=[Code(system="icd10", code="J44.1")],
                provenance=prov("cclf/CCLF1", "c1" * 32, "cclf", "line 4"))
    save(store, ParsedDocument(source_path="cclf/CCLF1", source_sha256="c1" * 32, format="cclf", records=[snf]))
    return store, store.resolve_patient(MBI_ONEIL).id


def _flags(result: Any, measure: str) -> list[Any]:
    return [f for f in result.flags if f.measure == measure]


def test_each_estimate_cites_what_it_rests_on(patient: tuple[PatientStore, str]) -> None:
    store, patient_id = patient
    row = store.get_patient(patient_id)
    result = estimate(patient_id, store.patient_records(patient_id), row.birth_date, AS_OF)

    (readmission,) = _flags(result, "readmission")
    assert readmission.summary == "readmitted 2026-03-20, 14 days after the discharge of 2026-03-06"
    assert {e.record_id for e in readmission.evidence} >= {"ip-1", "ip-2"}

    # Days away: Mar 2-6 (5), Mar 20-23 inpatient + SNF Mar 23-30 (11 days, the 23rd once), Nov 10-11 ED (2).
    assert result.days_in_period == 320 and result.days_at_home == 320 - 18
    (away,) = _flags(result, "days_at_home")
    assert "clm-snf" in {e.record_id for e in away.evidence}

    follow_ups = {f.summary.split(":")[0]: f for f in _flags(result, "timely_follow_up")}
    assert follow_ups["heart failure"].status == "met" and follow_ups["heart failure"].unconfirmed
    assert "amb-1" in {e.record_id for e in follow_ups["heart failure"].evidence}
    assert follow_ups["COPD"].status == "missed"  # the SNF stay is not a clinician visit
    assert follow_ups["hypertension"].status == "due" and follow_ups["hypertension"].due == date(2026, 12, 11)

    (cohort,) = _flags(result, "uamcc")
    assert "aged 82" in cohort.summary and cohort.unconfirmed
    assert {e.record_id for e in cohort.evidence} >= {"c-ckd"}
    assert "before CMS reconciliation" in result.notes[0]


def test_a_planned_admission_is_not_a_readmission(patient: tuple[PatientStore, str]) -> None:
    store, patient_id = patient
    elective = Claim(id="clm-elective", patient_key=KEY, claim_type="60", file_type="CCLF1",
                     from_date=date(2026, 4, 10), thru_date=date(2026, 4, 12), admission_type="3",
                     provenance=prov("cclf/CCLF1b", "c2" * 32, "cclf", "line 1"))
    save(store, ParsedDocument(source_path="cclf/CCLF1b", source_sha256="c2" * 32, format="cclf", records=[elective]))
    result = estimate(patient_id, store.patient_records(patient_id), None, AS_OF)
    (away,) = _flags(result, "days_at_home")
    assert "clm-elective" in {e.record_id for e in away.evidence}  # the stay is on file, and counts as days away
    assert [f.summary for f in _flags(result, "readmission")] == [
        "readmitted 2026-03-20, 14 days after the discharge of 2026-03-06"]
    assert _flags(result, "uamcc") == []  # no birth date: the cohort cannot be decided, so no flag
