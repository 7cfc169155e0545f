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

Run: .venv/bin/python benchmarks/bench_ask.py [--questions evals/bench_questions.jsonl]
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
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]

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


if __name__ == "__main__":
    main()
