"""Benchmark `ask`: latency (p50/p95) and retrieval recall@5 over 200 questions, side by side with a
naive baseline measured in the same run.

Baseline (the common LangChain tutorial setup): each knowledge file loaded whole, cut into fixed
512-character chunks, embedded with the same all-MiniLM-L6-v2 model into a Chroma collection, dense
top-4 retrieval only. Targets: our recall@5 at least 10 points above the baseline's, and our p95
under 150 ms per question with the index warm, on a 2-core machine.

Two recalls are printed. Document recall: one of the question's expected documents is among the
retrieved chunks. Fact recall: the question's key fact (a verbatim phrase) is inside a retrieved chunk's
text, which is what an answer can actually cite. With only ~20 documents, document recall is close to
1.0 for any retriever; fact recall is the one that separates them.

Scale mode (``--patients N``): the knowledge base plus N demo patients' records (N = 25,000 gives about 100,000
chunks), then knowledge questions and questions about one patient that go to the narrative index (questions the
record engine would answer from structured records are not used: they never touch the index), through the service
as above. It prints p50/p95 for the embedded store (SQLite + embedded Chroma) and for the Chroma server with
PostgreSQL, each beside the naive baseline at the same size (dense top-4 from the same vector store, no BM25, no
composing), and the resident memory of the process serving the questions (and of the Chroma server). Target: p95
under 150 ms at 100,000 chunks on 2 cores.

Run: .venv/bin/python benchmarks/bench_ask.py [--questions evals/bench_questions.jsonl]
     .venv/bin/python benchmarks/bench_ask.py --patients 25000 [--only embedded|server]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from assistant.ask import retrieve
from assistant.context import open_context
from assistant.index.embedder import CaretrailEmbeddingFunction
from assistant.index.knowledge import ingest_knowledge, is_knowledge_file
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import REPO_ROOT, Settings

# The benchmark asks as a care manager through the service layer, so its latency includes the audit write.
BENCHMARK = Caller("benchmark", "care_manager", "cli")

BASELINE_CHUNK = 512
BASELINE_K = 4


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _found(row: dict, doc_ids: set[str], texts: list[str]) -> tuple[bool, bool]:
    fact = row["key_fact"].lower()
    return bool(set(row["doc_ids"]) & doc_ids), any(fact in text.lower() for text in texts)


def naive_baseline(ctx, questions: list[dict]) -> tuple[float, float, list[float]]:  # type: ignore[no-untyped-def]
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection(
        "naive",
        embedding_function=CaretrailEmbeddingFunction(str(ctx.settings.resolved_embedder_path)),
        configuration={"hnsw": {"space": "cosine"}},
    )
    ids, texts, metas = [], [], []
    for path in sorted(ctx.settings.knowledge_dir.glob("*.md")):
        if not is_knowledge_file(path):
            continue
        text = path.read_text(encoding="utf-8")
        doc_id = path.stem
        for index in range(0, len(text), BASELINE_CHUNK):
            ids.append(f"{doc_id}:{index}")
            texts.append(text[index : index + BASELINE_CHUNK])
            metas.append({"doc_id": doc_id})
    collection.add(ids=ids, embeddings=ctx.embedder.embed(texts), metadatas=metas, documents=texts)
    documents = facts = 0
    latencies = []
    for row in questions:
        started = time.perf_counter()
        vector = ctx.embedder.embed_one(row["question"])
        result = collection.query(query_embeddings=[vector], n_results=BASELINE_K, include=["metadatas", "documents"])
        latencies.append((time.perf_counter() - started) * 1000)
        doc_hit, fact_hit = _found(row, {m["doc_id"] for m in result["metadatas"][0]}, result["documents"][0])
        documents += doc_hit
        facts += fact_hit
    return documents / len(questions), facts / len(questions), latencies


def ours(ctx, questions: list[dict]) -> tuple[float, float, list[float], int, int]:  # type: ignore[no-untyped-def]
    documents = facts = answered_facts = abstained = 0
    latencies = []
    for row in questions:
        started = time.perf_counter()
        result = ask(ctx, BENCHMARK, row["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        abstained += int(result["abstained"])
        answered_facts += int(row["key_fact"].lower() in result["answer"].lower())
        hits, _ = retrieve(ctx.search_deps, row["question"], None, 5)
        doc_hit, fact_hit = _found(row, {hit.doc_id for hit in hits}, [hit.text for hit in hits])
        documents += doc_hit
        facts += fact_hit
    return documents / len(questions), facts / len(questions), latencies, abstained, answered_facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=REPO_ROOT / "evals" / "bench_questions.jsonl")
    parser.add_argument("--patients", type=int, default=0, help="scale mode: this many demo patients indexed too")
    parser.add_argument("--only", choices=("embedded", "server"), help="scale mode: one configuration only")
    parser.add_argument("--sample", type=int, default=200, help="scale mode: questions of each kind timed")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.patients:
        run_at_scale(args.patients, questions, args.only, args.postgres, args.sample)
        return

    with tempfile.TemporaryDirectory() as data_dir:
        ctx = open_context(Settings(data_dir=Path(data_dir)))
        started = time.perf_counter()
        report = ingest_knowledge(ctx.knowledge_deps)
        print(f"indexed {report.added} documents, {report.chunks} chunks in {time.perf_counter() - started:.1f} s")
        for row in questions[:10]:  # warm the model, Chroma and the BM25 cache
            ask(ctx, BENCHMARK, row["question"])

        recall, fact_recall, latencies, abstained, answered = ours(ctx, questions)
        base_recall, base_fact_recall, base_latencies = naive_baseline(ctx, questions)

    print(f"questions: {len(questions)}")
    print(f"{'':32}{'doc recall':>11}{'fact recall':>12}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'caretrail ask (hybrid, k=5)':32}{recall:>11.3f}{fact_recall:>12.3f}"
          f"{statistics.median(latencies):>9.1f}{percentile(latencies, 95):>9.1f}")
    print(f"{'naive dense 512-char (k=4)':32}{base_recall:>11.3f}{base_fact_recall:>12.3f}"
          f"{statistics.median(base_latencies):>9.1f}{percentile(base_latencies, 95):>9.1f}")
    print(f"document recall difference: {100 * (recall - base_recall):+.1f} points; "
          f"fact recall difference: {100 * (fact_recall - base_fact_recall):+.1f} points (target >= +10)")
    print(f"fact recall ratio: {fact_recall / base_fact_recall:.2f}x the baseline")
    print(f"key fact present in our cited answer: {answered} of {len(questions)}")
    print(f"p95 latency: {percentile(latencies, 95):.1f} ms (target < 150 ms); "
          f"{percentile(latencies, 95) / percentile(base_latencies, 95):.1f}x the baseline's retrieval-only p95")
    print(f"abstained on {abstained} of {len(questions)} in-scope questions")


# Questions about one patient that the narrative index answers (the record engine does not take them).
PATIENT_QUESTIONS = (
    "What did the notes say about her living situation?",
    "Who helps the patient at home?",
    "What did the discharge instructions say to watch for?",
    "What did the care manager write after the last call?",
    "Why did the patient go to the hospital?",
)


def _timed_asks(ctx, asks: list[tuple[str, str | None]]) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Our latency through the service, and the naive baseline's (dense top-4 from the same store) per question."""
    from assistant.index.vectors import KNOWLEDGE, PATIENT
    from assistant.retrieval.hybrid import Scope

    ours_ms, naive_ms = [], []
    for question, patient in asks:
        started = time.perf_counter()
        ask(ctx, SCALE_CALLER, question, patient)
        ours_ms.append((time.perf_counter() - started) * 1000)
        scope = Scope(PATIENT, patient_id=patient) if patient else Scope(KNOWLEDGE)
        started = time.perf_counter()
        vector = ctx.embedder.embed_one(question)
        ctx.search_deps.vectors.query(scope.collection, vector, BASELINE_K, scope.chroma_where())
        naive_ms.append((time.perf_counter() - started) * 1000)
    return ours_ms, naive_ms


SCALE_CALLER = Caller("benchmark", "admin", "cli")  # every patient is on an admin's panel: no assignment needed


def _scale_one(label: str, settings: Settings, demo: Path, questions: list[dict], sample: int,
               extra_process: int | None = None) -> None:
    import random

    import psutil
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from assistant.index.tables import ChunkRow
    from assistant.ingest.pipeline import ingest_paths
    from assistant.record_answers.questions import classify

    ctx = open_context(settings)
    started = time.perf_counter()
    ingest_knowledge(ctx.knowledge_deps)
    summary = ingest_paths(ctx.ingest_deps, [demo])
    assert not summary.errors, summary.errors[:3]
    with Session(ctx.engine) as session:
        chunks = session.scalar(select(func.count()).select_from(ChunkRow)) or 0
    print(f"[{label}] indexed the knowledge base and {summary.documents} documents, {chunks} chunks, in "
          f"{time.perf_counter() - started:.0f} s")
    assert not any(classify(q) for q in PATIENT_QUESTIONS), "a patient question the record engine would take"
    patients = sorted(row.id for row in ctx.patients.list_patients(limit=10_000_000))
    rng = random.Random(7)
    knowledge = [(row["question"], None) for row in questions[:sample]]
    about = [(rng.choice(PATIENT_QUESTIONS), rng.choice(patients)) for _ in range(sample)]
    _timed_asks(ctx, knowledge[:10] + about[:10])  # warm the model, the store and the BM25 caches
    for name, asks in (("knowledge questions", knowledge), ("patient questions", about)):
        ours_ms, naive_ms = _timed_asks(ctx, asks)
        print(f"[{label}] {name} ({len(asks)}): ours p50 {statistics.median(ours_ms):.1f} ms, p95 "
              f"{percentile(ours_ms, 95):.1f} ms; naive dense top-4 p50 {statistics.median(naive_ms):.1f} ms, p95 "
              f"{percentile(naive_ms, 95):.1f} ms (retrieval only); ratio of p95s "
              f"{percentile(ours_ms, 95) / percentile(naive_ms, 95):.1f}x; target p95 < 150 ms at 100,000 chunks")
    served = psutil.Process().memory_info().rss / 2**20
    other = f", Chroma server {psutil.Process(extra_process).memory_info().rss / 2**20:.0f} MB" if extra_process else ""
    print(f"[{label}] resident memory of the serving process {served:.0f} MB{other}")
    ctx.engine.dispose()


def run_at_scale(patients: int, questions: list[dict], only: str | None, postgres: str, sample: int = 200) -> None:
    """The knowledge base plus ``patients`` demo patients, on the embedded store and on Chroma server + PostgreSQL."""
    import uuid

    # bench_api is a script beside this one (benchmarks/ is on the path when run): one way to start the servers.
    from bench_api import _create_schema, _drop_schema, chroma_server

    from assistant.demo.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        generate(patients, 2027, workdir / "demo")
        if only in (None, "embedded"):
            _scale_one("embedded", Settings(data_dir=workdir / "embedded"), workdir / "demo", questions, sample)
        if only in (None, "server"):
            schema = f"bench_ask_{uuid.uuid4().hex[:8]}"
            with chroma_server(workdir / "chroma-server") as (port, chroma_pid):
                _create_schema(postgres, schema)
                try:
                    settings = Settings(data_dir=workdir / "server", chroma_mode="http", chroma_port=port,
                                        database_url=f"{postgres}?options=-csearch_path%3D{schema}")
                    _scale_one("Chroma server + PostgreSQL", settings, workdir / "demo", questions, sample,
                               chroma_pid)
                finally:
                    _drop_schema(postgres, schema)


if __name__ == "__main__":
    main()
