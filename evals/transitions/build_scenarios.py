"""Write the record files of the hand-made transition scenarios (FHIR bundles, HL7 v2 ADT messages, C-CDA discharge
summaries) into evals/transitions/scenarios/<name>/.

Why a script: the records are long and regular (a patient, a stay, medication lists, a discharge summary), so they
are written from short descriptions here and committed as files; re-running it gives the same bytes. It writes
records only. Each scenario's ``expected.json`` (the items, due dates and medication changes a coordinator should
get) is written by hand from the protocols in knowledge/ and the business-day rules, and is never generated. The
scenarios that read real documents from ../shared/data have no record files here, only their expected.json.

Run: .venv/bin/python evals/transitions/build_scenarios.py
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "scenarios"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MBI = "http://hl7.org/fhir/sid/us-mbi"
SOPT = "https://nahdo.org/sopt"


# -- FHIR ---------------------------------------------------------------------------------------------------------


def patient(
    pid: str,
    mbi: str,
    family: str,
    given: str,
    birth: str = "1946-03-02",
    language: str | None = None,
    deceased: str | None = None,
    homebound: bool = False,
    dual: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": pid, "identifier": [{"system": MBI, "value": mbi}],
                                "name": [{"family": family, "given": [given]}], "birthDate": birth}  # fmt: skip
    if language:
        resource["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                                      "preferred": True}]  # fmt: skip
    if deceased:
        resource["deceasedDateTime"] = deceased
    return resource


def coverage(pid: str, homebound: bool = False, dual: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Coverage", "id": f"{pid}-medicare", "status": "active",
        "type": {"coding": [{"system": SOPT, "code": "1", "display": "Medicare"}], "text": "Medicare"},
        "beneficiary": {"reference": f"Patient/{pid}"}, "payor": [{"display": "Medicare"}],
        "period": {"start": "2020-01-01"},
    }  # fmt: skip
    extensions = []
    if homebound:
        extensions.append({"url": "urn:caretrail:fhir:extension:homebound", "valueBoolean": True})
    if dual:
        extensions.append({"url": "https://bluebutton.cms.gov/resources/variables/dual_12",
                           "valueCoding": {"system": "https://bluebutton.cms.gov/resources/variables/dual_12",
                                           "code": dual}})  # fmt: skip
    if extensions:
        resource["extension"] = extensions
    return resource


def encounter(
    eid: str,
    pid: str,
    klass: str,
    start: str,
    end: str,
    disposition: str | None = None,
    reasons: tuple[tuple[str, str], ...] = (),
    status: str = "finished",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter", "id": eid, "status": status, "subject": {"reference": f"Patient/{pid}"},
        "class": {"system": V3_ACT, "code": klass}, "period": {"start": start, "end": end},
    }  # fmt: skip
    if disposition:
        resource["hospitalization"] = {"dischargeDisposition": {"coding": [{"system": DISPOSITION,
                                                                             "code": disposition}]}}  # fmt: skip
    if reasons:
        resource["reasonCode"] = [{"coding": [{"system": ICD10, "code": code, "display": text}]}
                                  for code, text in reasons]  # fmt: skip
    return resource


def condition(cid: str, pid: str, code: str, text: str, encounter_id: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "code": {"coding": [{"system": ICD10, "code": code, "display": text}]},
    }  # fmt: skip
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return resource


def statement(mid: str, pid: str, rxnorm: str, name: str, dose: str, start: str) -> dict[str, Any]:
    """A medication the patient was taking before admission."""
    return {"resourceType": "MedicationStatement", "id": mid, "status": "active",
            "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm, "display": name}]},
            "effectivePeriod": {"start": start}, "dosage": [{"text": dose}]}  # fmt: skip


def prescription(
    mid: str, pid: str, rxnorm: str, name: str, dose: str, encounter_id: str, authored: str, status: str = "active"
) -> dict[str, Any]:
    """A discharge prescription: written for the stay's encounter on the day of discharge."""
    return {"resourceType": "MedicationRequest", "id": mid, "status": status, "intent": "order",
            "subject": {"reference": f"Patient/{pid}"}, "encounter": {"reference": f"Encounter/{encounter_id}"},
            "authoredOn": authored,
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm, "display": name}]},
            "dosageInstruction": [{"text": dose}]}  # fmt: skip


def note(
    did: str, pid: str, date: str, text: str, title: str = "Discharge summary", loinc: str = "18842-5"
) -> dict[str, Any]:
    return {"resourceType": "DocumentReference", "id": did, "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": title}], "text": title},
            "description": title, "subject": {"reference": f"Patient/{pid}"}, "date": date,
            "content": [{"attachment": {"contentType": "text/plain",
                                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}}]}  # fmt: skip


def procedure(prid: str, pid: str, code: str, display: str, performed: str) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": prid, "status": "completed", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code, "display": display}]},
            "performedDateTime": performed}  # fmt: skip


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


# -- HL7 v2 -------------------------------------------------------------------------------------------------------


def adt(
    trigger: str,
    control: str,
    pid3: str,
    name: str,
    visit: str,
    discharged: str,
    sent: str,
    disposition: str = "01",
    dg1: tuple[tuple[str, str], ...] = (),
    patient_class: str = "I",
    admitted: str | None = None,
) -> str:
    """One ADT message; ``discharged`` goes in PV1-45 (empty for an A13 that does not repeat it)."""
    admitted = admitted or f"{(discharged or sent)[:8]}080000"
    segments = [
        f"MSH|^~\\&|EPICADT|GOODHOSP|CARETRAIL|ACO|{sent}||ADT^{trigger}^ADT_A03|{control}|P|2.5.1",
        f"EVN|{trigger}|{sent}",
        f"PID|1||{pid3}||{name}",
        f"PV1|1|{patient_class}|4W^412^B^GOODHOSP||||||||||||||||{visit}^^^GOODHOSP^VN|||||||||||||||||{disposition}"
        f"|||||||{admitted}|{discharged}",
    ]
    for n, (code, text) in enumerate(dg1, start=1):
        segments.append(f"DG1|{n}||{code}^{text}^I10|||A")
    return "\r".join(segments) + "\r"


# -- C-CDA --------------------------------------------------------------------------------------------------------

_MED = """
<entry><substanceAdministration classCode="SBADM" moodCode="INT">
  <templateId root="2.16.840.1.113883.10.20.22.4.16"/>
  <id root="{uid}"/>
  <statusCode code="{status}"/>
  <effectiveTime xsi:type="IVL_TS"><low value="20260101"/></effectiveTime>
  <doseQuantity value="{dose}" unit="mg"/>
  <consumable><manufacturedProduct><manufacturedMaterial>
    <code code="{rxnorm}" codeSystem="2.16.840.1.113883.6.88" displayName="{name}"/>
  </manufacturedMaterial></manufacturedProduct></consumable>
</substanceAdministration></entry>"""

_PROBLEM = """
<entry><act classCode="ACT" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.22.4.33"/>
  <code code="11535-2" codeSystem="2.16.840.1.113883.6.1"/>
  <entryRelationship typeCode="SUBJ"><observation classCode="OBS" moodCode="EVN">
    <templateId root="2.16.840.1.113883.10.20.22.4.4"/>
    <code code="29308-4" codeSystem="2.16.840.1.113883.6.1"/>
    <statusCode code="completed"/>
    <value xsi:type="CD" code="{code}" codeSystem="2.16.840.1.113883.6.90" displayName="{text}"/>
  </observation></entryRelationship>
</act></entry>"""


def _meds(rows: list[tuple[str, str, str, str]], prefix: str) -> str:
    return "".join(_MED.format(uid=f"{prefix}-{n}", rxnorm=code, name=name, dose=dose, status=status)
                   for n, (code, name, dose, status) in enumerate(rows))  # fmt: skip


def _section(loinc: str, title: str, lines: list[str], entries: str = "") -> str:
    text = "".join(f"<paragraph>{line}</paragraph>" for line in lines)
    return (f'<component><section><code code="{loinc}" codeSystem="2.16.840.1.113883.6.1"/><title>{title}</title>'
            f"<text>{text}</text>{entries}</section></component>")  # fmt: skip


def discharge_summary(
    doc_id: str,
    mbi: str,
    given: str,
    family: str,
    visit: str,
    admitted: str,
    discharged: str,
    disposition: str,
    diagnosis: tuple[str, str],
    before: list[tuple[str, str, str, str]],
    after: list[tuple[str, str, str, str]],
    instructions: list[str],
    social: list[str] = (),
    extra: str = "",
    attending: str = "Ben Hospitalist",
) -> str:
    first, last = attending.split(" ", 1)
    body = "".join([
        _section("11535-2", "Hospital Discharge Diagnosis", [diagnosis[1]], _PROBLEM.format(code=diagnosis[0],
                                                                                             text=diagnosis[1])),
        _section("10160-0", "Medications", [f"{r[1]} {r[2]} mg" for r in before], _meds(before, f"{doc_id}-pre")),
        _section("10183-2", "Hospital Discharge Medications", [f"{r[1]} {r[2]} mg" for r in after],
                 _meds(after, f"{doc_id}-dis")),
        _section("29762-2", "Social History", list(social)) if social else "",
        _section("8653-8", "Hospital Discharge Instructions", instructions),
        extra,
    ])  # fmt: skip
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <templateId root="2.16.840.1.113883.10.20.22.1.8"/>
  <id root="2.16.840.1.113883.19.5" extension="{doc_id}"/>
  <code code="18842-5" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Discharge summary</title>
  <effectiveTime value="{discharged}"/>
  <recordTarget><patientRole>
    <id root="2.16.840.1.113883.4.927" extension="{mbi}"/>
    <patient><name><given>{given}</given><family>{family}</family></name><birthTime value="19450101"/></patient>
  </patientRole></recordTarget>
  <componentOf><encompassingEncounter>
    <id root="2.16.840.1.113883.19" extension="{visit}"/>
    <code code="IMP" codeSystem="2.16.840.1.113883.5.4"/>
    <effectiveTime><low value="{admitted}"/><high value="{discharged}"/></effectiveTime>
    <dischargeDispositionCode code="{disposition}" codeSystem="2.16.840.1.113883.12.112"/>
    <encounterParticipant typeCode="ATND"><assignedEntity>
      <id root="2.16.840.1.113883.4.6" extension="1245319599"/>
      <assignedPerson><name><given>{first}</given><family>{last}</family></name></assignedPerson>
    </assignedEntity></encounterParticipant>
  </encompassingEncounter></componentOf>
  <component><structuredBody>{body}</structuredBody></component>
</ClinicalDocument>
"""


# -- the scenarios ------------------------------------------------------------------------------------------------


def scenarios() -> dict[str, dict[str, str | dict[str, Any]]]:
    """Scenario folder -> {file name: content (a FHIR resource dict is written as JSON)}."""
    s: dict[str, dict[str, str | dict[str, Any]]] = {}

    p = "tx-hf-friday"
    s["fhir-friday-heart-failure"] = {
        "bundle.json": bundle(
            patient(p, "1TX1AA1AA11", "Frye", "Fiona"),
            coverage(p),
            encounter("enc-hf", p, "IMP", "2026-11-16T08:00:00-05:00", "2026-11-20T11:00:00-05:00", "home"),
            condition("hf-dx", p, "I50.23", "Acute on chronic systolic heart failure", "enc-hf"),
            statement("pre-furosemide", p, "310429", "Furosemide 20 MG Oral Tablet", "20 mg daily", "2025-01-10"),
            statement("pre-lisinopril", p, "314076", "Lisinopril 10 MG Oral Tablet", "10 mg daily", "2024-05-01"),
            statement("pre-metformin", p, "861007", "Metformin 500 MG Oral Tablet", "500 mg twice daily", "2023-02-01"),
            prescription(
                "dis-furosemide", p, "313988", "Furosemide 40 MG Oral Tablet", "40 mg daily", "enc-hf", "2026-11-20"
            ),
            prescription(
                "dis-metformin",
                p,
                "861007",
                "Metformin 500 MG Oral Tablet",
                "500 mg twice daily",
                "enc-hf",
                "2026-11-20",
            ),
            prescription(
                "dis-apixaban", p, "1364435", "Apixaban 5 MG Oral Tablet", "5 mg twice daily", "enc-hf", "2026-11-20"
            ),
            note(
                "ds-hf",
                p,
                "2026-11-20T15:00:00-05:00",
                "Discharge summary\n\nDischarge Diagnoses:\nAcute on chronic systolic heart failure\n\n"
                "Discharge Instructions:\nWeigh yourself every morning before breakfast.\n"
                "Call the heart failure clinic if you gain more than 3 pounds in a day or 5 pounds in a week.\n"
                "Follow up with Dr. Patel in cardiology clinic in 1 week.\n"
                "Call 911 if you have chest pain or severe shortness of breath.\n",
            ),
        )
    }

    s["ccda-thanksgiving-copd"] = {
        "discharge_summary.xml": discharge_summary(
            "DS-COPD",
            "2TX2CC2CC22",
            "Carl",
            "Osei",
            "V-COPD",
            "20261121090000-0500",
            "20261125140000-0500",
            "01",
            ("J44.1", "Chronic obstructive pulmonary disease with acute exacerbation"),
            [
                ("1552006", "Tiotropium 18 MCG Inhalation Capsule", "0.018", "active"),
                ("745679", "Albuterol 90 MCG Metered Dose Inhaler", "0.09", "active"),
            ],
            [
                ("1552006", "Tiotropium 18 MCG Inhalation Capsule", "0.018", "active"),
                ("745679", "Albuterol 90 MCG Metered Dose Inhaler", "0.09", "active"),
                ("312615", "Prednisone 20 MG Oral Tablet", "40", "active"),
            ],
            [
                "Use your rescue inhaler as prescribed.",
                "Home oxygen 2 liters by nasal cannula at night.",
                "Go to the emergency room if you are short of breath at rest or your lips turn blue.",
                "Follow up with your primary care doctor within 7 days.",
            ],
            social=["Lives with his wife, who helps with his medicines."],
        )
    }

    s["hl7-christmas-eve"] = {
        "a03.hl7": adt(
            "A03",
            "XMAS1",
            "MRN-XMAS^^^GOODHOSP^MR",
            "Noel^Nora^^^^^L||19400101|F",
            "V-XMAS",
            "20261224120000",
            "20261224120500",
        )
    }

    s["hl7-a13-cancelled"] = {
        "1_a03.hl7": adt(
            "A03",
            "CAN1",
            "3TX3DD3DD33^^^CMS^MB",
            "Cole^Cass^^^^^L||19410101|F",
            "V-CAN",
            "20261210100000",
            "20261210100500",
        ),
        "2_a13.hl7": adt(
            "A13", "CAN2", "3TX3DD3DD33^^^CMS^MB", "Cole^Cass^^^^^L||19410101|F", "V-CAN", "", "20261210160000"
        ),
    }

    s["hl7-duplicate-a03-saturday-mlk"] = {
        "1_a03.hl7": adt(
            "A03",
            "DUP1",
            "MRN-DUP^^^GOODHOSP^MR",
            "Dunn^Dale^^^^^L||19380101|M",
            "V-DUP",
            "20270116103000",
            "20270116103500",
        ),
        "2_a03_resent.hl7": adt(
            "A03",
            "DUP2",
            "MRN-DUP^^^GOODHOSP^MR",
            "Dunn^Dale^^^^^L||19380101|M",
            "V-DUP",
            "20270116103000",
            "20270116110000",
        ),
    }

    p = "tx-readmit"
    s["fhir-readmission"] = {
        "bundle.json": bundle(
            patient(p, "4TX4EE4EE44", "Reyes", "Rita"),
            coverage(p),
            encounter(
                "enc-first",
                p,
                "IMP",
                "2026-10-26T08:00:00-05:00",
                "2026-10-30T12:00:00-05:00",
                "home",
                (("J18.9", "Pneumonia, unspecified organism"),),
            ),
            encounter(
                "enc-second",
                p,
                "IMP",
                "2026-11-10T08:00:00-05:00",
                "2026-11-13T12:00:00-05:00",
                "home",
                (("J18.9", "Pneumonia, unspecified organism"),),
            ),
            prescription(
                "dis-levo",
                p,
                "311296",
                "Levofloxacin 750 MG Oral Tablet",
                "750 mg daily for 5 days",
                "enc-second",
                "2026-11-13",
            ),
            note(
                "ds-readmit",
                p,
                "2026-11-13T14:00:00-05:00",
                "Discharge summary\n\nDischarge Instructions:\nFinish the antibiotic course.\n"
                "Return to the emergency department if you have a fever over 101 or trouble breathing.\n",
            ),
        )
    }

    p = "tx-died"
    s["fhir-patient-died"] = {
        "bundle.json": bundle(
            patient(p, "5TX5FF5FF55", "Dalton", "Dora", deceased="2026-11-04T06:00:00-05:00"),
            coverage(p),
            encounter(
                "enc-died",
                p,
                "IMP",
                "2026-10-29T08:00:00-05:00",
                "2026-11-04T06:00:00-05:00",
                "exp",
                (("I21.4", "Non-ST elevation myocardial infarction"),),
            ),
        )
    }

    p = "tx-hospice"
    s["fhir-hospice-before-thanksgiving"] = {
        "bundle.json": bundle(
            patient(p, "6TX6GG6GG66", "Hale", "Hugo"),
            coverage(p),
            encounter(
                "enc-hospice",
                p,
                "IMP",
                "2026-11-08T08:00:00-05:00",
                "2026-11-12T12:00:00-05:00",
                "hosp",
                (("C34.90", "Malignant neoplasm of unspecified part of bronchus or lung"),),
            ),
        )
    }

    p = "tx-snf"
    s["fhir-skilled-nursing"] = {
        "bundle.json": bundle(
            patient(p, "7TX7HH7HH77", "Sato", "Sumi"),
            coverage(p),
            encounter(
                "enc-snf",
                p,
                "IMP",
                "2026-11-12T08:00:00-05:00",
                "2026-11-18T12:00:00-05:00",
                "snf",
                (("N39.0", "Urinary tract infection"),),
            ),
        )
    }

    p = "tx-gus"
    s["fhir-fall-dual-spanish-homebound"] = {
        "bundle.json": bundle(
            patient(p, "8TX8JJ8JJ88", "Garza", "Graciela", language="es"),
            coverage(p, homebound=True, dual="02"),
            encounter(
                "enc-fall",
                p,
                "IMP",
                "2026-11-30T08:00:00-05:00",
                "2026-12-04T12:00:00-05:00",
                "home",
                (
                    ("W19.XXXA", "Unspecified fall, initial encounter"),
                    ("S72.001A", "Fracture of unspecified part of neck of right femur"),
                ),
            ),
            condition("dm", p, "E11.65", "Type 2 diabetes mellitus with hyperglycemia", "enc-fall"),
            statement("pre-metformin", p, "861007", "Metformin 500 MG Oral Tablet", "500 mg twice daily", "2022-01-01"),
            prescription(
                "dis-metformin",
                p,
                "861007",
                "Metformin 500 MG Oral Tablet",
                "500 mg twice daily",
                "enc-fall",
                "2026-12-04",
            ),
            prescription(
                "dis-glargine",
                p,
                "285018",
                "Insulin Glargine 100 UNT/ML Injectable Solution",
                "10 units at bedtime",
                "enc-fall",
                "2026-12-04",
            ),
            note(
                "ds-fall",
                p,
                "2026-12-04T15:00:00-05:00",
                "Discharge summary\n\nDischarge Instructions:\n"
                "Home health physical therapy will start within 48 hours.\n"
                "Use a walker at all times.\n"
                "Call your doctor if you have new hip pain, fever or redness at the incision.\n"
                "See orthopedics in 2 weeks.\n\nSocial History:\nLives alone; her daughter visits on weekends.\n"
                "She cannot drive and needs a ride to appointments.\n",
            ),
        )
    }

    p = "tx-done"
    s["fhir-call-visit-and-reconciliation-done"] = {
        "bundle.json": bundle(
            patient(p, "9TX9KK9KK99", "Doyle", "Dan"),
            coverage(p),
            encounter(
                "enc-stay",
                p,
                "IMP",
                "2026-11-02T08:00:00-05:00",
                "2026-11-05T12:00:00-05:00",
                "home",
                (("K35.80", "Acute appendicitis"),),
            ),
            note(
                "call",
                p,
                "2026-11-06T10:00:00-05:00",
                "Care manager phone call\nSpoke with the patient about medicines, symptoms and the follow-up plan.\n",
                title="Care manager phone call",
                loinc="34746-8",
            ),
            encounter("enc-visit", p, "AMB", "2026-11-12T09:00:00-05:00", "2026-11-12T09:30:00-05:00"),
            procedure("medrec", p, "1111F", "Discharge medications reconciled", "2026-11-12T09:20:00-05:00"),
        )
    }

    s["ccda-christmas-heart-failure"] = {
        "discharge_summary.xml": discharge_summary(
            "DS-XHF",
            "1TX1MM1MM11",
            "Kay",
            "Kimura",
            "V-XHF",
            "20261214090000-0500",
            "20261218110000-0500",
            "01",
            ("I50.33", "Acute on chronic diastolic heart failure"),
            [("313988", "Furosemide 40 MG Oral Tablet", "40", "active")],
            [
                ("313988", "Furosemide 40 MG Oral Tablet", "40", "active"),
                ("313096", "Spironolactone 25 MG Oral Tablet", "25", "active"),
                ("866924", "Metoprolol Succinate 25 MG Extended Release Oral Tablet", "25", "active"),
            ],
            ["Weigh yourself every morning."],
        )
    }

    s["ccda-pending-results-and-referral"] = {
        "discharge_summary.xml": discharge_summary(
            "DS-PEND",
            "2TX2NN2NN22",
            "Lena",
            "Park",
            "V-PEND",
            "20260910090000-0400",
            "20260915130000-0400",
            "01",
            ("J18.9", "Pneumonia, unspecified organism"),
            [("855332", "Warfarin Sodium 5 MG Oral Tablet", "5", "active")],
            [
                ("855318", "Warfarin Sodium 2.5 MG Oral Tablet", "2.5", "active"),
                ("1049621", "Oxycodone Hydrochloride 5 MG Oral Tablet", "5", "active"),
            ],
            ["Referral to pulmonology; appointment on 2026-10-01."],
            extra=_section(
                "8648-8",
                "Hospital Course",
                [
                    "Lung biopsy pathology pending at discharge; Dr. Lee will follow up.",
                    "Blood cultures show no growth to date, final results pending.",
                ],
            ),
            attending="Lee Adams",
        )
    }

    p = "tx-held"
    s["fhir-held-anticoagulant-memorial-day"] = {
        "bundle.json": bundle(
            patient(p, "3TX3PP3PP33", "Holt", "Hank"),
            coverage(p),
            encounter(
                "enc-gi",
                p,
                "IMP",
                "2027-05-24T08:00:00-04:00",
                "2027-05-28T12:00:00-04:00",
                "home",
                (("K92.2", "Gastrointestinal hemorrhage, unspecified"),),
            ),
            statement("pre-warfarin", p, "855332", "Warfarin Sodium 5 MG Oral Tablet", "5 mg daily", "2025-03-01"),
            statement("pre-aspirin", p, "243670", "Aspirin 81 MG Oral Tablet", "81 mg daily", "2021-06-01"),
            prescription(
                "dis-warfarin",
                p,
                "855332",
                "Warfarin Sodium 5 MG Oral Tablet",
                "5 mg daily",
                "enc-gi",
                "2027-05-28",
                status="on-hold",
            ),
            prescription(
                "dis-aspirin", p, "243670", "Aspirin 81 MG Oral Tablet", "81 mg daily", "enc-gi", "2027-05-28"
            ),
            prescription(
                "dis-clopidogrel", p, "309362", "Clopidogrel 75 MG Oral Tablet", "75 mg daily", "enc-gi", "2027-05-28"
            ),
            note(
                "ds-gi",
                p,
                "2027-05-28T15:00:00-04:00",
                "Discharge summary\n\nDischarge Instructions:\n"
                "Do not take warfarin until Dr. Lee tells you to restart it.\n"
                "Call your doctor if you see black stools or blood in your urine.\n",
            ),
        )
    }

    p = "tx-obs"
    s["fhir-observation-stay-july-4"] = {
        "bundle.json": bundle(
            patient(p, "4TX4QQ4QQ44", "Ortiz", "Omar"),
            coverage(p),
            encounter(
                "enc-obs",
                p,
                "OBSENC",
                "2027-07-01T20:00:00-04:00",
                "2027-07-02T16:00:00-04:00",
                reasons=(("R07.9", "Chest pain, unspecified"),),
            ),
        )
    }

    s["hl7-a03-and-ccda-one-stay"] = {
        "a03.hl7": adt(
            "A03",
            "MRG1",
            "5TX5RR5RR55^^^CMS^MB",
            "Moss^Mia^^^^^L||19470101|F",
            "V-MRG-ADT",
            "20261007110000",
            "20261007110500",
            dg1=(("J45.901", "Asthma with acute exacerbation"),),
        ),
        "discharge_summary.xml": discharge_summary(
            "DS-MRG",
            "5TX5RR5RR55",
            "Mia",
            "Moss",
            "V-MRG-CDA",
            "20261004090000-0400",
            "20261007110000-0400",
            "01",
            ("J45.901", "Unspecified asthma with (acute) exacerbation"),
            [
                ("745679", "Albuterol 90 MCG Metered Dose Inhaler", "0.09", "active"),
                ("896188", "Fluticasone Propionate 110 MCG Metered Dose Inhaler", "0.11", "active"),
            ],
            [
                ("745679", "Albuterol 90 MCG Metered Dose Inhaler", "0.09", "active"),
                ("896188", "Fluticasone Propionate 110 MCG Metered Dose Inhaler", "0.11", "active"),
                ("312615", "Prednisone 20 MG Oral Tablet", "40", "active"),
            ],
            [
                "Use your albuterol inhaler every 4 hours as needed.",
                "Go to the emergency room if you are short of breath and your inhaler does not help.",
                "Follow up with your primary care physician in 1 week.",
            ],
        ),
    }

    p = "tx-viet"
    s["fhir-home-health-vietnamese-presidents-day"] = {
        "bundle.json": bundle(
            patient(p, "6TX6TT6TT66", "Nguyen", "Van", language="vi"),
            coverage(p),
            encounter(
                "enc-cell",
                p,
                "IMP",
                "2027-02-08T08:00:00-05:00",
                "2027-02-11T12:00:00-05:00",
                "06",
                (("L03.115", "Cellulitis of right lower limb"),),
            ),
        )
    }

    s["hl7-saturday-heart-failure"] = {
        "a03.hl7": adt(
            "A03",
            "HFS1",
            "7TX7UU7UU77^^^CMS^MB",
            "Stone^Saul^^^^^L||19390101|M",
            "V-HFS",
            "20261107100000",
            "20261107100500",
            dg1=(("I50.9", "Heart failure, unspecified"),),
        )
    }
    return s


def main() -> None:
    for name, files in scenarios().items():
        folder = HERE / name
        folder.mkdir(parents=True, exist_ok=True)
        for filename, content in files.items():
            text = json.dumps(content, indent=1) + "\n" if isinstance(content, dict) else content
            (folder / filename).write_text(text, encoding="utf-8", newline="")
        print(f"{name}: {', '.join(files)}")


if __name__ == "__main__":
    main()
