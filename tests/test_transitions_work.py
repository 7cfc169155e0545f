"""Transition checklists beyond TCM, working the list, documentation checklists and the outputs, end to end: real
files (written by evals/transitions/build_scenarios.py's helpers) through the real connectors and ingest, the real
store and knowledge index, the service layer, the CLI (CliRunner), the API (TestClient with real keys) and the
audit log.

Patients:
- Gus: Friday 2026-12-04 discharge after a fall with a hip fracture; diabetes, new insulin; Spanish-speaking, full
  dual, homebound; home health, a walker, lives alone, cannot drive. On user cm's panel.
- Fay: Friday 2026-11-20 heart failure discharge (daily weights with a threshold). On cm's panel.
- Dot: a patient who died in hospital. Not on cm's panel.
- Dan: discharge on 2026-11-05, a phone call, a visit and a reconciliation afterwards; AWV and CCM records. On cm's
  panel.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.audit.log import audit_log_for
from assistant.cli import app as cli
from assistant.context import open_context
from assistant.errors import BadRequest, NotFound, PermissionDenied
from assistant.ingest.pipeline import ingest_paths
from assistant.services import transitions
from assistant.services.caller import Caller
from assistant.settings import Settings
from assistant.transitions import fhir_plan
from evals.transitions import build_scenarios as b
from tests.helpers import copy_data_dir
from tests.helpers_auth import bearer

ADMIN = Caller("ops", "admin", "cli")
CM = Caller("cm", "care_manager", "cli")
GUS, FAY, DOT, DAN, HAL = "8TX8JJ8JJ88", "1TX1AA1AA11", "5TX5FF5FF55", "9TX9KK9KK99", "2TX2HH2HH22"
LOINC = "http://loinc.org"


def _observation(oid: str, pid: str, code: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": LOINC, "code": code}]}, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit}}  # fmt: skip


def dan_records() -> dict[str, Any]:
    """The call, visit and reconciliation scenario plus an Annual Wellness Visit and CCM notes."""
    p = "tx-done"
    base = b.scenarios()["fhir-call-visit-and-reconciliation-done"]["bundle.json"]
    assert isinstance(base, dict)
    awv = b.encounter("enc-awv", p, "AMB", "2026-05-10T09:00:00-04:00", "2026-05-10T10:00:00-04:00")
    awv["type"] = [{"coding": [{"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                                "code": "G0439", "display": "Annual wellness visit, subsequent"}]}]  # fmt: skip
    extra = [
        awv,
        _observation("ht", p, "8302-2", 170, "cm", "2026-05-10T09:10:00-04:00"),
        _observation("wt", p, "29463-7", 80, "kg", "2026-05-10T09:10:00-04:00"),
        _observation("bmi", p, "39156-5", 27.7, "kg/m2", "2026-05-10T09:10:00-04:00"),
        _observation("bp", p, "8480-6", 128, "mm[Hg]", "2026-05-10T09:10:00-04:00"),
        _observation("phq9", p, "44261-6", 3, "{score}", "2026-05-10T09:20:00-04:00"),
        b.condition("htn", p, "I10", "Essential hypertension"),
        b.condition("dm", p, "E11.9", "Type 2 diabetes mellitus without complications"),
        b.note("awv-note", p, "2026-05-10T10:00:00-04:00",
               "Annual wellness visit\nHealth risk assessment completed and reviewed.\n"
               "Past medical history: hypertension, type 2 diabetes.\nMini-Cog 5 of 5, no cognitive impairment.\n"
               "Fall risk screened with STEADI: not at risk; hearing normal.\n"
               "Personalized prevention plan with a screening schedule for the next 10 years given to the patient.\n"
               "Advice: walk 30 minutes a day.\n", title="Annual wellness visit note", loinc="11506-3"),
        b.note("ccm-1", p, "2027-01-05T10:00:00-05:00",
               "Care manager note\nCCM consent: the patient agreed to chronic care management after cost-sharing was "
               "explained.\nComprehensive care plan established; a copy of the care plan was given to the patient.\n"
               "Time spent: 15 minutes on the call.\n", title="Care manager note", loinc="34746-8"),
        b.note("ccm-2", p, "2027-01-20T10:00:00-05:00", "Care manager note\nMedication review call, 10 minutes.\n",
               title="Care manager note", loinc="34746-8"),
    ]  # fmt: skip
    return {**base, "entry": [*base["entry"], *({"resource": r} for r in extra)]}


def hal_records() -> dict[str, Any]:
    """A discharge summary laid out as headed lists (as the demo generator and many EHR exports write them)."""
    p = "tx-hal"
    text = ("DISCHARGE SUMMARY\n\nDischarge Diagnoses:\n1. Fracture of neck of femur after a fall\n"
            "2. Type 2 diabetes mellitus\n\nPending Results:\nNone.\n\nFollow-up:\n"
            "- Primary care with Dr. Claire Moreau within 14 days.\n\nHome Health/DME:\n"
            "Rolling walker and shower chair ordered.\n\nPatient Education:\n"
            "Diagnosis, medicines and warning signs reviewed with teach-back.\n"
            "Check blood sugar before meals and at bedtime; bring the log to follow-up.\n\nRed Flags:\n"
            "Call for fever over 38.3 C, confusion, or new or worse pain.\n")  # fmt: skip
    return b.bundle(b.patient(p, HAL, "Hale", "Hal"), b.coverage(p),
                    b.encounter("enc-hal", p, "IMP", "2026-10-24T08:00:00-04:00", "2026-10-28T12:00:00-04:00", "home"),
                    b.note("ds-hal", p, "2026-10-28T15:00:00-04:00", text))  # fmt: skip


@pytest.fixture(scope="module")
def world(knowledge_ctx: Any, knowledge_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("transitions-work")
    copy_data_dir(knowledge_settings.data_dir, root / "data")
    settings = Settings(data_dir=root / "data", rate_limit="100000/minute", auth_failure_limit="100000/minute")
    ctx = open_context(settings)
    records = root / "records"
    records.mkdir()
    scenarios = b.scenarios()
    for name, stem in (("fhir-fall-dual-spanish-homebound", "gus"), ("fhir-friday-heart-failure", "fay"),
                       ("fhir-patient-died", "dot")):  # fmt: skip
        (records / f"{stem}.json").write_text(json.dumps(scenarios[name]["bundle.json"]), encoding="utf-8")
    (records / "dan.json").write_text(json.dumps(dan_records()), encoding="utf-8")
    (records / "hal.json").write_text(json.dumps(hal_records()), encoding="utf-8")
    summary = ingest_paths(ctx.ingest_deps, [records])
    assert summary.errors == [], summary.as_dict()
    ids = {name: ctx.patients.resolve_patient(mbi).id for name, mbi in
           (("gus", GUS), ("fay", FAY), ("dot", DOT), ("dan", DAN))}  # fmt: skip
    ctx.patients.assign_panel("cm", [ids["gus"], ids["fay"], ids["dan"]])
    return {"ctx": ctx, "settings": settings, "ids": ids, "root": root}


def _item(result: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in result["items"] if i["id"] == item_id)


def _knowledge(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in item["citations"] if c["type"] == "knowledge"]


def test_fall_dual_spanish_homebound_items_each_cite_the_record_and_the_sentence(world: Any) -> None:
    result = transitions.checklist(world["ctx"], CM, GUS, as_of=date(2026, 12, 5))
    interpreter = _item(result, "interpreter")
    assert interpreter["due"] == "2026-12-08" and interpreter["required"]
    entry = next(c for c in interpreter["citations"] if c["type"] == "record")
    assert entry["kind"] == "patient" and entry["locator"] == "Patient/tx-gus"
    quotes = [c["quote"] for c in _knowledge(interpreter)]
    assert any("qualified interpreter" in q for q in quotes)
    referral = _item(result, "falls-referral")
    assert referral["due"] == "2026-12-31"  # 30 days is Sunday 2027-01-03; Saturday and New Year's Day skipped
    assert any("CARA or LEAD is unconfirmed" in c["quote"] for c in _knowledge(referral))
    assert "unconfirmed" in referral["text"]
    steadi = _item(result, "falls-steadi")
    assert steadi["owner_role"] == "nurse" and steadi["due"] == "2026-12-11"  # at the 7-day TCM visit
    fall = next(c for c in steadi["citations"] if c["type"] == "record")
    assert fall["locator"] == "Encounter/enc-fall"
    medicaid = _item(result, "medicaid-coordination")
    assert medicaid["owner_role"] == "community_health_worker" and "Full dual-eligible" in medicaid["text"]
    assert next(c for c in medicaid["citations"] if c["type"] == "record")["kind"] == "coverage"
    walker = _item(result, "equipment")
    line = next(c for c in walker["citations"] if c["type"] == "record")
    assert line["quote"] == "Use a walker at all times." and line["chunk_id"]
    assert _item(result, "caregiver")["text"].startswith("The patient lives alone")
    assert _item(result, "transport")["due"] == "2026-12-11"
    assert _item(result, "homebound")["status"] == "open"
    assert _item(result, "home-health")["due"] == "2026-12-08"
    assert "tfu-diabetes" not in {i["id"] for i in result["items"]}  # diabetes is not what the stay was for
    assert result["complexity"]["level"] == "high" and "insulin" in result["complexity"]["explanation"]
    assert "access" not in {i["id"] for i in result["items"]}  # the walker is equipment, not counted twice


def test_every_knowledge_citation_opens_its_exact_sentence(world: Any) -> None:
    from assistant.settings import REPO_ROOT

    for ref in (GUS, FAY):
        result = transitions.checklist(world["ctx"], ADMIN, ref, as_of=date(2026, 12, 5))
        for item in result["items"]:
            assert _knowledge(item), item["id"]  # every item rests on a protocol sentence
            for citation in _knowledge(item):
                text = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8")
                assert text[citation["start"] : citation["end"]] == citation["quote"], citation


def test_knowledge_citations_have_the_guidance_span_shape(world: Any) -> None:
    from assistant.guidance.citations import MissingKnowledge, knowledge_span
    from assistant.transitions import knowledge

    cite = knowledge.KnowledgeCites(world["ctx"].engine)
    for sentence in knowledge.ALL:
        assert cite(sentence) == {"type": "knowledge", **knowledge_span(world["ctx"].engine, *sentence)}
    with pytest.raises(MissingKnowledge):
        cite(("tcm", "A sentence the knowledge base does not hold."))


def test_without_the_knowledge_base_a_checklist_is_refused_but_deadlines_are_still_read(tmp_path: Path) -> None:
    from assistant.guidance.citations import MissingKnowledge
    from assistant.transitions import episodes
    from assistant.transitions.checklist import build_checklist

    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    (tmp_path / "a03.hl7").write_text(b.adt("A03", "NK1", "MRN-NK^^^GOODHOSP^MR", "Nokes^Nia^^^^^L||19400101|F",
                                            "V-NK", "20261120140000", "20261120140500"), encoding="utf-8")  # fmt: skip
    assert ingest_paths(ctx.ingest_deps, [tmp_path / "a03.hl7"]).errors == []
    with pytest.raises(MissingKnowledge):  # a person is never shown an item without its protocol sentence (503)
        transitions.checklist(ctx, ADMIN, "MRN-NK", as_of=date(2026, 11, 21))
    patient = ctx.patients.resolve_patient("MRN-NK")
    episodes.sync(ctx.engine, {patient.id})
    built = build_checklist(ctx.engine, episodes.list_episodes(ctx.engine, {patient.id})[0], date(2026, 11, 21))
    contact = next(i for i in built.items if i.id == "tcm-contact")
    assert contact.due == date(2026, 11, 24)  # what the guidance TCM rule reads
    assert {c.get("indexed") for c in contact.citations if c.get("doc_id") == "tcm"} == {False}


def test_headed_lists_give_items_for_their_lines_not_their_headings(world: Any) -> None:
    result = transitions.checklist(world["ctx"], ADMIN, HAL, as_of=date(2026, 10, 29))
    ids = [i["id"] for i in result["items"]]
    follow = [i for i in result["items"] if i["category"] == "follow_up"]
    assert [f["text"].split('"')[1] for f in follow] == ["- Primary care with Dr. Claire Moreau within 14 days."]
    assert follow[0]["due"] == "2026-11-10"
    assert not any(i["category"] == "pending_result" for i in result["items"])  # "Pending Results: None."
    warnings = [i for i in result["items"] if i["id"].startswith("warning-")]
    assert len(warnings) == 1 and "fever over 38.3 C" in warnings[0]["text"]  # not "warning signs reviewed"
    assert "equipment" in ids and "home-health" not in ids  # the heading names home health; the line is DME
    assert {"falls-steadi", "falls-referral"} <= set(ids)
    assert "tfu-diabetes" not in ids  # diabetes is a secondary diagnosis of a fall admission


def test_daily_weights_take_the_threshold_and_no_warning_repeats_it(world: Any) -> None:
    result = transitions.checklist(world["ctx"], CM, FAY, as_of=date(2026, 11, 21))
    weights = _item(result, "daily-weights")
    assert weights["status"] == "open" and "3 pounds in a day" in weights["text"]
    assert [c["quote"] for c in weights["citations"] if c["type"] == "record"] == [
        "Weigh yourself every morning before breakfast.",
        "Call the heart failure clinic if you gain more than 3 pounds in a day or 5 pounds in a week.",
    ]
    warnings = [i for i in result["items"] if i["id"].startswith("warning-")]
    assert len(warnings) == 1 and "chest pain" in warnings[0]["text"] and "3 pounds" not in warnings[0]["text"]
    assert _item(result, "tfu-heart-failure")["due"] == "2026-12-04"


def test_a_patient_who_died_leaves_one_item_and_closes_when_it_is_checked(world: Any) -> None:
    ctx = world["ctx"]
    result = transitions.checklist(ctx, ADMIN, DOT, as_of=date(2026, 11, 5))
    assert result["setting"] == "died" and result["episode_status"] == "open"
    left = [i for i in result["items"] if i["status"] != "not_applicable"]
    assert [i["id"] for i in left] == ["deceased"]
    assert "expired" in left[0]["evidence"][0] or "deceased" in left[0]["evidence"][0]
    done = transitions.act(ctx, ADMIN, result["episode_id"], "deceased", "check", "PCP told", as_of=date(2026, 11, 5))
    assert done["item"]["status"] == "done" and done["episode_status"] == "closed" and done["complete"]


def test_working_the_list_is_audited_persisted_and_closes_the_episode(world: Any) -> None:
    ctx = world["ctx"]
    day = date(2026, 12, 5)
    result = transitions.checklist(ctx, CM, GUS, as_of=day)
    episode = result["episode_id"]
    checked = transitions.act(ctx, CM, episode, "tcm-contact", "check", "spoke with the patient and her daughter",
                              as_of=day)  # fmt: skip
    assert checked["item"]["status"] == "done" and checked["episode_status"] == "open"
    proof = checked["item"]["citations"][-1]
    assert proof["type"] == "audit" and proof["user"] == "cm" and proof["audit_id"] == checked["audit_id"]
    row = audit_log_for(ctx).get(checked["audit_id"])
    assert row is not None and row.event == "transitions.item" and row.user == "cm"
    assert row.payload["item_id"] == "tcm-contact" and row.payload["status_before"] == "open"
    noted = transitions.act(ctx, CM, episode, "caregiver", "note", "daughter Ana visits Saturdays", as_of=day)
    assert noted["item"]["evidence"][-1].startswith("note by cm (care_manager)")
    moved = transitions.act(ctx, CM, episode, "transport", "reassign", owner_role="outreach", as_of=day)
    assert moved["item"]["owner_role"] == "outreach"
    with pytest.raises(BadRequest):
        transitions.act(ctx, CM, episode, "transport", "reassign", owner_role="janitor", as_of=day)
    with pytest.raises(BadRequest):
        transitions.act(ctx, CM, episode, "home-health", "waive", "   ", as_of=day)
    with pytest.raises(NotFound):
        transitions.act(ctx, CM, episode, "no-such-item", "check", as_of=day)
    with pytest.raises(NotFound):
        transitions.act(ctx, CM, "tx-none", "tcm-contact", "check", as_of=day)
    waived = transitions.act(ctx, CM, episode, "home-health", "waive", "patient declined home health", as_of=day)
    assert waived["item"]["status"] == "waived" and "patient declined home health" in waived["item"]["evidence"][-1]
    reopened = transitions.act(ctx, CM, episode, "home-health", "reopen", as_of=day)
    assert reopened["item"]["status"] == "open"
    # The state is stored: a fresh read shows it, and lists every action with its audit row.
    again = transitions.checklist(ctx, CM, GUS, as_of=day)
    assert _item(again, "tcm-contact")["status"] == "done" and _item(again, "transport")["owner_role"] == "outreach"
    assert [a["action"] for a in again["actions"]] == ["check", "note", "reassign", "waive", "reopen"]
    listed = transitions.worklist(ctx, CM, "open", day)
    assert GUS in {e["mbi"] for e in listed["episodes"]}
    last = None
    for item in again["items"]:
        if item["required"] and item["status"] in ("open", "overdue", "needs_input"):
            last = transitions.act(ctx, CM, episode, item["id"], "check", as_of=day)
    assert last is not None and last["episode_status"] == "closed" and last["complete"]
    assert GUS not in {e["mbi"] for e in transitions.worklist(ctx, CM, "open", day)["episodes"]}
    closed = transitions.worklist(ctx, CM, "closed", day)
    assert next(e for e in closed["episodes"] if e["mbi"] == GUS)["complete"] is True


def test_actions_are_refused_off_panel(world: Any) -> None:
    ctx = world["ctx"]
    episode = transitions.checklist(ctx, ADMIN, DOT, as_of=date(2026, 11, 5))["episode_id"]
    with pytest.raises(PermissionDenied):
        transitions.act(ctx, CM, episode, "deceased", "note", "x")
    with pytest.raises(PermissionDenied):
        transitions.act(ctx, Caller("an", "analyst", "cli"), episode, "deceased", "note", "x")


def test_tcm_documentation_says_what_is_there_and_what_is_missing(world: Any) -> None:
    result = transitions.checklist(world["ctx"], CM, DAN, as_of=date(2026, 11, 13), kind="tcm")
    statuses = {i["id"]: i["status"] for i in result["items"]}
    assert statuses == {"tcm-doc-discharge-date": "present", "tcm-doc-discharge-setting": "missing",
                        "tcm-doc-contact": "present", "tcm-doc-visit": "present", "tcm-doc-mdm": "missing",
                        "tcm-doc-med-rec": "present", "tcm-doc-summary": "missing"}  # fmt: skip
    contact = _item(result, "tcm-doc-contact")
    assert "mode: telephone" in contact["evidence"][0] and "2026-11-06" in contact["evidence"][0]
    assert "facility name" in _item(result, "tcm-doc-discharge-setting")["text"]  # FHIR gave no serviceProvider
    assert result["kind"] == "tcm" and result["discharge_date"] == "2026-11-05" and not result["complete"]
    row = audit_log_for(world["ctx"]).get(result["audit_id"])
    assert row is not None and row.payload["kind"] == "tcm"


def test_awv_and_ccm_documentation(world: Any) -> None:
    awv = transitions.checklist(world["ctx"], CM, DAN, as_of=date(2026, 6, 1), kind="awv")
    statuses = {i["id"]: i["status"] for i in awv["items"]}
    assert statuses == {"awv-visit": "present", "awv-hra": "present", "awv-history": "present",
                        "awv-providers": "missing", "awv-vitals": "present", "awv-cognition": "present",
                        "awv-depression": "present", "awv-function": "present", "awv-schedule": "present",
                        "awv-risks": "present", "awv-advice": "present", "awv-acp": "missing"}  # fmt: skip
    assert not _item(awv, "awv-acp")["required"] and awv["anchor"]["date"] == "2026-05-10"
    hra = next(c for c in _item(awv, "awv-hra")["citations"] if c["type"] == "record")
    assert hra["quote"] == "Health risk assessment completed and reviewed."
    ccm = transitions.checklist(world["ctx"], CM, DAN, as_of=date(2027, 1, 25), kind="ccm")
    statuses = {i["id"]: i["status"] for i in ccm["items"]}
    assert statuses == {"ccm-eligibility": "present", "ccm-consent": "present", "ccm-care-plan": "present",
                        "ccm-care-plan-copy": "present", "ccm-initiating-visit": "present",
                        "ccm-time": "present"}  # fmt: skip
    assert ccm["anchor"]["minutes_logged"] == 25 and ccm["complete"]
    early = transitions.checklist(world["ctx"], CM, DAN, as_of=date(2027, 1, 10), kind="ccm")
    time_item = _item(early, "ccm-time")
    assert time_item["status"] == "missing" and "15 minute(s) logged in January 2027" in time_item["text"]


def test_cara_referral_package(world: Any) -> None:
    result = transitions.checklist(world["ctx"], CM, GUS, as_of=date(2026, 12, 5), kind="cara_referral")
    statuses = {i["id"]: i["status"] for i in result["items"]}
    assert statuses["cara-identity"] == "present" and statuses["cara-coverage"] == "present"
    assert statuses["cara-episode"] == "present" and statuses["cara-reason"] == "missing"
    assert statuses["cara-allergies"] == "missing"  # the FHIR bundle holds no allergy list
    assert "no CMS-defined CARA referral package" in result["notes"][0]


def test_markdown_pdf_and_fhir_outputs(world: Any) -> None:
    from pypdf import PdfReader

    ctx = world["ctx"]
    markdown = transitions.render(ctx, CM, FAY, "markdown", as_of=date(2026, 11, 21))
    text = markdown.content.decode("utf-8")
    assert text.startswith("# Transition-of-care checklist") and "| # | Due | Status | Owner |" in text
    assert "knowledge `knowledge/tcm.md`" in text and markdown.result["audit_id"] in text
    pdf = transitions.render(ctx, CM, FAY, "pdf", as_of=date(2026, 11, 21))
    assert pdf.content.startswith(b"%PDF") and pdf.media_type == "application/pdf"
    pages = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Transition-of-care checklist" in pages and "2026-11-24" in pages and "Apixaban" in pages
    again = transitions.render(ctx, CM, FAY, "pdf", as_of=date(2026, 11, 21))
    repeat = "".join(page.extract_text() for page in PdfReader(io.BytesIO(again.content)).pages)
    assert repeat.replace(again.result["audit_id"], "") == pages.replace(pdf.result["audit_id"], "")  # same layout
    row = audit_log_for(ctx).get(pdf.result["audit_id"])
    assert row is not None and row.payload["format"] == "pdf"


def test_fhir_careplan_validates_and_round_trips_through_the_connector(world: Any, tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    from connectors import fhir as connector

    ctx = world["ctx"]
    rendered = transitions.render(ctx, CM, GUS, "fhir", as_of=date(2026, 12, 5))
    bundle = json.loads(rendered.content)
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:2] == ["Patient", "CarePlan"] and kinds.count("Task") == len(rendered.result["items"])
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
                and e["resource"]["identifier"][0]["value"] == "tcm-contact")  # fmt: skip
    assert task["restriction"]["period"]["end"] == _item(rendered.result, "tcm-contact")["due"]
    assert task["owner"]["identifier"]["value"] == _item(rendered.result, "tcm-contact")["owner_role"]
    back = fhir_plan.read_bundle(bundle)
    assert back["episode_id"] == rendered.result["episode_id"] and back["kind"] == "transition"
    assert back["items"] == rendered.result["items"]  # every field, citations included
    path = tmp_path / "plan.fhir.json"
    path.write_bytes(rendered.content)
    parsed = connector.parse(path, path.read_bytes())
    assert parsed.warnings == [] and parsed.records == []  # the connector reads the Patient, maps no plan records
    assert f"mbi|{GUS}" in {i.key for i in parsed.patients[0].identifiers}
    assert ingest_paths(ctx.ingest_deps, [path]).errors == []
    assert ctx.patients.resolve_patient(f"fhir|{world['ids']['gus']}").id == world["ids"]["gus"]  # same patient
    documentation = json.loads(transitions.render(ctx, CM, DAN, "fhir", as_of=date(2026, 6, 1),
                                                  kind="awv").content)  # fmt: skip
    statuses = {t["resource"]["businessStatus"]["text"] for t in documentation["entry"]
                if t["resource"]["resourceType"] == "Task"}  # fmt: skip
    assert statuses == {"present", "missing"}


def test_cli_formats_and_the_item_command(world: Any) -> None:
    env = {"CARETRAIL_DATA_DIR": str(world["settings"].data_dir), "CARETRAIL_CLI_USER": "cm",
           "CARETRAIL_CLI_ROLE": "care_manager", "CARETRAIL_RATE_LIMIT": "100000/minute"}  # fmt: skip
    runner = CliRunner()
    out = world["root"] / "fay.pdf"
    made = runner.invoke(cli, ["checklist", FAY, "--as-of", "2026-11-21", "--format", "pdf", "--out", str(out)],
                         env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert out.read_bytes().startswith(b"%PDF")
    refused = runner.invoke(cli, ["checklist", FAY, "--format", "pdf"], env=env)
    assert refused.exit_code == 2 and "--out" in refused.output
    shown = runner.invoke(cli, ["checklist", FAY, "--as-of", "2026-11-21", "--format", "markdown"], env=env)
    assert shown.exit_code == 0 and shown.stdout.startswith("# Transition-of-care checklist")
    awv = runner.invoke(cli, ["checklist", DAN, "--kind", "awv", "--as-of", "2026-06-01", "--json"], env=env)
    assert awv.exit_code == 0 and json.loads(awv.stdout)["kind"] == "awv"
    episode = json.loads(runner.invoke(cli, ["checklist", FAY, "--as-of", "2026-11-21", "--json"],
                                       env=env).stdout)["episode_id"]  # fmt: skip
    noted = runner.invoke(cli, ["transitions", "item", episode, "teach-back", "--note", "son will join", "--json"],
                          env=env)  # fmt: skip
    assert noted.exit_code == 0, noted.output
    assert json.loads(noted.stdout)["item"]["evidence"][-1].endswith("son will join")
    both = runner.invoke(cli, ["transitions", "item", episode, "teach-back", "--done", "--waive"], env=env)
    assert both.exit_code == 2 and "exactly one" in both.output
    no_reason = runner.invoke(cli, ["transitions", "item", episode, "teach-back", "--waive"], env=env)
    assert no_reason.exit_code != 0 and "reason" in no_reason.output


def test_api_formats_and_item_actions(world: Any) -> None:
    ctx = world["ctx"]
    app = create_app(world["settings"])
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app, base_url="https://testserver") as client:
        cm = bearer(ctx, "care_manager", "cm")
        pdf = client.get(f"/v1/checklists/{FAY}", params={"as_of": "2026-11-21", "format": "pdf"}, headers=cm)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and pdf.headers["x-caretrail-audit-id"]
        plan = client.get(f"/v1/checklists/{FAY}", params={"as_of": "2026-11-21", "format": "fhir"}, headers=cm)
        assert plan.status_code == 200 and plan.json()["resourceType"] == "Bundle"
        ccm = client.get(f"/v1/checklists/{DAN}", params={"as_of": "2027-01-25", "kind": "ccm"}, headers=cm)
        assert ccm.status_code == 200 and ccm.json()["kind"] == "ccm"
        assert client.get(f"/v1/checklists/{FAY}", params={"format": "docx"}, headers=cm).status_code == 422
        episode = client.get(f"/v1/checklists/{FAY}", params={"as_of": "2026-11-21"}, headers=cm).json()["episode_id"]
        url = f"/v1/transitions/{episode}/items/med-rec"
        assert client.post(url, json={"action": "waive"}, headers=cm).status_code == 400  # no reason
        done = client.post(url, json={"action": "check", "text": "reconciled with the pharmacist",
                                      "as_of": "2026-11-21"}, headers=cm)  # fmt: skip
        assert done.status_code == 200, done.text
        assert done.json()["item"]["status"] == "done" and done.json()["action"]["user"] == "cm"
        dot = transitions.checklist(ctx, ADMIN, DOT, as_of=date(2026, 11, 5))["episode_id"]
        off = client.post(f"/v1/transitions/{dot}/items/deceased", json={"action": "note", "text": "x"}, headers=cm)
        assert off.status_code == 403
