"""The guidance rules beyond measure gaps, on patients ingested through the real FHIR connector and the real
knowledge index: TCM after a Friday discharge and one before Thanksgiving, falls (STEADI screening, the referral
marked unconfirmed), the Annual Wellness Visit, dual-eligible Medicaid coordination, homebound support, medication
reconciliation, language access and the roster audit's attribution risks. Each item is owned by one role, dated
exactly from the as-of date, backed by the records it rests on and cited to the exact knowledge sentence; missing
inputs are said, not guessed; a role sees its own items first.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.context import open_context
from assistant.guidance.engine import guidance
from assistant.guidance.facts import gather
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules import RULE_MODULES
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.roles import ROLES
from assistant.settings import REPO_ROOT, Settings

KNOWLEDGE = ["tcm", "steadi-falls", "cara", "annual-wellness-visit", "dual-eligible-medicaid", "high-needs-homebound",
             "care-transitions", "language-access", "lead-alignment", "timely-follow-up"]
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
DUAL_02 = "https://bluebutton.cms.gov/resources/variables/dual_02"


def _patient(pid: str, family: str, birth: str = "1950-05-05", language: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": "female",
                                "name": [{"family": family, "given": ["Ada"]}]}
    if language:
        resource["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                                      "preferred": True}]
    return resource


def _stay(pid: str, rid: str, start: str, end: str, icd10: str, disposition: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter", "id": rid, "status": "finished", "class": {"system": ACT, "code": "IMP"},
        "subject": {"reference": f"Patient/{pid}"}, "period": {"start": start, "end": end},
        "reasonCode": [{"coding": [{"system": ICD10, "code": icd10}]}]}
    if disposition:
        resource["hospitalization"] = {"dischargeDisposition": {"coding": [{"code": disposition}]}}
    return resource


def _visit(pid: str, rid: str, when: str, klass: str, codes: list[tuple[str, str]],
           reasons: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"resourceType": "Encounter", "id": rid, "status": "finished", "class": {"system": ACT, "code": klass},
            "type": [{"coding": [{"system": s, "code": c}]} for s, c in codes],
            "subject": {"reference": f"Patient/{pid}"},
            "period": {"start": f"{when}T09:00:00", "end": f"{when}T10:00:00"},
            "reasonCode": [{"coding": [{"system": ICD10, "code": r}]} for r in reasons]}


def _condition(pid: str, rid: str, system: str, code: str, onset: str, encounter: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": rid, "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": onset,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "code": {"coding": [{"system": system, "code": code}]}}
    if encounter:
        resource["encounter"] = {"reference": f"Encounter/{encounter}"}
    return resource


def _coverage(pid: str, rid: str, sopt: str, extensions: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"resourceType": "Coverage", "id": rid, "status": "active", "beneficiary": {"reference": f"Patient/{pid}"},
            "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": sopt}]},
            "period": {"start": "2020-01-01"}, "extension": list(extensions)}


def _medication(pid: str, rid: str, rxnorm: str, name: str, start: str, end: str | None = None,
                status: str = "active") -> dict[str, Any]:
    period = {"start": start, **({"end": end} if end else {})}
    return {"resourceType": "MedicationStatement", "id": rid, "status": status,
            "subject": {"reference": f"Patient/{pid}"}, "effectivePeriod": period,
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": rxnorm, "display": name}]}}


def _procedure(pid: str, rid: str, cpt: str, when: str) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": rid, "status": "completed", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": cpt}]},
            "performedDateTime": f"{when}T11:00:00"}


BUNDLES: dict[str, list[dict[str, Any]]] = {
    # Discharged home on Friday 3 October 2025 (pneumonia: no high-complexity signal).
    "tcm-friday": [_patient("tcm1", "Friday"),
                   _stay("tcm1", "ip-fri", "2025-09-29T08:00:00", "2025-10-03T15:00:00", "J18.9", "01")],
    # Discharged on Wednesday 26 November 2025, the day before Thanksgiving; heart failure; no disposition recorded.
    "tcm-thanksgiving": [_patient("tcm2", "Holiday"),
                         _stay("tcm2", "ip-thx", "2025-11-20T08:00:00", "2025-11-26T12:00:00", "I50.9"),
                         _condition("tcm2", "hf", "http://hl7.org/fhir/sid/icd-10-cm", "I50.9", "2025-11-20",
                                    encounter="ip-thx")],
    # A fall in March, then a fall with a hip fracture seen in the ED in August.
    "falls": [_patient("fall1", "Faller"),
              _condition("fall1", "fall-mar", ICD10, "W19.XXXA", "2025-03-10"),
              _visit("fall1", "ed-aug", "2025-08-02", "EMER", [], reasons=("W01.0XXA", "S72.001A"))],
    # Medicare, full dual (code 02), homebound, prefers Spanish; last AWV in August 2024.
    "medicare": [_patient("med1", "Medicare", language="es"),
                 _coverage("med1", "cov-mcr", "1", ({"url": DUAL_02, "valueCoding": {"code": "02"}},
                                                    {"url": "urn:caretrail:fhir:extension:homebound",
                                                     "valueBoolean": True})),
                 _visit("med1", "awv-2024", "2024-08-01", "AMB",
                        [("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "G0439")])],
    # Warfarin started and metoprolol stopped in August; reconciliation logged on 28 August.
    "meds": [_patient("rx1", "Pills"),
             _medication("rx1", "warfarin", "855332", "warfarin 5 MG Oral Tablet", "2025-08-20"),
             _medication("rx1", "metoprolol", "866924", "metoprolol 25 MG Oral Tablet", "2024-01-01", "2025-08-25",
                         "stopped"),
             _procedure("rx1", "medrec", "1111F", "2025-08-28")],
    # Medicare and Medicaid coverage with no dual status code; no language recorded.
    "unknown-dual": [_patient("dual9", "Unknown"), _coverage("dual9", "cov-a", "1"), _coverage("dual9", "cov-b", "2")],
    # The same person registered twice (name and birth date, no shared identifier), nothing in 12 months.
    "dup-a": [_patient("dupa", "Twice", birth="1944-02-03"),
              _visit("dupa", "old-visit", "2023-01-05", "AMB", [("http://www.ama-assn.org/go/cpt", "99213")])],
    "dup-b": [_patient("dupb", "Twice", birth="1944-02-03")],
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("rules")
    context = open_context(Settings(data_dir=root / "data"))
    report = ingest_knowledge(context.knowledge_deps, [REPO_ROOT / "knowledge" / f"{d}.md" for d in KNOWLEDGE])
    assert report.errors == []
    folder = root / "records"
    folder.mkdir()
    for name, resources in BUNDLES.items():
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
        (folder / f"{name}.json").write_text(json.dumps(bundle), encoding="utf-8")
    assert ingest_paths(context.ingest_deps, [folder]).errors == []
    return context


def _items(ctx, ref: str, as_of: str, role: str = "care_manager") -> list[GuidanceItem]:  # type: ignore[no-untyped-def]
    patient = ctx.patients.resolve_patient(ref)
    facts = gather(ctx.patients, ctx.engine, ctx.roster_cache, patient.id, date.fromisoformat(as_of))
    items = guidance(facts, ctx.engine, role)
    for found in items:  # every item: one known owner, evidence, and citations that open the exact sentence
        assert found.owner_role in ROLES and found.evidence and found.citations, found
        for citation in found.citations:
            source = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8")
            assert source[citation["start"] : citation["end"]] == citation["quote"]
    return items


def _of(items: list[GuidanceItem], rule: str) -> list[GuidanceItem]:
    return [i for i in items if i.rule == rule]


def _ids(found: GuidanceItem) -> set[str]:
    return {e["record_id"] for e in found.evidence if e.get("record_id")}


def test_tcm_after_a_friday_discharge(ctx) -> None:  # type: ignore[no-untyped-def]
    contact, visit = _of(_items(ctx, "fhir|tcm1", "2025-10-06"), "tcm")
    assert (contact.owner_role, contact.due) == ("care_coordinator", date(2025, 10, 7))  # Friday + 2 business days
    assert "Tuesday" in contact.action and _ids(contact) == {"ip-fri"}
    assert (visit.owner_role, visit.due) == ("clinician", date(2025, 10, 17))  # moderate: 14 days, a Friday
    assert "99495" in visit.action and not any(n.startswith("Missing") for n in visit.notes)
    # Past the 30-day TCM service period: nothing.
    assert _of(_items(ctx, "fhir|tcm1", "2025-11-02"), "tcm") == []


def test_tcm_before_thanksgiving_and_without_a_disposition(ctx) -> None:  # type: ignore[no-untyped-def]
    contact, visit = _of(_items(ctx, "fhir|tcm2", "2025-11-26"), "tcm")
    assert contact.due == date(2025, 12, 1)  # Thursday is Thanksgiving, Friday counts, then Monday
    assert "Thanksgiving" in contact.rationale
    assert visit.due == date(2025, 12, 3) and "99496" in visit.action  # heart failure: 7 days
    assert any(n.startswith("Missing: the record names no discharge disposition") for n in contact.notes)


def test_falls_screening_and_the_unconfirmed_referral(ctx) -> None:  # type: ignore[no-untyped-def]
    items = _items(ctx, "fhir|fall1", "2025-09-01", role="nurse")
    screening, referral = _of(items, "falls")
    assert (screening.owner_role, screening.due) == ("nurse", date(2025, 9, 15))
    assert _ids(screening) == {"fall-mar", "ed-aug"}
    assert (referral.owner_role, referral.due) == ("care_manager", date(2025, 10, 1))
    assert "unconfirmed" in referral.rationale and referral.notes[0].startswith("Unconfirmed")
    assert any(c["doc_id"] == "cara" for c in referral.citations)
    assert items[0] is screening or items[0].owner_role == "nurse"  # the nurse's own item first
    # Before the second fall: one fall without injury gives the screening only.
    assert [i.owner_role for i in _of(_items(ctx, "fhir|fall1", "2025-04-01"), "falls")] == ["nurse"]


def test_medicare_dual_homebound_and_spanish(ctx) -> None:  # type: ignore[no-untyped-def]
    items = _items(ctx, "fhir|med1", "2025-09-01", role="community_health_worker")
    (awv,) = _of(items, "annual_wellness_visit")
    assert (awv.owner_role, awv.due) == ("care_coordinator", date(2025, 10, 1)) and _ids(awv) == {"awv-2024"}
    assert "2024-08-01" in awv.rationale
    (dual,) = _of(items, "dual_eligible")
    assert (dual.owner_role, dual.due) == ("community_health_worker", date(2025, 10, 1))
    assert [e["locator"] for e in dual.evidence] == ["Coverage/cov-mcr"]
    assert items[0] is dual  # the viewing role's own item comes first
    (home,) = _of(items, "homebound")
    assert (home.owner_role, home.due) == ("care_manager", date(2025, 10, 1))
    (language,) = _of(items, "language_access")
    assert (language.owner_role, language.due) == ("outreach", date(2025, 9, 15)) and "Spanish" in language.action
    assert [e["locator"] for e in language.evidence] == ["Patient/med1"]
    # An AWV held within the last 12 months: none due.
    assert _of(_items(ctx, "fhir|med1", "2025-07-31"), "annual_wellness_visit") == []


def test_medication_changes_until_reconciled(ctx) -> None:  # type: ignore[no-untyped-def]
    (rec,) = _of(_items(ctx, "fhir|rx1", "2025-08-26", role="pharmacist"), "medication_reconciliation")
    assert (rec.owner_role, rec.due, rec.priority) == ("pharmacist", date(2025, 9, 2), "high")  # warfarin
    assert _ids(rec) == {"warfarin", "metoprolol"}
    assert _of(_items(ctx, "fhir|rx1", "2025-09-01"), "medication_reconciliation") == []  # 1111F on 28 August


def test_missing_inputs_are_said_not_guessed(ctx) -> None:  # type: ignore[no-untyped-def]
    items = _items(ctx, "fhir|dual9", "2025-09-01")
    (dual,) = _of(items, "dual_eligible")
    assert dual.rationale.startswith("Missing: Medicare and Medicaid coverage") and dual.priority == "low"
    assert _of(items, "language_access") == []  # no preferred language recorded: no item, no guess
    (awv,) = _of(_items(ctx, "fhir|tcm1", "2025-10-06"), "annual_wellness_visit")  # 75, no coverage on file
    assert awv.rationale.startswith("Missing: no coverage record") and _ids(awv) == set()
    assert [e["locator"] for e in awv.evidence] == ["Patient/tcm1"]


def test_attribution_risks_from_the_roster_audit(ctx) -> None:  # type: ignore[no-untyped-def]
    items = _of(_items(ctx, "fhir|dupa", "2025-09-01"), "attribution")
    kinds = {i.rationale.split(")")[0] for i in items}
    assert kinds == {"Roster audit (likely duplicate", "Roster audit (inactive 12m"}
    assert {i.owner_role for i in items} == {"care_manager"} and {i.due for i in items} == {date(2025, 10, 1)}
    duplicate = next(i for i in items if "duplicate" in i.rationale)
    assert {e["record_kind"] for e in duplicate.evidence} == {"mpi_link"}
    inactive = next(i for i in items if "inactive" in i.rationale)
    assert _ids(inactive) == {"old-visit"}


def test_every_role_has_a_profile_and_every_owner_is_a_role() -> None:
    for role in ROLES:
        text = (REPO_ROOT / "prompts" / "roles" / f"{role}.md").read_text(encoding="utf-8")
        assert text.startswith(f"---\nid: role.{role}\nversion: 1\n"), role
        assert all(f"## {part}" in text for part in ("Owns", "May see", "Tone")), role
    for module in RULE_MODULES:
        owners = re.findall(r'owner_role="(\w+)"', Path(module.__file__ or "").read_text(encoding="utf-8"))
        assert owners and set(owners) <= set(ROLES), module.NAME
