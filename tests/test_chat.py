"""The chat end to end: conversations through the service, the API (server-sent events) and `caretrail chat --json`, on
a small demo panel ingested into a copy of the indexed knowledge base. Real components throughout: the embedder, the
record answers, guidance, transitions and outreach services, the audit log, the app on a test client, a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.audit.log import audit_log_for
from assistant.cli import app
from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.errors import NotFound, PermissionDenied
from assistant.ingest.pipeline import ingest_paths
from assistant.services import chat, guidance
from assistant.services.caller import Caller
from assistant.settings import REPO_ROOT, Settings
from tests.helpers import copy_data_dir
from tests.helpers_auth import bearer

pytestmark = pytest.mark.slow  # a demo panel ingested into a copy of the knowledge base; one subprocess

DAY = date(2026, 11, 20)
CM = Caller("chat-cm", "care_manager", "cli")


@dataclass
class World:
    ctx: Any
    data_dir: Path
    a: dict[str, Any]  # manifest rows: A on CM's panel (a recent discharge and diabetes), B on it, C off it
    b: dict[str, Any]
    c: dict[str, Any]
    ids: dict[str, str]  # "a", "b", "c" -> internal patient id


@pytest.fixture(scope="module")
def world(knowledge_ctx: Any, knowledge_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("chat")
    copy_data_dir(knowledge_settings.data_dir, root / "data")
    settings = Settings(
        data_dir=root / "data",
        outreach_org_name="Riverside ACO",
        outreach_callback_number="217-555-0100",
        rate_limit="100000/minute",
    )
    ctx = open_context(settings)
    generate(16, 1, root / "demo")
    assert ingest_paths(ctx.ingest_deps, [root / "demo"]).errors == []
    rows = json.loads((root / "demo" / "manifest.json").read_text(encoding="utf-8"))["patients"]
    people = [r for r in rows if r.get("mbi") and not r["duplicate_of"] and not r["inactive"]]
    a = next(r for r in people if r["recent_discharge"] and "diabetes" in r["conditions"])
    b, c = [r for r in people if r is not a][:2]
    ids = {name: ctx.patients.resolve_patient(row["key"]).id for name, row in (("a", a), ("b", b), ("c", c))}
    ctx.patients.assign_panel(CM.user, [ids["a"], ids["b"]])
    return World(ctx, root / "data", a, b, c, ids)


def _own_actions(world: World, role: str) -> list[str]:
    """The guidance service's own answer: the open items that role owns, as the chat shows their actions."""
    items = guidance.patient_guidance(world.ctx, CM, world.ids["a"], role, DAY)["items"]
    return [i["action"].rstrip(". ").split(" (")[0] for i in items if i["owner_role"] == role]


def _turn(world: World, conversation_id: str, text: str, caller: Caller = CM) -> dict[str, Any]:
    return chat.send(world.ctx, caller, conversation_id, text, DAY)


def test_each_turn_is_answered_by_the_engine_that_owns_it(world: World) -> None:
    conversation = chat.start(world.ctx, CM, world.a["mbi"])
    assert conversation["patient_id"] == world.ids["a"] and conversation["role"] == "care_manager"
    cid, pid = conversation["conversation_id"], world.ids["a"]

    a1c = _turn(world, cid, "What was her last A1c?")
    assert a1c["intent"] == "record_question" and not a1c["abstained"], a1c["answer"]
    assert "HbA1c" in a1c["answer"] and all(c["patient_id"] == pid for c in a1c["citations"])

    bp = _turn(world, cid, "and her BP?")
    assert bp["resolved_question"] == "What was her last BP?"
    assert bp["routing"]["followup"] == {"method": "ellipsis", "from_turn": 1, "topic": "A1c"}
    assert "Blood pressure" in bp["answer"] and all(c["patient_id"] == pid for c in bp["citations"])

    protocol = _turn(world, cid, "When must the TCM interactive contact happen after discharge?")
    assert protocol["intent"] == "protocol_question" and not protocol["abstained"]
    assert "2 business days" in protocol["answer"]
    assert all(c["patient_id"] is None for c in protocol["citations"])  # the protocols only: no patient text

    steps = _turn(world, cid, "What should I do next?")
    assert steps["intent"] == "next_steps" and steps["links"][0]["rel"] == "guidance"
    service_row = audit_log_for(world.ctx).get(steps["links"][0]["audit_id"])
    assert service_row.event == "guidance" and service_row.patient_id == pid  # the service audited its own read
    assert [s["text"].split(" (")[0] for s in steps["sentences"]] == _own_actions(world, "care_manager")
    for sentence in steps["sentences"]:
        assert sentence["citations"], sentence

    checklist = _turn(world, cid, "Make a discharge checklist")
    assert checklist["intent"] == "checklist" and checklist["sentences"] and not checklist["abstained"]
    assert checklist["links"][0]["href"].startswith(f"/v1/checklists/{pid}?kind=transition")

    draft = _turn(world, cid, "Draft a text asking how she is doing after her hospital stay")
    assert draft["intent"] == "outreach", draft["answer"]
    assert draft["answer"].startswith("Draft text message (needs review)") and "STOP" in draft["answer"]
    assert draft["links"][0]["href"].startswith("/v1/outreach/drafts/od-")

    declined = _turn(world, cid, "Should I increase her metformin dose?")
    assert declined["declined"] and declined["intent"] == "out_of_scope"
    assert "prescriber" in declined["decline_reason"] and declined["sentences"] == []
    assert audit_log_for(world.ctx).get(declined["audit_id"]).event == "chat.declined"


def test_every_turn_is_audited_and_stored_as_shown(world: World) -> None:
    cid = chat.start(world.ctx, CM, world.a["mbi"])["conversation_id"]
    shown = [_turn(world, cid, "What medications is she on?"), _turn(world, cid, "Can you diagnose her?")]
    log = audit_log_for(world.ctx)
    for response, event in zip(shown, ("chat.turn", "chat.declined"), strict=True):
        row = log.get(response["audit_id"])
        assert row.event == event and row.user == CM.user and row.patient_id == world.ids["a"]
        assert row.payload["answer"] == response["answer"] and row.payload["turn"] == response["turn"]
        assert row.payload["routing"]["intent"]["intent"] == response["intent"]
    history = chat.read(world.ctx, CM, cid)
    assert [t["audit_id"] for t in history["turns"]] == [r["audit_id"] for r in shown]
    assert [t["response"]["answer"] for t in history["turns"]] == [r["answer"] for r in shown]
    assert log.get(history["audit_id"]).event == "chat.read"
    assert log.verify().ok


def test_only_the_owner_reads_and_the_panel_is_checked_every_turn(world: World) -> None:
    cid = chat.start(world.ctx, CM, world.b["mbi"])["conversation_id"]
    _turn(world, cid, "What medications is he on?")
    stranger = Caller("chat-other", "care_manager", "cli")
    world.ctx.patients.assign_panel(stranger.user, [world.ids["b"]])
    for attempt in (
        lambda: chat.read(world.ctx, stranger, cid),
        lambda: _turn(world, cid, "Any pending results?", stranger),
    ):
        with pytest.raises(PermissionDenied, match="another user"):
            attempt()
    denied = [r for r in audit_log_for(world.ctx).rows() if r.event == "access.denied" and r.user == stranger.user]
    assert len(denied) == 2
    with pytest.raises(NotFound):
        chat.read(world.ctx, CM, "cv-none")
    world.ctx.patients.unassign_panel(CM.user, [world.ids["b"]])
    try:
        with pytest.raises(PermissionDenied, match="not on your panel"):
            _turn(world, cid, "What medications is he on?")
        assert cid not in {c["conversation_id"] for c in chat.conversations(world.ctx, CM)["conversations"]}
    finally:
        world.ctx.patients.assign_panel(CM.user, [world.ids["b"]])
    assert cid in {c["conversation_id"] for c in chat.conversations(world.ctx, CM)["conversations"]}


def test_naming_another_patient_is_declined_with_the_reason(world: World) -> None:
    cid = chat.start(world.ctx, CM, world.a["mbi"])["conversation_id"]
    on_panel = _turn(world, cid, f"What was {world.b['mbi']}'s last A1c?")
    assert on_panel["declined"] and on_panel["routing"]["intent"]["scope"] == "other_patient"
    assert "Start a conversation about that patient" in on_panel["answer"]
    given, family = world.c["name"].split(" ")[0], world.c["name"].split(" ")[-1]
    off_panel = _turn(world, cid, f"What medications is {given} {family} taking?")
    assert off_panel["declined"] and off_panel["routing"]["intent"]["scope"] == "off_panel"
    assert "not on your panel" in off_panel["answer"] and family not in off_panel["answer"]
    row = audit_log_for(world.ctx).get(off_panel["audit_id"])
    assert row.event == "chat.declined"
    assert row.payload["engine"]["mentions"] == [{"patient_id": world.ids["c"], "how": "name"}]
    mrn = _turn(world, cid, f"and MRN {world.b['mrn']['value']}?")
    assert mrn["declined"] and mrn["citations"] == []
    own = _turn(world, cid, f"What was {world.a['mbi']}'s last A1c?")  # her own MBI is no other patient
    assert not own["declined"]


def test_a_conversation_about_no_patient_answers_protocols_only(world: World) -> None:
    analyst = Caller("chat-analyst", "analyst", "cli")
    cid = chat.start(world.ctx, analyst)["conversation_id"]
    answered = _turn(world, cid, "What does STEADI recommend after a fall?", analyst)
    assert answered["intent"] == "protocol_question" and not answered["abstained"]
    assert answered["patient_id"] is None and all(c["patient_id"] is None for c in answered["citations"])
    declined = _turn(world, cid, "What was her last A1c?", analyst)
    assert declined["declined"] and "not about a patient" in declined["answer"]
    with pytest.raises(PermissionDenied):  # an analyst reads no chart, so starts no conversation about one
        chat.start(world.ctx, analyst, world.a["mbi"])



def test_chat_and_ask_give_one_answer_to_a_record_question(world: World) -> None:
    """The record engine's answer is the same through the chat and the ask box, also when the record has nothing
    (B has no diabetes and no recent discharge): its statement of what was looked for, not a best-matching note."""
    from assistant.services.answers import ask

    cid = chat.start(world.ctx, CM, world.b["mbi"])["conversation_id"]
    abstained = 0
    for question in ("What is her most recent A1c?", "Is anything pending at discharge?",
                     "What are her diagnoses?", "What was her last BP?"):
        turn = _turn(world, cid, question)
        asked = ask(world.ctx, CM, question, world.b["mbi"], as_of=DAY)
        assert turn["intent"] == "record_question", question
        assert (turn["answer"], turn["abstained"]) == (asked["answer"], asked["abstained"]), question
        assert [c.get("record_id") for c in turn["citations"]] == [c.get("record_id") for c in asked["citations"]]
        abstained += turn["abstained"]
    assert abstained >= 2  # the A1c and the pending results: the case where the two used to differ

def test_a_role_view_and_a_role_without_outreach(world: World) -> None:
    coordinator = chat.start(world.ctx, CM, world.a["mbi"], "care_coordinator")
    steps = _turn(world, coordinator["conversation_id"], "What are the next steps?")
    assert coordinator["role"] == "care_coordinator" and "role=care_coordinator" in steps["links"][0]["href"]
    assert [s["text"].split(" (")[0] for s in steps["sentences"]] == _own_actions(world, "care_coordinator")
    specialist = Caller("chat-specialist", "specialist", "cli")
    world.ctx.patients.assign_panel(specialist.user, [world.ids["a"]])
    cid = chat.start(world.ctx, specialist, world.a["mbi"])["conversation_id"]
    refused = _turn(world, cid, "Draft a text reminding her of the appointment", specialist)
    assert refused["declined"] and "outreach.draft" in refused["answer"]


def _events(body: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_the_api_streams_sentences_then_the_final_contract(world: World) -> None:
    app = create_app(world.ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: world.ctx
    with TestClient(app, headers=bearer(world.ctx, "care_manager", CM.user)) as client:
        started = client.post("/v1/conversations", json={"patient_id": world.a["mbi"]})
        assert started.status_code == 200, started.text
        cid = started.json()["conversation_id"]
        response = client.post(
            f"/v1/conversations/{cid}/messages", json={"text": "What medications is she on?", "as_of": DAY.isoformat()}
        )
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.text)
        kinds = [kind for kind, _ in events]
        assert kinds[-1] == "final" and set(kinds[:-1]) <= {"sentence"} and len(kinds) >= 2
        final = events[-1][1]
        assert final["schema"] == "caretrail.ask/1" and final["intent"] == "record_question"
        assert {"answer", "sentences", "citations", "abstained", "audit_id", "dropped_sentences"} <= set(final)
        assert [data for kind, data in events[:-1]] == [
            {"index": i, "text": s["text"], "citations": s["citations"]} for i, s in enumerate(final["sentences"])
        ]
        history = client.get(f"/v1/conversations/{cid}").json()
        assert history["turns"][0]["response"]["audit_id"] == final["audit_id"]
        assert cid in {c["conversation_id"] for c in client.get("/v1/conversations").json()["conversations"]}
        assert client.post(f"/v1/conversations/{cid}/messages", json={"text": ""}).status_code == 422
        assert client.post("/v1/conversations/cv-none/messages", json={"text": "hi"}).status_code == 404
        other = bearer(world.ctx, "care_manager", "chat-api-other")
        refused = client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=other)
        assert refused.status_code == 403 and refused.json() == {"detail": "this conversation belongs to another user"}
        assert client.post("/v1/conversations", json={"patient_id": world.c["mbi"]}).status_code == 403


def test_cli_chat_json_reads_one_message_per_line(world: World) -> None:
    env = {
        **os.environ,
        "CARETRAIL_DATA_DIR": str(world.data_dir),
        "CARETRAIL_CLI_USER": CM.user,
        "CARETRAIL_CLI_ROLE": "care_manager",
    }
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "chat", "--patient", world.a["mbi"], "--json", "--as-of", DAY.isoformat()],
        input="What was her last A1c?\n\nand her BP?\nShould I stop her metformin?\n",
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert [t["turn"] for t in turns] == [1, 2, 3]
    assert len({t["conversation_id"] for t in turns}) == 1
    assert turns[1]["resolved_question"] == "What was her last BP?"
    assert [t["intent"] for t in turns] == ["record_question", "record_question", "out_of_scope"]
    refused = CliRunner().invoke(
        app,
        ["chat", "--patient", world.c["mbi"], "--json"],
        input="hi\n",
        env={"CARETRAIL_DATA_DIR": str(world.data_dir), "CARETRAIL_CLI_USER": CM.user},
    )
    assert refused.exit_code == 2 and "not on your panel" in refused.stderr and refused.stdout == ""
