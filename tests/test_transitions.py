"""Transition episodes and checklists end to end: real files through the real connectors and ingest, the real
store, the service layer, the CLI (CliRunner) and the API (TestClient with real keys), and the audit log.

Patients (discharges chosen for the deadlines they exercise):
- Ada (C-CDA discharge summary, Friday 2026-11-20, heart failure: high complexity): pre-admission and discharge
  medication lists, a follow-up in 1 week and a pending culture. On user cm's panel.
- Bea (HL7 A03 only, unknown MRN, the day before Thanksgiving 2026-11-25): a stub patient, a resent A03. On cm's panel.
- Cal (HL7 A03 on Christmas Eve 2026-12-24, then A13 cancel discharge). Not on cm's panel.
- Dee (FHIR inpatient Encounter ending Friday 2026-12-18, heart failure: the 7-day visit falls on Christmas Day;
  an office visit on 12-21 already held). Not on cm's panel.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.audit.log import audit_log_for
from assistant.cli import app as cli
from assistant.context import open_context
from assistant.errors import NotFound, PermissionDenied
from assistant.ingest.pipeline import ingest_paths
from assistant.intake.mllp import FS_CR, MLLPServer, frame
from assistant.services import transitions
from assistant.services.caller import Caller
from assistant.settings import REPO_ROOT, Settings
from assistant.transitions import episodes, knowledge
from assistant.transitions.tables import TransitionEpisodeTable
from connectors.ccda import NS
from tests.helpers import copy_data_dir
from tests.helpers_auth import bearer

MBI_ADA, MBI_CAL, MBI_DEE = "1EG4TE5MK73", "5XY2AC3DE45", "6EF8GH9JK12"
ADMIN = Caller("ops", "admin", "cli")
CM = Caller("cm", "care_manager", "cli")
CAL = "Cruz^Calla^^^^^L||19391212|F"
NEW = "Nakamura^Noor^^^^^L||19500505|M"

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


def _meds(rows: list[tuple[str, str, str, str]], prefix: str) -> str:
    return "".join(
        _MED.format(uid=f"{prefix}-{n}", rxnorm=code, name=name, dose=dose, status=status)
        for n, (code, name, dose, status) in enumerate(rows)
    )


def _section(loinc: str, title: str, text: str, entries: str = "") -> str:
    return (
        f'<component><section><code code="{loinc}" codeSystem="2.16.840.1.113883.6.1"/><title>{title}</title>'
        f"<text>{text}</text>{entries}</section></component>"
    )


def discharge_summary() -> str:
    before = _meds(
        [
            ("200801", "Furosemide 20 MG Oral Tablet", "20", "active"),
            ("861007", "Metformin 500 MG Oral Tablet", "500", "active"),
            ("314076", "Lisinopril 10 MG Oral Tablet", "10", "active"),
        ],
        "pre",
    )
    after = _meds(
        [
            ("1364435", "Apixaban 5 MG Oral Tablet", "5", "active"),
            ("313988", "Furosemide 40 MG Oral Tablet", "40", "active"),
            ("861007", "Metformin 500 MG Oral Tablet", "500", "active"),
        ],
        "dis",
    )
    body = "".join([
        _section("10160-0", "Medications", "<list><item>Furosemide 20 mg daily</item><item>Metformin 500 mg</item>"
                 "<item>Lisinopril 10 mg</item></list>", before),
        _section("11535-2", "Discharge Diagnosis", "<list><item>Acute on chronic heart failure</item></list>"),
        _section("10183-2", "Hospital Discharge Medications", "<list><item>Apixaban 5 mg twice daily</item>"
                 "<item>Furosemide 40 mg daily</item><item>Metformin 500 mg</item></list>", after),
        _section("8653-8", "Hospital Discharge Instructions",
                 "<paragraph>Weigh yourself every morning.</paragraph>"
                 "<paragraph>Follow up with Dr. Patel in cardiology clinic in 1 week.</paragraph>"
                 "<paragraph>Blood cultures pending at discharge; the hospitalist will call with results.</paragraph>"),
    ])  # fmt: skip
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <templateId root="2.16.840.1.113883.10.20.22.1.8"/>
  <id root="2.16.840.1.113883.19.5" extension="DS-ADA"/>
  <code code="18842-5" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Discharge summary</title>
  <effectiveTime value="20261120150000-0500"/>
  <recordTarget><patientRole>
    <id root="2.16.840.1.113883.4.927" extension="{MBI_ADA}"/>
    <patient><name><given>Ada</given><family>Lovelace</family></name><birthTime value="19450101"/></patient>
  </patientRole></recordTarget>
  <componentOf><encompassingEncounter>
    <id root="2.16.840.1.113883.19" extension="ENC-ADA"/>
    <code code="IMP" codeSystem="2.16.840.1.113883.5.4"/>
    <effectiveTime><low value="20261116080000-0500"/><high value="20261120140000-0500"/></effectiveTime>
    <dischargeDispositionCode code="01" codeSystem="2.16.840.1.113883.12.112"/>
    <encounterParticipant typeCode="ATND"><assignedEntity>
      <id root="2.16.840.1.113883.4.6" extension="1245319599"/>
      <assignedPerson><name><given>Ben</given><family>Hospitalist</family></name></assignedPerson>
    </assignedEntity></encounterParticipant>
  </encompassingEncounter></componentOf>
  <component><structuredBody>{body}</structuredBody></component>
</ClinicalDocument>"""


def adt(
    trigger: str,
    control: str,
    pid3: str,
    visit: str,
    discharged: str,
    sent: str,
    name: str = "Brandt^Bea^^^^^L||19440704|F",
) -> str:
    """One ADT message; ``discharged`` goes in PV1-45 (empty for an A13 that does not repeat it)."""
    return "\r".join([
        f"MSH|^~\\&|EPICADT|GOODHOSP|CARETRAIL|ACO|{sent}||ADT^{trigger}^ADT_A03|{control}|P|2.5.1",
        f"EVN|{trigger}|{sent}",
        f"PID|1||{pid3}||{name}",
        f"PV1|1|I|4W^412^B^GOODHOSP||||||||||||||||{visit}^^^GOODHOSP^VN|||||||||||||||||01|||||||"
        f"20261120080000|{discharged}",
    ]) + "\r"  # fmt: skip


def fhir_dee() -> dict[str, Any]:
    subject = {"reference": "Patient/p-dee"}
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p-dee", "name": [{"family": "Dee", "given": ["Dora"]}],
                      "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": MBI_DEE}]}},
        {"resource": {"resourceType": "Encounter", "id": "enc-dee", "status": "finished", "subject": subject,
                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                      "period": {"start": "2026-12-14T09:00:00-05:00", "end": "2026-12-18T11:00:00-05:00"},
                      "hospitalization": {"dischargeDisposition": {"coding": [
                          {"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                           "code": "home"}]}}}},
        {"resource": {"resourceType": "Condition", "id": "hf-dee", "subject": subject,
                      "encounter": {"reference": "Encounter/enc-dee"},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.23",
                                           "display": "Acute on chronic systolic heart failure"}]}}},
        {"resource": {"resourceType": "Encounter", "id": "visit-dee", "status": "finished", "subject": subject,
                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                      "period": {"start": "2026-12-21T10:00:00-05:00", "end": "2026-12-21T10:30:00-05:00"}}},
    ]}  # fmt: skip


def copy_knowledge_store(knowledge_settings: Settings, root: Path) -> Settings:
    """A fresh data dir that already holds the indexed knowledge base (every checklist item cites it): a copy of
    the session's, so each module gets its own patients without embedding the knowledge base again."""
    copy_data_dir(knowledge_settings.data_dir, root / "data")
    return Settings(data_dir=root / "data", rate_limit="100000/minute", auth_failure_limit="100000/minute")


@pytest.fixture(scope="module")
def world(knowledge_ctx: Any, knowledge_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("transitions")
    records = root / "records"
    records.mkdir()
    (records / "ada_ds.xml").write_text(discharge_summary(), encoding="utf-8")
    (records / "bea_a03.hl7").write_text(
        adt("A03", "B1", "MRN-BEA^^^GOODHOSP^MR", "V-BEA", "20261125160000", "20261125160500"), encoding="utf-8"
    )
    (records / "cal_a03.hl7").write_text(
        adt("A03", "C1", f"{MBI_CAL}^^^CMS^MB", "V-CAL", "20261224120000", "20261224120500", CAL), encoding="utf-8"
    )
    (records / "dee.json").write_text(json.dumps(fhir_dee()), encoding="utf-8")
    settings = copy_knowledge_store(knowledge_settings, root)
    ctx = open_context(settings)
    summary = ingest_paths(ctx.ingest_deps, [records])
    assert summary.errors == [] and summary.documents == 4, summary.as_dict()
    # A resent A03 for Bea (new control id, same visit and time) and Cal's discharge cancelled by an A13.
    later = root / "later"
    later.mkdir()
    (later / "bea_a03_again.hl7").write_text(
        adt("A03", "B2", "MRN-BEA^^^GOODHOSP^MR", "V-BEA", "20261125160000", "20261125170000"), encoding="utf-8"
    )
    (later / "cal_a13.hl7").write_text(
        adt("A13", "C2", f"{MBI_CAL}^^^CMS^MB", "V-CAL", "", "20261224180000", CAL), encoding="utf-8"
    )
    assert ingest_paths(ctx.ingest_deps, [later]).errors == []
    ids = {
        name: ctx.patients.resolve_patient(ref).id
        for name, ref in (("ada", MBI_ADA), ("bea", "MRN-BEA"), ("cal", MBI_CAL), ("dee", MBI_DEE))
    }
    ctx.patients.assign_panel("cm", [ids["ada"], ids["bea"]])
    return {"ctx": ctx, "settings": settings, "ids": ids, "records": records}


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _item(result: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in result["items"] if i["id"] == item_id)


def _category(result: dict[str, Any], category: str) -> list[dict[str, Any]]:
    return [i for i in result["items"] if i["category"] == category]


def _source_text(citation: dict[str, Any]) -> str:
    return Path(citation["source_path"]).read_text(encoding="utf-8")


def _xpath_element(citation: dict[str, Any]) -> Any:
    tree = etree.parse(citation["source_path"])
    found = tree.xpath(citation["locator"].rsplit(" (line ", 1)[0], namespaces={"cda": NS["cda"]})
    assert len(found) == 1, citation["locator"]
    return found[0]


def test_friday_discharge_from_a_discharge_summary(world: Any) -> None:
    result = transitions.checklist(world["ctx"], ADMIN, MBI_ADA, as_of=_day("2026-11-21"))
    assert result["discharge_date"] == "2026-11-20" and result["kind"] == "transition"
    assert result["encounter_id"] == "2.16.840.1.113883.19|ENC-ADA"
    contact, visit = _item(result, "tcm-contact"), _item(result, "tcm-visit")
    assert (contact["due"], contact["status"], contact["owner_role"]) == ("2026-11-24", "open", "care_manager")
    assert result["complexity"]["level"] == "high" and result["complexity"]["code"] == "99496"
    assert "heart failure" in result["complexity"]["explanation"]
    assert "anticoagulant" in result["complexity"]["explanation"]
    assert visit["due"] == "2026-11-27"  # 7 days, the Friday after Thanksgiving is a business day
    knowledge = [c for c in contact["citations"] if c["type"] == "knowledge"]
    assert knowledge[0]["source_uri"] == "knowledge/tcm.md" and knowledge[0]["chunk_id"]


def test_medication_diff_lines_cite_both_lists(world: Any) -> None:
    result = transitions.checklist(world["ctx"], ADMIN, MBI_ADA, as_of=_day("2026-11-21"))
    changes = {(c["change"], c["medication"], c["high_risk_class"]) for c in result["medication_changes"]}
    assert changes == {
        ("new", "Apixaban 5 MG Oral Tablet", "anticoagulant"),
        ("dose_changed", "Furosemide 40 MG Oral Tablet", "diuretic"),
        ("stopped", "Lisinopril 10 MG Oral Tablet", None),
        ("unchanged", "Metformin 500 MG Oral Tablet", None),
    }
    med_rec = _item(result, "med-rec")
    assert (
        med_rec["due"] == "2026-11-27"
        and med_rec["status"] == "open"
        and "3 change(s), 2 in a high-risk" in med_rec["text"]
    )
    lines = [i for i in result["items"] if i["id"].startswith("med-") and i["id"] != "med-rec"]
    assert [line["text"].split(":")[0] for line in lines] == [
        "New at discharge",
        "Dose changed at discharge",
        "Stopped (on the pre-admission list, not continued at discharge)",
    ]
    dose = lines[1]
    assert dose["required"] and "[high-risk: diuretic]" in dose["text"]
    assert dose["evidence"] == [
        "dose_changed: Furosemide 20 MG Oral Tablet 20 mg (active) -> Furosemide 40 MG Oral Tablet 40 mg (active)"
    ]
    opened = [_xpath_element(c) for c in dose["citations"] if c["type"] == "record"]
    codes = [e.xpath(".//cda:manufacturedMaterial/cda:code/@code", namespaces={"cda": NS["cda"]})[0] for e in opened]
    assert codes == ["200801", "313988"]  # the pre-admission entry, then the discharge entry
    new = lines[0]
    sections = [_xpath_element(c) for c in new["citations"] if c["type"] == "record"]
    assert [s.find("{urn:hl7-org:v3}code").get("code") for s in sections[:1]] == ["10160-0"]  # the list it is not on
    assert sections[1].tag == "{urn:hl7-org:v3}substanceAdministration"


def test_follow_ups_and_pending_results_name_who_and_when(world: Any) -> None:
    result = transitions.checklist(world["ctx"], ADMIN, MBI_ADA, as_of=_day("2026-11-21"))
    follow = _category(result, "follow_up")[0]
    assert "Dr. Patel" in follow["text"] and follow["owner_role"] == "care_coordinator"
    assert follow["due"] == "2026-11-27"  # "in 1 week" from Friday 11-20
    pending = _category(result, "pending_result")[0]
    assert "Blood cultures pending" in pending["text"] and "Ben Hospitalist (attending)" in pending["text"]
    cite = pending["citations"][0]
    assert cite["quote"].startswith("Blood cultures pending") and cite["chunk_id"]
    assert all(_item(result, i)["status"] != "done" for i in ("tcm-contact", "tcm-visit"))


def test_day_before_thanksgiving_from_an_a03_for_an_unknown_patient_resent_once(world: Any) -> None:
    ctx = world["ctx"]
    episodes.sync(ctx.engine)
    bea = ctx.patients.get_patient(world["ids"]["bea"])
    # The A03 named a patient the store did not know: the MPI created them from PID, as any ingest does.
    assert bea is not None and bea.identifiers == ("mrn|GOODHOSP|MRN-BEA",) and bea.family == "Brandt"
    found = episodes.list_episodes(ctx.engine, {bea.id})
    assert len(found) == 1 and found[0].encounter_ids == ["V-BEA"]  # the resent A03 did not open a second one
    assert [s["event"] for s in found[0].sources] == ["discharge (A03)", "discharge (A03)"]
    result = transitions.checklist(ctx, ADMIN, "MRN-BEA", as_of=_day("2026-11-27"))
    assert _item(result, "tcm-contact")["due"] == "2026-11-30"  # Thanksgiving skipped, Friday counted
    assert result["complexity"]["level"] == "moderate"
    assert _item(result, "tcm-visit")["due"] == "2026-12-09"  # 14 days
    summary = _item(result, "discharge-summary")
    assert summary["status"] == "needs_input" and "Request the discharge summary" in summary["text"]
    assert _item(result, "med-rec")["status"] == "needs_input"
    assert result["missing"] == ["discharge medication list", "discharge summary", "pre-admission medication list"]
    pv1 = next(c for c in _item(result, "tcm-contact")["citations"] if c.get("kind") == "encounter")
    assert _source_text(pv1)[pv1["start"] : pv1["end"]].startswith("PV1|1|I|")
    assert "V-BEA" in _source_text(pv1)[pv1["start"] : pv1["end"]]


def test_christmas_eve_discharge_cancelled_by_an_a13(world: Any) -> None:
    ctx = world["ctx"]
    episodes.sync(ctx.engine, {world["ids"]["cal"]})
    found = episodes.list_episodes(ctx.engine, {world["ids"]["cal"]})
    assert len(found) == 1 and found[0].status == "cancelled"
    assert found[0].cancelled_by is not None and found[0].cancelled_by["event"] == "cancel (A13)"
    assert Path(found[0].cancelled_by["source_path"]).name == "cal_a13.hl7"
    result = transitions.checklist(ctx, ADMIN, MBI_CAL, as_of=_day("2026-12-26"))
    assert result["episode_status"] == "cancelled"
    contact = _item(result, "tcm-contact")
    assert contact["due"] == "2026-12-29" and contact["status"] == "not_applicable"  # Christmas Day skipped
    assert _item(result, "tcm-visit")["due"] == "2027-01-07"
    assert "the discharge was cancelled (ADT A13)" in contact["evidence"]


def test_fhir_discharge_whose_visit_deadline_falls_on_christmas_and_a_visit_already_held(world: Any) -> None:
    result = transitions.checklist(world["ctx"], ADMIN, MBI_DEE, as_of=_day("2026-12-22"))
    assert result["encounter_id"] == "enc-dee" and result["discharge_date"] == "2026-12-18"
    visit = _item(result, "tcm-visit")
    assert visit["due"] == "2026-12-24"  # 12-25 is Christmas Day: moved earlier, never later
    assert any("2026-12-25 is Christmas Day" in e for e in visit["evidence"])
    assert visit["status"] == "done" and "office visit held for 2026-12-21" in visit["evidence"][-1]
    contact = _item(result, "tcm-contact")
    assert contact["due"] == "2026-12-22" and contact["status"] == "done"
    assert contact["citations"][-1]["locator"] == "Encounter/visit-dee"


def test_sync_is_idempotent_and_episodes_never_duplicate(world: Any) -> None:
    ctx = world["ctx"]
    episodes.sync(ctx.engine)
    first = {e.id: e for e in episodes.list_episodes(ctx.engine)}
    episodes.sync(ctx.engine)
    episodes.sync(ctx.engine, {world["ids"]["ada"]})
    again = {e.id: e for e in episodes.list_episodes(ctx.engine)}
    assert first.keys() == again.keys() and len(again) == 4
    assert all(first[k].sources == again[k].sources and first[k].opened_at == again[k].opened_at for k in first)
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    with Session(ctx.engine) as session:
        assert session.scalar(select(func.count()).select_from(TransitionEpisodeTable)) == 4


def test_worklist_is_the_callers_panel_sorted_by_nearest_deadline_and_audited(world: Any) -> None:
    ctx = world["ctx"]
    result = transitions.worklist(ctx, CM, "open", _day("2026-11-26"))
    assert [e["patient_id"] for e in result["episodes"]] == [world["ids"]["ada"], world["ids"]["bea"]]
    assert [e["next_due"] for e in result["episodes"]] == ["2026-11-24", "2026-11-30"]
    assert result["episodes"][0]["next_item"] == "tcm-contact"  # on a tie, the TCM contact comes first
    ada = transitions.checklist(ctx, ADMIN, MBI_ADA, as_of=_day("2026-11-26"))
    overdue = [
        i["id"]
        for i in ada["items"]
        if i["status"] == "overdue" or (i["status"] == "needs_input" and i["due"] and i["due"] < "2026-11-26")
    ]
    assert "tcm-contact" in overdue and result["episodes"][0]["overdue_items"] == len(overdue)
    assert result["episodes"][0]["open_items"] == sum(
        1 for i in ada["items"] if i["status"] in ("open", "overdue", "needs_input")
    )
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row is not None and row.event == "transitions.list" and row.user == "cm"
    assert row.payload["returned"] == 2 and row.payload["status"] == "open"
    everyone = transitions.worklist(ctx, ADMIN, "all", _day("2027-01-30"))
    assert {e["status"] for e in everyone["episodes"]} == {"closed", "cancelled"} and len(everyone["episodes"]) == 4
    cancelled = transitions.worklist(ctx, ADMIN, "cancelled", _day("2026-12-26"))
    assert [e["patient_id"] for e in cancelled["episodes"]] == [world["ids"]["cal"]]


def test_checklist_is_refused_off_panel_and_audited_on_it(world: Any) -> None:
    ctx = world["ctx"]
    with pytest.raises(PermissionDenied):
        transitions.checklist(ctx, CM, MBI_DEE, as_of=_day("2026-12-22"))
    with pytest.raises(PermissionDenied):
        transitions.worklist(ctx, Caller("an", "analyst", "cli"))
    result = transitions.checklist(ctx, CM, MBI_ADA, as_of=_day("2026-11-21"))
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row is not None and row.event == "transitions.checklist" and row.patient_id == world["ids"]["ada"]
    assert row.payload["episode_id"] == result["episode_id"] and row.payload["items"] == len(result["items"])
    with pytest.raises(NotFound):
        transitions.checklist(ctx, CM, MBI_ADA, as_of=_day("2026-11-01"))  # no discharge yet on that date
    with pytest.raises(NotFound):
        transitions.checklist(ctx, CM, MBI_ADA, encounter="no-such-encounter")


def test_every_cited_knowledge_sentence_is_in_its_file() -> None:
    from assistant.transitions import documentation

    sentences = [*knowledge.ALL, *(value for name, value in vars(documentation).items()
                                   if name.isupper() and isinstance(value, tuple) and len(value) == 2
                                   and isinstance(value[0], str) and isinstance(value[1], str))]  # fmt: skip
    assert len(sentences) > 60
    for doc_id, sentence in sentences:
        text = (REPO_ROOT / "knowledge" / f"{doc_id}.md").read_text(encoding="utf-8")
        assert sentence in text, (doc_id, sentence)


def test_cli_checklist_and_worklist(world: Any) -> None:
    env = {
        "CARETRAIL_DATA_DIR": str(world["settings"].data_dir),
        "CARETRAIL_CLI_USER": "cm",
        "CARETRAIL_CLI_ROLE": "care_manager",
        "CARETRAIL_RATE_LIMIT": "100000/minute",
    }
    shown = CliRunner().invoke(cli, ["checklist", MBI_ADA, "--as-of", "2026-11-21", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    result = json.loads(shown.stdout)
    assert {"patient_id", "encounter_id", "discharge_date", "kind", "items", "audit_id"} <= result.keys()
    assert set(result["items"][0]) == {
        "id",
        "category",
        "text",
        "due",
        "owner_role",
        "required",
        "status",
        "evidence",
        "citations",
    }
    by_encounter = CliRunner().invoke(
        cli,
        ["checklist", MBI_ADA, "--encounter", "2.16.840.1.113883.19|ENC-ADA", "--as-of", "2026-11-21", "--json"],
        env=env,
    )
    assert json.loads(by_encounter.stdout)["episode_id"] == result["episode_id"]
    listed = CliRunner().invoke(
        cli, ["transitions", "list", "--status", "open", "--as-of", "2026-11-26", "--json"], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert [e["mbi"] for e in json.loads(listed.stdout)["episodes"]] == [MBI_ADA, None]
    refused = CliRunner().invoke(cli, ["checklist", MBI_DEE], env=env)
    assert refused.exit_code != 0 and "not on your panel" in refused.output
    plain = CliRunner().invoke(cli, ["checklist", MBI_ADA, "--as-of", "2026-11-21"], env=env)
    assert plain.exit_code == 0 and "2026-11-24" in plain.stdout


def test_api_worklist_checklist_and_opening_a_cited_line(world: Any) -> None:
    ctx = world["ctx"]
    app = create_app(world["settings"])
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app, base_url="https://testserver") as client:
        cm = bearer(ctx, "care_manager", "cm")
        listed = client.get("/v1/transitions", params={"status": "open", "as_of": "2026-11-26"}, headers=cm)
        assert listed.status_code == 200, listed.text
        assert [e["patient_id"] for e in listed.json()["episodes"]] == [world["ids"]["ada"], world["ids"]["bea"]]
        assert client.get("/v1/transitions", params={"status": "bogus"}, headers=cm).status_code == 422
        shown = client.get(f"/v1/checklists/{MBI_ADA}", params={"as_of": "2026-11-21"}, headers=cm)
        assert shown.status_code == 200, shown.text
        line = _category(shown.json(), "follow_up")[0]["citations"][0]
        opened = client.get(f"/v1/sources/{quote(line['chunk_id'], safe='')}", headers=cm)
        assert opened.status_code == 200 and line["quote"] in opened.json()["text"]
        assert client.get(f"/v1/checklists/{MBI_DEE}", headers=cm).status_code == 403
        analyst = bearer(ctx, "analyst", "an")
        assert client.get("/v1/transitions", headers=analyst).status_code == 403
        assert client.get(f"/v1/checklists/{MBI_ADA}", headers=analyst).status_code == 403
        admin = bearer(ctx, "admin", "root")
        dee = client.get(
            f"/v1/checklists/{MBI_DEE}", params={"as_of": "2026-12-22", "encounter": "enc-dee"}, headers=admin
        )
        assert dee.status_code == 200 and dee.json()["discharge_date"] == "2026-12-18"


def test_a03_and_a13_over_mllp_open_then_cancel_one_episode(tmp_path: Path) -> None:
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    loop = asyncio.new_event_loop()
    server = MLLPServer(tmp_path / "inbox", port=0, on_stored=lambda path: ingest_paths(ctx.ingest_deps, [path]))
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)

    def send(message: str) -> str:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(frame(message))
            reply = b""
            while not reply.endswith(FS_CR):
                reply += connection.recv(65536)
        return reply.decode("utf-8")

    def settled(count: int) -> None:
        deadline = time.monotonic() + 60
        while ctx.patients.counts()["documents"] < count:
            assert time.monotonic() < deadline
            time.sleep(0.1)

    try:
        a03 = adt("A03", "M1", "MRN-NEW^^^GOODHOSP^MR", "V-NEW", "20261120140000", "20261120140500", NEW)
        assert "MSA|AA|M1" in send(a03)
        assert "MSA|AA|M1" in send(a03)  # the same message twice: stored twice, one document, one episode
        settled(1)
        patient = ctx.patients.resolve_patient("MRN-NEW")
        assert patient is not None and patient.identifiers == ("mrn|GOODHOSP|MRN-NEW",)
        episodes.sync(ctx.engine, {patient.id})
        opened = episodes.list_episodes(ctx.engine, {patient.id})
        assert len(opened) == 1 and opened[0].status == "open" and len(opened[0].sources) == 1
        assert "MSA|AA|M2" in send(adt("A13", "M2", "MRN-NEW^^^GOODHOSP^MR", "V-NEW", "", "20261120190000", NEW))
        settled(2)
        episodes.sync(ctx.engine, {patient.id})
        cancelled = episodes.list_episodes(ctx.engine, {patient.id})
        assert [e.id for e in cancelled] == [opened[0].id] and cancelled[0].status == "cancelled"
        assert cancelled[0].cancelled_by is not None and cancelled[0].cancelled_by["event"] == "cancel (A13)"
        assert "MSA|AA|M3" in send(
            adt("A03", "M3", "MRN-NEW^^^GOODHOSP^MR", "V-NEW", "20261120200000", "20261120200500", NEW)
        )  # discharged again after all
        settled(3)
        episodes.sync(ctx.engine, {patient.id})
        again = episodes.list_episodes(ctx.engine, {patient.id})
        assert [e.id for e in again] == [opened[0].id] and again[0].status == "open"
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_a_real_discharge_summary(
    shared_data: Path, knowledge_ctx: Any, knowledge_settings: Settings, tmp_path: Path
) -> None:
    source = shared_data / "ccda" / "HL7_C-CDA-Examples" / "Documents" / "Discharge Summary" / "Discharge_Summary.xml"
    if not source.is_file():
        pytest.skip(f"{source} is not present")
    ctx = open_context(copy_knowledge_store(knowledge_settings, tmp_path))
    assert ingest_paths(ctx.ingest_deps, [source]).errors == []
    result = transitions.checklist(ctx, ADMIN, "mrn|2.16.840.1.113883.19.5.99999.2|998991", as_of=_day("2014-09-17"))
    assert result["discharge_date"] == "2014-09-16"  # a Tuesday
    assert _item(result, "tcm-contact")["due"] == "2014-09-18"
    assert result["complexity"]["level"] == "moderate" and _item(result, "tcm-visit")["due"] == "2014-09-30"
    assert [c["medication"] for c in result["medication_changes"]] == ["ibuprofen 600 MG Oral Tablet"]
    assert result["missing"] == ["pre-admission medication list"]
    follow = [i for i in result["items"] if i["category"] == "follow_up"]
    assert any("Make an appointment with your doctor" in i["text"] for i in follow)
    assert any("Colonoscopy" in i["text"] for i in follow)  # the plan of care's planned activity
    discharge_med = result["medication_changes"][0]["citations"][-1]
    assert _xpath_element(discharge_med).tag == "{urn:hl7-org:v3}substanceAdministration"
