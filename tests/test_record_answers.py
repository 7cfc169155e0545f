"""Record questions end to end: real FHIR bundles, a real C-CDA and a real CCLF file through the real connectors
into a real store, answered by ``answer_record_question`` and by the ask service (audited), each sentence cited to
the record it states.

Patients:
- Ann (FHIR bundle): HbA1c 8.1 % in May and 9.4 % in October, a blood pressure, a heart-failure stay discharged
  2026-11-19 whose discharge prescriptions increase furosemide 20 -> 40 mg and start metoprolol (metformin
  unchanged), a discharge summary that names a pending BNP, and the BNP order still open. Three coded conditions.
- Bo (FHIR bundle): HbA1c 6.1 %, asthma; no stay. Nothing of Bo's may appear in Ann's answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from assistant.record_answers import answer_record_question, classify
from assistant.record_answers.questions import (
    ALLERGIES,
    CLAIMS,
    CONDITIONS,
    ENCOUNTERS,
    FOLLOW_UPS,
    MEDICATION_CHANGES,
    MEDICATIONS,
    OBSERVATION,
    PENDING,
)
from assistant.records.store import PatientStore
from assistant.settings import REPO_ROOT
from connectors import registry

MBI_ANN, MBI_BO = "1EG4TE5MK73", "2FH5UF6NL84"
AS_OF = date(2026, 11, 25)
LOINC, RXNORM, ICD10 = (
    "http://loinc.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://hl7.org/fhir/sid/icd-10-cm",
)
SUMMARY = """Discharge Summary

Discharge Diagnosis:
Acute on chronic systolic heart failure

Discharge Medications:
Furosemide 40 mg daily (increased from 20 mg)
Metoprolol succinate 25 mg daily (new)
Metformin 500 mg twice daily

Discharge Instructions:
Weigh yourself every morning.
Follow up with Dr. Rivera in cardiology clinic in 1 week.
BNP drawn on the day of discharge is pending at discharge; Dr. Rivera will follow up the result.
"""


def _coded(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _lab(rid: str, subject: dict, code: str, display: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": subject,
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": _coded(LOINC, code, display),
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def _med(rtype: str, rid: str, subject: dict, code: str, name: str, dose: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": rtype,
        "id": rid,
        "status": "active",
        "subject": subject,
        "medicationCodeableConcept": _coded(RXNORM, code, name),
        "dosageInstruction" if rtype == "MedicationRequest" else "dosage": [{"text": dose}],
        **extra,
    }


def ann_bundle() -> dict[str, Any]:
    subject = {"reference": "Patient/p-ann"}
    stay = {"reference": "Encounter/enc-ann"}
    summary = base64.b64encode(SUMMARY.encode("utf-8")).decode("ascii")
    resources = [
        {
            "resourceType": "Patient",
            "id": "p-ann",
            "name": [{"family": "Archer", "given": ["Ann"]}],
            "gender": "female",
            "birthDate": "1948-03-02",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": MBI_ANN}],
        },
        _lab("a1c-may", subject, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 8.1, "%", "2026-05-10"),
        _lab("a1c-oct", subject, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 9.4, "%", "2026-10-02"),
        {
            "resourceType": "Observation",
            "id": "bp-nov",
            "status": "final",
            "subject": subject,
            "code": _coded(LOINC, "85354-9", "Blood pressure panel"),
            "effectiveDateTime": "2026-11-10",
            "component": [
                {
                    "code": _coded(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": {"value": 148, "unit": "mmHg", "code": "mm[Hg]"},
                },
                {
                    "code": _coded(LOINC, "8462-4", "Diastolic blood pressure"),
                    "valueQuantity": {"value": 88, "unit": "mmHg", "code": "mm[Hg]"},
                },
            ],
        },
        {
            "resourceType": "Encounter",
            "id": "enc-ann",
            "status": "finished",
            "subject": subject,
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "period": {"start": "2026-11-14T09:00:00-05:00", "end": "2026-11-19T15:00:00-05:00"},
            "serviceProvider": {"display": "Good Hospital"},
            "hospitalization": {
                "dischargeDisposition": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "home"}
                    ]
                }
            },
        },
        {
            "resourceType": "Condition",
            "id": "hf",
            "subject": subject,
            "encounter": stay,
            "clinicalStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "code": _coded(ICD10, "I50.23", "Acute on chronic systolic heart failure"),
            "onsetDateTime": "2026-11-14",
        },
        {
            "resourceType": "Condition",
            "id": "dm",
            "subject": subject,
            "clinicalStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "code": _coded(ICD10, "E11.9", "Type 2 diabetes mellitus without complications"),
            "onsetDateTime": "2019-04-01",
        },
        {
            "resourceType": "Condition",
            "id": "htn",
            "subject": subject,
            "clinicalStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "code": _coded(ICD10, "I10", "Essential (primary) hypertension"),
            "onsetDateTime": "2015-06-01",
        },
        _med(
            "MedicationStatement",
            "furo-home",
            subject,
            "310429",
            "Furosemide 20 MG Oral Tablet",
            "20 mg once daily",
            effectivePeriod={"start": "2025-01-01"},
        ),
        _med(
            "MedicationStatement",
            "metformin-home",
            subject,
            "861007",
            "Metformin 500 MG Oral Tablet",
            "500 mg twice daily",
            effectivePeriod={"start": "2024-02-01"},
        ),
        _med(
            "MedicationRequest",
            "furo-dc",
            subject,
            "313988",
            "Furosemide 40 MG Oral Tablet",
            "40 mg once daily",
            intent="order",
            authoredOn="2026-11-19",
            encounter=stay,
        ),
        _med(
            "MedicationRequest",
            "metoprolol-dc",
            subject,
            "866436",
            "Metoprolol Succinate 25 MG Extended Release Oral Tablet",
            "25 mg once daily",
            intent="order",
            authoredOn="2026-11-19",
            encounter=stay,
        ),
        _med(
            "MedicationRequest",
            "metformin-dc",
            subject,
            "861007",
            "Metformin 500 MG Oral Tablet",
            "500 mg twice daily",
            intent="order",
            authoredOn="2026-11-19",
            encounter=stay,
        ),
        {
            "resourceType": "ServiceRequest",
            "id": "bnp-order",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "encounter": stay,
            "authoredOn": "2026-11-19T10:00:00-05:00",
            "code": _coded(LOINC, "30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma"),
        },
        {
            "resourceType": "DocumentReference",
            "id": "ds-ann",
            "status": "current",
            "subject": subject,
            "type": _coded(LOINC, "18842-5", "Discharge summary"),
            "date": "2026-11-19T16:00:00-05:00",
            "description": "Discharge summary",
            "context": {"encounter": [stay]},
            "content": [{"attachment": {"contentType": "text/plain", "data": summary}}],
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def bo_bundle() -> dict[str, Any]:
    subject = {"reference": "Patient/p-bo"}
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in [
        {"resourceType": "Patient", "id": "p-bo", "name": [{"family": "Brook", "given": ["Bo"]}],
         "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": MBI_BO}]},
        _lab("a1c-bo", subject, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 6.1, "%", "2026-09-01"),
        {"resourceType": "Condition", "id": "asthma", "subject": subject,
         "clinicalStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
         "code": _coded(ICD10, "J45.909", "Unspecified asthma, uncomplicated"), "onsetDateTime": "2001-01-01"},
    ]]}  # fmt: skip


def ingest(store: PatientStore, path: Path) -> str:
    """One file through its real connector into the store, as the ingest pipeline writes it (document id = sha256)."""
    data = path.read_bytes()
    connector = registry.detect(path, data[:8192])
    assert connector is not None, path
    parsed = connector.parse(path, data)
    assert not [w for w in parsed.warnings if "skipped" in w], parsed.warnings
    document_id = hashlib.sha256(data).hexdigest()
    with store.transaction() as session:
        store.save_document(session, parsed, document_id)
    return document_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("record-answers")
    store = PatientStore(f"sqlite:///{root / 'store.db'}")
    for name, bundle in (("ann.json", ann_bundle()), ("bo.json", bo_bundle())):
        (root / name).write_text(json.dumps(bundle), encoding="utf-8")
        ingest(store, root / name)
    ids = {name: store.resolve_patient(mbi).id for name, mbi in (("ann", MBI_ANN), ("bo", MBI_BO))}  # type: ignore[union-attr]
    return {"store": store, "ids": ids, "root": root}


def ask(world: dict[str, Any], who: str, question: str, as_of: date = AS_OF) -> dict[str, Any]:
    found = answer_record_question(world["store"], world["ids"][who], question, as_of)
    assert found is not None, question
    return found.response(world["ids"][who])


def cited(response: dict[str, Any], sentence: dict[str, Any]) -> list[dict[str, Any]]:
    by_number = {c["n"]: c for c in response["citations"]}
    return [by_number[n] for n in sentence["citations"]]


RECORD_QUESTIONS = {
    "What is her most recent A1c?": (OBSERVATION, False), "What was his last HbA1c?": (OBSERVATION, False),
    "Latest A1c?": (OBSERVATION, False), "What were all her A1c results?": (OBSERVATION, True),
    "What was her blood pressure at the last visit?": (OBSERVATION, False), "What is her eGFR?": (OBSERVATION, False),
    "What medications changed at discharge?": (MEDICATION_CHANGES, True),
    "Which meds were started at discharge?": (MEDICATION_CHANGES, True),
    "Were any of her medications stopped?": (MEDICATION_CHANGES, True),
    "What medications is she on?": (MEDICATIONS, True), "What are her current medications?": (MEDICATIONS, True),
    "Is anything pending at discharge?": (PENDING, True), "Are any results pending?": (PENDING, True),
    "What are her diagnoses?": (CONDITIONS, True), "What are the discharge diagnoses?": (CONDITIONS, True),
    "When was her last hospital admission?": (ENCOUNTERS, False), "Has she had any ER visits?": (ENCOUNTERS, True),
    "What claims does she have?": (CLAIMS, True), "Does she have any allergies?": (ALLERGIES, True),
    "What is he allergic to?": (ALLERGIES, True), "When is the follow-up appointment?": (FOLLOW_UPS, True),
    "Does she have a follow-up scheduled?": (FOLLOW_UPS, True),
}  # fmt: skip


def test_classifier_routes_each_question_kind() -> None:
    for question, (kind, every) in RECORD_QUESTIONS.items():
        asked = classify(question)
        assert asked is not None and (asked.kind, asked.every) == (kind, every), question
    for question in ("What should her A1c target be?", "What is transitional care management?", "Why is TCM billed?"):
        assert classify(question) is None, question


@pytest.mark.parametrize(
    "name", ["knowledge_qa.jsonl", "knowledge_near_scope.jsonl", "knowledge_out_of_scope.jsonl",
             "bench_questions.jsonl"],
)  # fmt: skip
def test_knowledge_questions_are_not_taken_for_record_questions(name: str) -> None:
    """The side panel asks with a patient open: "what A1c counts as poor control" must still reach the knowledge
    answer. (These sets were read while the classifier was written; the MedQuAD test below is held out.)"""
    path = REPO_ROOT / "evals" / name
    questions = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(questions) >= 18
    taken = [q for q in questions if classify(q) is not None]
    assert taken == []


def test_medquad_questions_are_not_taken_for_record_questions(shared_data: Path) -> None:
    root = shared_data / "qa_care_transitions_aco" / "abachaa_MedQuAD_subset"
    questions = [q.text for f in sorted(root.rglob("*.xml")) for q in etree.parse(str(f)).iter("Question") if q.text]
    assert len(questions) >= 400
    assert [q for q in questions if classify(q) is not None] == []


def test_most_recent_a1c_is_the_october_observation(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What is her most recent A1c?")
    assert response["schema"] == "caretrail.ask/1" and not response["abstained"]
    assert len(response["sentences"]) == 1
    sentence = response["sentences"][0]
    assert "9.4 %" in sentence["text"] and "2026-10-02" in sentence["text"] and "8.1" not in response["answer"]
    [citation] = cited(response, sentence)
    assert (citation["type"], citation["resource_type"], citation["record_id"]) == ("record", "Observation", "a1c-oct")
    assert citation["locator"] == "Observation/a1c-oct" and citation["fields"]["value"] == 9.4
    assert citation["fields"]["unit"] == "%" and citation["source_path"].endswith("ann.json")
    assert citation["sha256"] == hashlib.sha256(citation["quote"].encode()).hexdigest()
    # The citation opens the FHIR resource: its locator names the resource in the source bundle, which says 9.4.
    bundle = json.loads(Path(citation["source_path"]).read_text(encoding="utf-8"))
    kind, rid = citation["locator"].split("/")
    [resource] = [e["resource"] for e in bundle["entry"] if (e["resource"]["resourceType"], e["resource"]["id"]) ==
                  (kind, rid)]  # fmt: skip
    assert resource["valueQuantity"]["value"] == 9.4


def test_every_a1c_when_asked_for_the_history(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What were all her A1c results?")
    texts = [s["text"] for s in response["sentences"]]
    assert len(texts) == 2 and "9.4 %" in texts[0] and "8.1 %" in texts[1]


def test_the_last_n_results(world: dict[str, Any]) -> None:
    asked = classify("What were her last 2 A1c results?")
    assert asked is not None and asked.limit == 2 and asked.every
    assert len(ask(world, "ann", "What were her last 2 A1c results?")["sentences"]) == 2
    assert len(ask(world, "ann", "What was her last one A1c?")["sentences"]) == 1


def test_an_earlier_as_of_date_sees_only_the_earlier_result(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What is her most recent A1c?", as_of=date(2026, 6, 1))
    assert "8.1 %" in response["answer"] and "9.4" not in response["answer"]


def test_blood_pressure_reads_the_components(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What was her last blood pressure?")
    assert "148/88" in response["answer"]
    [citation] = response["citations"]
    assert citation["fields"]["components[0].value"] == 148 and citation["fields"]["components[1].value"] == 88


def test_medication_changes_name_the_increase_and_the_new_drug(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What medications changed at discharge?")
    texts = [s["text"] for s in response["sentences"]]
    assert len(texts) == 2, texts  # metformin is unchanged: no sentence
    metoprolol = next(t for t in texts if "Metoprolol" in t)
    furosemide = next(t for t in texts if "Furosemide" in t)
    assert metoprolol.startswith("New at the 2026-11-19 discharge")
    assert "increased" in furosemide and "20 MG" in furosemide and "40 MG" in furosemide
    assert "Metformin" not in response["answer"]
    by_text = {s["text"]: cited(response, s) for s in response["sentences"]}
    assert {c["record_id"] for c in by_text[furosemide]} == {"furo-home", "furo-dc"}
    assert "metoprolol-dc" in {c["record_id"] for c in by_text[metoprolol]}
    assert all(c["resource_type"] in ("MedicationRequest", "MedicationStatement", "DocumentReference")
               for c in response["citations"])  # fmt: skip


def test_pending_names_the_bnp_from_the_summary_and_the_open_order(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "Is anything pending at discharge?")
    assert not response["abstained"]
    texts = [s["text"] for s in response["sentences"]]
    assert len(texts) == 2, texts
    line = next(s for s in response["sentences"] if "pending at discharge;" in s["text"])
    [citation] = cited(response, line)
    assert citation["quote"].startswith("BNP drawn on the day of discharge is pending at discharge")
    # The quote is the exact text of the source at its offsets (the decoded attachment of the DocumentReference).
    assert SUMMARY[citation["start"] : citation["end"]] == citation["quote"]
    assert citation["resource_type"] == "DocumentReference"
    order = next(s for s in response["sentences"] if "ServiceRequest" in s["text"])
    assert "Natriuretic peptide B" in order["text"] and cited(response, order)[0]["record_id"] == "bnp-order"
    assert "2026-11-19 discharge" in line["text"] and "15:00" not in response["answer"]


def test_a_result_closes_the_pending_order(world: dict[str, Any], tmp_path: Path) -> None:
    store = PatientStore(f"sqlite:///{tmp_path / 'store.db'}")
    bundle = ann_bundle()
    bundle["entry"].append({"resource": _lab("bnp-result", {"reference": "Patient/p-ann"}, "30934-4",
                                             "Natriuretic peptide B", 812, "pg/mL", "2026-11-20")})  # fmt: skip
    (tmp_path / "ann.json").write_text(json.dumps(bundle), encoding="utf-8")
    ingest(store, tmp_path / "ann.json")
    patient = store.resolve_patient(MBI_ANN)
    assert patient is not None
    found = answer_record_question(store, patient.id, "Is anything pending at discharge?", AS_OF)
    assert found is not None
    assert "ServiceRequest" not in found.text and "pending at discharge;" in found.text


def test_follow_up_from_the_summary_with_its_due_date(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "When is the follow-up appointment?")
    [sentence] = response["sentences"]
    assert "Follow up with Dr. Rivera in cardiology clinic in 1 week." in sentence["text"]
    assert "due 2026-11-25" in sentence["text"]  # 1 week from 11-19 is Thanksgiving: the business day before
    assert SUMMARY[cited(response, sentence)[0]["start"] : cited(response, sentence)[0]["end"]].startswith("Follow up")


def test_current_medications_list_the_discharge_doses(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What are her current medications?")
    assert {c["record_id"] for c in response["citations"]} == {"furo-dc", "metformin-dc", "metoprolol-dc"}
    assert "20 mg" not in response["answer"]  # the pre-admission dose was superseded at discharge


def test_diagnoses_list_every_condition(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What are her diagnoses?")
    text = response["answer"]
    for code in ("I50.23", "E11.9", "I10"):
        assert code in text, code
    assert "Acute on chronic systolic heart failure" in text
    coded = [s for s in response["sentences"] if "icd10" in s["text"]]
    assert len(coded) == 3
    assert {c["record_id"] for s in coded for c in cited(response, s)} == {"hf", "dm", "htn"}
    # The discharge diagnosis line of the summary is a fact of its own, cited to its span.
    line = next(s for s in response["sentences"] if "Discharge Diagnosis section" in s["text"])
    assert cited(response, line)[0]["quote"] == "Acute on chronic systolic heart failure"


def test_latest_admission(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "When was her last hospital admission?")
    assert len(response["sentences"]) == 1
    text = response["sentences"][0]["text"]
    assert "2026-11-14" in text and "2026-11-19" in text and "Good Hospital" in text


def test_one_patients_facts_never_reach_another(world: dict[str, Any]) -> None:
    ann, bo = world["ids"]["ann"], world["ids"]["bo"]
    for question in (
        "What is her most recent A1c?",
        "What are her diagnoses?",
        "What were all her A1c results?",
        "Is anything pending at discharge?",
        "What medications changed at discharge?",
    ):
        for who, other, foreign in (("ann", bo, ("6.1", "asthma", "J45")), ("bo", ann, ("9.4", "8.1", "I50"))):
            response = ask(world, who, question)
            assert not any(word.lower() in response["answer"].lower() for word in foreign), (who, question)
            assert all(c["patient_id"] == world["ids"][who] for c in response["citations"])
            assert other not in json.dumps(response)
    assert "6.1 %" in ask(world, "bo", "What is his most recent A1c?")["answer"]


def test_absent_facts_abstain_and_say_what_was_looked_for(world: dict[str, Any]) -> None:
    response = ask(world, "ann", "What is her most recent LDL?")
    assert response["abstained"] and response["sentences"] == [] and response["citations"] == []
    assert "LDL" in response["answer"] and "no LDL cholesterol result" in response["answer"]
    bo = ask(world, "bo", "What medications changed at discharge?")
    assert bo["abstained"] and "no discharge" in bo["answer"]
    assert ask(world, "bo", "Is anything pending at discharge?")["abstained"]
    assert ask(world, "bo", "Does she have any allergies?")["abstained"]


def test_not_a_record_question_gives_none(world: dict[str, Any]) -> None:
    assert answer_record_question(world["store"], world["ids"]["ann"], "What is the LEAD model?", AS_OF) is None


def test_a_citation_whose_record_changed_is_dropped(world: dict[str, Any], tmp_path: Path) -> None:
    """The check re-reads the store: a record replaced since the facts were read no longer supports its sentence."""
    from assistant.record_answers.citations import check_citation

    response = ask(world, "ann", "What is her most recent A1c?")
    citation = dict(response["citations"][0])
    assert check_citation(world["store"].engine, world["ids"]["ann"], citation) is None
    assert "no longer says value" in (check_citation(world["store"].engine, world["ids"]["ann"],
                                                     {**citation, "fields": {**citation["fields"], "value": 7.0}})
                                      or "")  # fmt: skip
    assert check_citation(world["store"].engine, world["ids"]["bo"], citation) == (
        "the cited record belongs to another patient"
    )


def test_same_answers_on_postgresql(world: dict[str, Any], tmp_path: Path) -> None:
    """The store's other database: the citation check re-reads JSON payloads, which PostgreSQL stores its own way."""
    from assistant.record_answers.opening import open_record
    from tests.helpers import postgres_schema

    with postgres_schema("record_answers") as (url, _admin):
        store = PatientStore(url)
        (tmp_path / "ann.json").write_text(json.dumps(ann_bundle()), encoding="utf-8")
        ingest(store, tmp_path / "ann.json")
        patient = store.resolve_patient(MBI_ANN)
        assert patient is not None
        for question in ("What is her most recent A1c?", "What medications changed at discharge?",
                         "Is anything pending at discharge?", "What are her diagnoses?"):  # fmt: skip
            here = answer_record_question(store, patient.id, question, AS_OF)
            there = answer_record_question(world["store"], world["ids"]["ann"], question, AS_OF)
            assert here is not None and there is not None and not here.abstained and here.dropped == []
            assert here.text == there.text
            for citation in here.citations:  # what opens is what was read, on this database too
                opened = open_record(store.engine, citation["chunk_id"])
                assert opened is not None and opened.sha256 == citation["chunk_sha256"]
        store.engine.dispose()


# -- a C-CDA and a CCLF claim file ------------------------------------------------------------------------------

CCD = "ccda/jmandel_sample_ccdas/Transitions of Care Samples/ToC_CCDA_CCD_CompGuideSample_FullXML.xml"


@pytest.fixture(scope="module")
def ccd_world(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("record-answers-ccd")
    store = PatientStore(f"sqlite:///{root / 'store.db'}")
    ingest(store, shared_data / CCD)
    [patient_id] = store.document_patient_ids(hashlib.sha256((shared_data / CCD).read_bytes()).hexdigest())
    return {"store": store, "patient_id": patient_id}


def test_ccda_a1c_is_cited_to_its_entry(ccd_world: dict[str, Any]) -> None:
    found = answer_record_question(ccd_world["store"], ccd_world["patient_id"], "What is his latest HbA1c?",
                                   date(2013, 1, 1))  # fmt: skip
    assert found is not None and not found.abstained
    [citation] = found.citations
    assert "8 %" in found.text and "2012-11-26" in found.text
    assert citation["resource_type"] == "C-CDA entry" and citation["format"] == "ccda"
    tree = etree.parse(citation["source_path"])
    [element] = tree.xpath(citation["locator"].rsplit(" (line ", 1)[0], namespaces={"cda": "urn:hl7-org:v3"})
    value = element.xpath(".//cda:value", namespaces={"cda": "urn:hl7-org:v3"})[0]
    assert value.get("value") == "8" and value.get("unit") == "%"


def test_ccda_discharge_summary_medication_changes(tmp_path: Path) -> None:
    """The transitions tests' C-CDA discharge summary (entries in the pre-admission and discharge sections): every
    change, each cited to the C-CDA entries on both lists."""
    from tests.test_transitions import MBI_ADA, discharge_summary

    (tmp_path / "ada_ds.xml").write_text(discharge_summary(), encoding="utf-8")
    store = PatientStore(f"sqlite:///{tmp_path / 'store.db'}")
    ingest(store, tmp_path / "ada_ds.xml")
    patient = store.resolve_patient(MBI_ADA)
    assert patient is not None
    found = answer_record_question(store, patient.id, "What medications changed at discharge?", date(2026, 11, 21))
    assert found is not None and not found.abstained
    texts = [s["text"] for s in found.sentences]
    assert len(texts) == 3, texts  # apixaban new, furosemide 20 -> 40 mg, lisinopril stopped; metformin unchanged
    assert texts[0].startswith("New at the 2026-11-20 discharge") and "Apixaban" in texts[0]
    assert "Furosemide" in texts[1] and "increased" in texts[1]
    assert texts[2].startswith("Stopped at the 2026-11-20 discharge") and "Lisinopril" in texts[2]
    entries = [c for c in found.citations if c["resource_type"] == "C-CDA entry"]
    assert len(entries) == 4 and all("cda:substanceAdministration" in c["locator"] for c in entries)
    pending = answer_record_question(store, patient.id, "Is anything pending at discharge?", date(2026, 11, 21))
    assert pending is not None and "Blood cultures pending at discharge" in pending.text


def test_ccda_problems_and_allergies_are_listed_whole(ccd_world: dict[str, Any]) -> None:
    store, patient_id = ccd_world["store"], ccd_world["patient_id"]
    found = answer_record_question(store, patient_id, "What are his diagnoses?", date(2013, 1, 1))
    assert found is not None
    conditions = [s for s in found.sentences if "snomed" in s["text"]]
    assert len(conditions) == 11  # every coded problem of the CCD's problem list
    assert any("Atrial fibrillation" in s["text"] for s in conditions)
    allergies = answer_record_question(store, patient_id, "What allergies does he have?", date(2013, 1, 1))
    assert allergies is not None and not allergies.abstained
    for citation in allergies.citations:
        assert citation["resource_type"] == "C-CDA section" and citation["quote"]


def test_cclf_claim_lines(tmp_path: Path) -> None:
    from assistant.demo.cclf_writer import write_cclf5

    lines = [{"CUR_CLM_UNIQ_ID": f"200000000000{n}", "CLM_LINE_NUM": "1", "BENE_MBI_ID": MBI_ANN,
              "CLM_TYPE_CD": "71", "CLM_FROM_DT": day, "CLM_THRU_DT": day, "CLM_LINE_FROM_DT": day,
              "CLM_LINE_THRU_DT": day, "CLM_LINE_HCPCS_CD": code, "CLM_LINE_CVRD_PD_AMT": "120.00",
              "CLM_LINE_DGNS_CD": "I5023", "CLM_DGNS_1_CD": "I5023", "RNDRG_PRVDR_NPI_NUM": "1234567893",
              "DGNS_PRCDR_ICD_IND": "0", "CLM_POS_CD": "11"}
             for n, (day, code) in enumerate((("2026-10-05", "99214"), ("2026-11-24", "99496")))]  # fmt: skip
    path = write_cclf5(tmp_path / "P.A1234.ACO.ZC5Y26.D261130.T0000001", lines)
    store = PatientStore(f"sqlite:///{tmp_path / 'store.db'}")
    ingest(store, path)
    patient = store.resolve_patient(MBI_ANN)
    assert patient is not None
    found = answer_record_question(store, patient.id, "What claims does she have?", AS_OF)
    assert found is not None and len(found.sentences) == 2
    assert "99496" in found.sentences[0]["text"] and "99214" in found.sentences[1]["text"]
    for citation, number in zip(found.citations, (2, 1), strict=True):
        assert citation["resource_type"] == "CCLF5 claim line" and citation["locator"] == f"line {number}"
        assert Path(citation["source_path"]).read_text().splitlines()[number - 1].startswith(citation["record_id"][:13])
    diagnoses = answer_record_question(store, patient.id, "What are her diagnoses?", AS_OF)
    assert diagnoses is not None and "I5023 is on 2 claim line(s)" in diagnoses.text


# -- through the service layer and the API: the panel check, the audit, opening a record citation ---------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from assistant.context import open_context
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("record-answers-served")
    ctx = open_context(Settings(data_dir=root / "data", rate_limit="100000/minute",
                                auth_failure_limit="100000/minute"))  # fmt: skip
    for name, bundle in (("ann.json", ann_bundle()), ("bo.json", bo_bundle())):
        (root / name).write_text(json.dumps(bundle), encoding="utf-8")
        ingest(ctx.patients, root / name)
    ids = {name: ctx.patients.resolve_patient(mbi).id for name, mbi in (("ann", MBI_ANN), ("bo", MBI_BO))}
    ctx.patients.assign_panel("cm", [ids["ann"]])
    return {"ctx": ctx, "ids": ids}


def test_service_answers_from_the_record_and_audits_first(served: dict[str, Any]) -> None:
    from assistant.audit.log import audit_log_for
    from assistant.errors import PermissionDenied
    from assistant.services.answers import ask as service_ask
    from assistant.services.caller import Caller

    ctx, cm = served["ctx"], Caller("cm", "care_manager", "cli")
    result = service_ask(ctx, cm, "What medications changed at discharge?", patient_ref=MBI_ANN, as_of=AS_OF)
    assert result["source"] == "record" and result["patient_id"] == served["ids"]["ann"]
    assert "Metoprolol" in result["answer"] and "Furosemide" in result["answer"]
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row is not None and row.event == "ask" and row.patient_id == served["ids"]["ann"]
    assert row.payload["source"] == "record" and row.payload["answer"] == result["answer"]
    assert {c["record_id"] for c in row.payload["citations"]} >= {"furo-home", "furo-dc", "metoprolol-dc"}
    assert audit_log_for(ctx).verify().ok
    with pytest.raises(PermissionDenied):
        service_ask(ctx, cm, "What is his most recent A1c?", patient_ref=MBI_BO, as_of=AS_OF)


def test_record_citations_open_like_sources(served: dict[str, Any]) -> None:
    from assistant.audit.log import audit_log_for
    from assistant.errors import PermissionDenied
    from assistant.services.answers import ask as service_ask
    from assistant.services.caller import Caller
    from assistant.services.sources import open_source

    ctx, cm = served["ctx"], Caller("cm", "care_manager", "cli")
    result = service_ask(ctx, cm, "What is her most recent A1c?", patient_ref=MBI_ANN, as_of=AS_OF)
    [citation] = result["citations"]
    assert citation["chunk_id"].startswith("record:")
    opened = open_source(ctx, cm, citation["chunk_id"], citation["start"], citation["end"])
    assert opened["sha256"] == citation["chunk_sha256"]  # what opens is what the answer was read from
    assert opened["record"]["value"] == 9.4 and opened["record"]["id"] == "a1c-oct"
    assert json.loads(opened["source_excerpt"])["valueQuantity"]["value"] == 9.4  # the FHIR resource itself
    assert audit_log_for(ctx).get(opened["audit_id"]).event == "source.open"  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        open_source(ctx, Caller("cm-other", "care_manager", "cli"), citation["chunk_id"])
    # A narrative line opens at its span: the section text with the quoted line marked.
    pending = service_ask(ctx, cm, "Is anything pending at discharge?", patient_ref=MBI_ANN, as_of=AS_OF)
    line = next(c for c in pending["citations"] if c["kind"] == "section")
    shown = open_source(ctx, cm, line["chunk_id"], line["start"], line["end"])
    marked = shown["text"][shown["highlight"]["start"] : shown["highlight"]["end"]]
    assert marked == line["quote"] and "BNP" in marked


def test_api_returns_record_citations_in_the_ask_contract(served: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.api.deps import get_ctx
    from tests.helpers_auth import bearer

    ctx = served["ctx"]
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app) as client:
        headers = bearer(ctx, "care_manager", "cm")
        got = client.post("/v1/ask", json={"question": "Is anything pending at discharge?", "patient_id": MBI_ANN},
                          headers=headers)  # fmt: skip
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["schema"] == "caretrail.ask/1" and body["source"] == "record" and len(body["sentences"]) == 2
        order = next(c for c in body["citations"] if c["record_id"] == "bnp-order")
        assert order["resource_type"] == "ServiceRequest" and order["fields"]["status"] == "active"
        opened = client.get(f"/v1/sources/{order['chunk_id']}", headers=headers)
        assert opened.status_code == 200 and opened.json()["record"]["id"] == "bnp-order"
        other = bearer(ctx, "care_manager", "cm-other")
        assert client.get(f"/v1/sources/{order['chunk_id']}", headers=other).status_code == 403
        refused = client.post("/v1/ask", json={"question": "What is his most recent A1c?", "patient_id": MBI_BO},
                              headers=headers)  # fmt: skip
        assert refused.status_code == 403 and "6.1" not in refused.text
