"""Guidance on a patient ingested through the real FHIR connector, with the real knowledge index: measure gaps,
Timely Follow-Up and high utilization, each dated from --as-of, owned by one role and cited to the exact knowledge
sentence; decisions through the API are audited and remembered until the evidence changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.settings import REPO_ROOT, Settings
from tests.helpers import knowledge_context
from tests.helpers_auth import bearer
from tests.test_measures import _bp, _condition, _hba1c, _office_visit, _patient, _percent

KNOWLEDGE = ["hypertension-gap-closure", "diabetes-gap-closure", "timely-follow-up", "high-needs-homebound", "tcm",
             "annual-wellness-visit", "lead-alignment"]


def _stay(rid: str, start: str, end: str, icd10: str) -> dict[str, Any]:
    return {"resourceType": "Encounter", "id": rid, "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": "Patient/p1"}, "period": {"start": start, "end": end},
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd10}]}]}


def _resources(extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        _patient("1958-04-02"), _office_visit("visit", "2025-02-03"),
        _condition("htn", "59621000", "2020-01-01"), _condition("dm", "44054006", "2019-01-01"),
        _bp("bp-1", "2025-09-01", 152, 96), _hba1c("a1c", "2025-06-01", **_percent(9.5)),
        _stay("ip-1", "2025-03-01T08:00:00", "2025-03-05T12:00:00", "I50.9"),
        _stay("ip-2", "2025-09-20T08:00:00", "2025-09-25T12:00:00", "I50.9"),
        *(extra or []),
    ]


def _write(folder: Path, resources: list[dict[str, Any]]) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    (folder / "patient.json").write_text(json.dumps(bundle), encoding="utf-8")


@pytest.fixture
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    context = open_context(Settings(data_dir=tmp_path / "data"))
    report = ingest_knowledge(context.knowledge_deps, [REPO_ROOT / "knowledge" / f"{d}.md" for d in KNOWLEDGE])
    assert report.errors == []
    folder = tmp_path / "records"
    folder.mkdir()
    _write(folder, _resources())
    assert ingest_paths(context.ingest_deps, [folder]).errors == []
    context.records_folder = folder  # type: ignore[attr-defined]
    return context


def test_items_are_dated_owned_and_cited(ctx) -> None:  # type: ignore[no-untyped-def]
    done = CliRunner().invoke(cli, ["guidance", "fhir|p1", "--as-of", "2025-10-01", "--json"],
                              env={"CARETRAIL_DATA_DIR": str(ctx.settings.data_dir), "CARETRAIL_CLI_ROLE": "admin"})
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    items = {i["rule"]: i for i in body["items"]}
    # The 25 Sep discharge is inside its TCM period; the AWV item says no coverage is on file.
    assert set(items) == {"cms165_gap", "cms122_gap", "timely_follow_up", "high_utilizer", "tcm",
                          "annual_wellness_visit"}
    assert items["cms165_gap"]["due"] == "2025-10-15" and items["cms165_gap"]["owner_role"] == "care_manager"
    assert "152" in items["cms165_gap"]["rationale"]
    assert items["cms122_gap"]["due"] == "2025-10-31" and "9.5" in items["cms122_gap"]["rationale"]
    assert items["timely_follow_up"]["due"] == "2025-10-09"  # heart failure: 14 days after the 25 Sep discharge
    assert items["timely_follow_up"]["owner_role"] == "care_coordinator"
    assert {e["record_id"] for e in items["high_utilizer"]["evidence"]} == {"ip-1", "ip-2"}
    for item in body["items"]:
        assert item["citations"] and item["evidence"]
        for citation in item["citations"]:  # each opens the exact sentence in the knowledge file
            source = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8")
            assert source[citation["start"] : citation["end"]] == citation["quote"]
    # The viewing role's own items come first.
    as_coordinator = json.loads(CliRunner().invoke(
        cli, ["guidance", "fhir|p1", "--as-of", "2025-10-01", "--role", "care_coordinator", "--json"],
        env={"CARETRAIL_DATA_DIR": str(ctx.settings.data_dir), "CARETRAIL_CLI_ROLE": "admin"}).stdout)
    owners = [i["owner_role"] for i in as_coordinator["items"]]
    assert owners == sorted(owners, key=lambda role: role != "care_coordinator")  # own items first
    assert [i["rule"] for i in as_coordinator["items"][:3]] == ["tcm", "timely_follow_up", "annual_wellness_visit"]
    assert audit_log_for(ctx).get(body["audit_id"]).event == "guidance"


def test_dismissed_item_stays_hidden_until_its_evidence_changes(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    ctx.patients.assign_panel("nurse1", [ctx.patients.resolve_patient("fhir|p1").id])
    with TestClient(app, headers=bearer(ctx, "care_manager", "nurse1")) as client:
        url = "/v1/patients/fhir|p1/guidance?as_of=2025-10-01"
        gap = next(i for i in client.get(url).json()["items"] if i["rule"] == "cms165_gap")
        decision = {"patient": "fhir|p1", "status": "dismissed", "as_of": "2025-10-01"}
        refused = client.post(f"/v1/guidance/{gap['id']}/status", json=decision)
        assert refused.status_code == 400 and "reason" in refused.json()["detail"]
        done = client.post(f"/v1/guidance/{gap['id']}/status", json={**decision, "reason": "BP rechecked at home"})
        assert done.status_code == 200, done.text
        assert audit_log_for(ctx).get(done.json()["audit_id"]).payload["reason"] == "BP rechecked at home"
        assert "cms165_gap" not in {i["rule"] for i in client.get(url).json()["items"]}

        # A new uncontrolled reading is new evidence: the gap comes back under a new id.
        _write(ctx.records_folder, _resources([_bp("bp-2", "2025-09-28", 148, 92)]))
        assert ingest_paths(ctx.ingest_deps, [ctx.records_folder]).errors == []
        back = next(i for i in client.get(url).json()["items"] if i["rule"] == "cms165_gap")
        assert back["id"] != gap["id"] and "148" in back["rationale"]

        other = bearer(ctx, "care_manager", "nurse2")  # not on nurse2's panel
        assert client.get(url, headers=other).status_code == 403


def test_worklist_is_stored_and_recomputed_only_when_records_change(ctx) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from assistant.guidance.worklist import refresh, worklist

    patient_id = ctx.patients.resolve_patient("fhir|p1").id
    as_of = date(2025, 10, 1)
    assert refresh(ctx.patients, ctx.engine, ctx.roster_cache, [patient_id], as_of) == 1
    # nothing changed: a query only
    assert refresh(ctx.patients, ctx.engine, ctx.roster_cache, [patient_id], as_of) == 0
    listed = worklist(ctx.engine, [patient_id], as_of)
    assert listed["counts"] == {"annual_wellness_visit": 1, "cms122_gap": 1, "cms165_gap": 1, "high_utilizer": 1,
                                "tcm": 2, "timely_follow_up": 1}
    assert [i["due"] for i in listed["items"]] == sorted(i["due"] for i in listed["items"])
    assert worklist(ctx.engine, [patient_id], as_of, role="care_coordinator")["counts"] == {
        "annual_wellness_visit": 1, "tcm": 1, "timely_follow_up": 1}

    _write(ctx.records_folder, _resources([_bp("bp-2", "2025-09-28", 118, 76)]))  # the BP gap closes
    assert ingest_paths(ctx.ingest_deps, [ctx.records_folder]).errors == []
    assert refresh(ctx.patients, ctx.engine, ctx.roster_cache, [patient_id], as_of) == 1
    assert "cms165_gap" not in worklist(ctx.engine, [patient_id], as_of)["counts"]

    done = CliRunner().invoke(cli, ["worklist", "--as-of", "2025-10-01", "--json"],
                              env={"CARETRAIL_DATA_DIR": str(ctx.settings.data_dir), "CARETRAIL_CLI_USER": "nobody"})
    assert done.exit_code == 0 and json.loads(done.stdout)["total"] == 0  # an empty panel sees nothing


def test_ingest_recomputes_the_patients_it_wrote(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from assistant.guidance.tables import GuidanceComputedTable, GuidanceItemTable

    folder = tmp_path / "more"
    folder.mkdir()
    resources = [r for r in _resources() if r["resourceType"] != "Patient"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {**_patient("1949-07-30"), "id": "p1"}}, *({"resource": r} for r in resources)]}
    text = json.dumps(bundle).replace('"p1"', '"p9"').replace("Patient/p1", "Patient/p9")
    (folder / "p9.json").write_text(text, encoding="utf-8")
    done = CliRunner().invoke(cli, ["ingest", str(folder)], env={"CARETRAIL_DATA_DIR": str(ctx.settings.data_dir)})
    assert done.exit_code == 0, done.output
    assert "guidance not computed" not in done.output
    patient_id = ctx.patients.resolve_patient("fhir|p9").id
    with Session(ctx.engine) as session:
        row = session.scalars(select(GuidanceComputedTable).where(GuidanceComputedTable.patient_id == patient_id)).one()
        items = session.scalars(select(GuidanceItemTable).where(GuidanceItemTable.patient_id == patient_id)).all()
    assert row.as_of == date.today() and items  # computed at ingest, for today
    assert {item.as_of for item in items} == {date.today()}


@pytest.fixture(params=["sqlite", "postgres"])
def panel_ctx(request: pytest.FixtureRequest, knowledge_ctx: Any, tmp_path: Path) -> Iterator[Any]:
    """A context holding every protocol the demo patients' rules cite, on SQLite or the loopback PostgreSQL."""
    with knowledge_context(request.param, knowledge_ctx, tmp_path / "data", "guidance") as context:
        yield context


@pytest.mark.slow
def test_worklist_ranks_a_panel_in_sql_exactly_as_the_rules_would(panel_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The stored, SQL-ranked worklist equals ranking every patient's freshly computed items in Python, on both
    databases; on SQLite with the panel split into small IN lists down to one patient each (the merge of
    per-chunk pages must be exact), on PostgreSQL as one array parameter; and decisions apply."""
    from datetime import date

    from assistant.demo.generator import generate
    from assistant.guidance import worklist as module
    from assistant.guidance.engine import record_decision, run_rules
    from assistant.guidance.facts import gather
    from assistant.guidance.item import PRIORITIES
    from assistant.records import id_lists

    ctx = panel_ctx
    generate(40, 7, tmp_path / "demo")
    assert ingest_paths(ctx.ingest_deps, [tmp_path / "demo"]).errors == []
    as_of = date(2026, 11, 23)
    ids = sorted(row.id for row in ctx.patients.list_patients(limit=1000))
    assert module.refresh(ctx.patients, ctx.engine, ctx.roster_cache, ids, as_of) == len(ids)
    fresh = {pid: run_rules(gather(ctx.patients, ctx.engine, ctx.roster_cache, pid, as_of)) for pid in ids}
    every = [(pid, i) for pid, items in fresh.items() for i in items]
    assert len({(pid, i.id) for pid, i in every}) == len(every), "two items of one patient share an id"

    tcm = next((pid, i) for pid, i in every if i.rule == "tcm")
    record_decision(ctx.engine, tcm[1], tcm[0], "dismissed", "called by the hospital", "cm1")
    kept = [(pid, i) for pid, i in every if i.id != tcm[1].id]
    kept.sort(key=lambda p: (p[1].due is None, p[1].due or date.max, PRIORITIES.index(p[1].priority), p[1].rule,
                             p[0], p[1].id))
    chunk_sizes = (1,) if id_lists.takes_arrays(ctx.engine) else (5000, 7, 1)
    for chunk in chunk_sizes:
        id_lists.IN_LIST_CHUNK = chunk
        try:
            listed = module.worklist(ctx.engine, ids, as_of, limit=25)
        finally:
            id_lists.IN_LIST_CHUNK = 5000
        assert listed["total"] == len(kept)
        assert [(i["patient_id"], i["id"]) for i in listed["items"]] == [(pid, i.id) for pid, i in kept[:25]]
    # the other role's TCM step on the same discharge is still open: decisions are per item, not per rule
    assert any(i.rule == "tcm" and i.owner_role != tcm[1].owner_role for pid, i in kept if pid == tcm[0])
    # nothing changed: nothing recomputed; a new day recomputes everyone
    assert module.refresh(ctx.patients, ctx.engine, ctx.roster_cache, ids, as_of) == 0
    assert module.refresh(ctx.patients, ctx.engine, ctx.roster_cache, ids[:3], date(2026, 11, 24)) == 3


def test_start_of_day_refresh_computes_every_patient_once_and_is_an_audited_admin_task(ctx) -> None:  # type: ignore[no-untyped-def]
    """`caretrail refresh-worklist` computes the day ahead of the care team, so a worklist read is a query."""
    from datetime import date

    from assistant.guidance.worklist import stale_patients

    env = {"CARETRAIL_DATA_DIR": str(ctx.settings.data_dir)}
    ids = [row.id for row in ctx.patients.list_patients(limit=100)]
    day = date(2025, 10, 2)
    assert set(stale_patients(ctx.patients, ctx.engine, ids, day)) == set(ids)  # nothing computed for that day

    refused = CliRunner().invoke(cli, ["refresh-worklist", "--as-of", "2025-10-02"], env=env)  # a care manager
    assert refused.exit_code != 0 and "panels.manage" in refused.output
    assert stale_patients(ctx.patients, ctx.engine, ids, day)  # still stale: nothing was computed

    admin = {**env, "CARETRAIL_CLI_ROLE": "admin", "CARETRAIL_CLI_USER": "night-job"}
    done = CliRunner().invoke(cli, ["refresh-worklist", "--as-of", "2025-10-02"], env=admin)
    assert done.exit_code == 0, done.output
    assert f"{len(ids)} of {len(ids)} patients recomputed for 2025-10-02" in done.output
    assert stale_patients(ctx.patients, ctx.engine, ids, day) == {}
    again = CliRunner().invoke(cli, ["refresh-worklist", "--as-of", "2025-10-02"], env=admin)
    assert f"0 of {len(ids)} patients recomputed" in again.output  # nothing changed since: a query only
    audit_id = again.output.split("audit ")[-1].strip()
    row = audit_log_for(ctx).get(audit_id)
    assert row.event == "worklist.refresh" and row.user == "night-job" and row.payload["recomputed"] == 0
