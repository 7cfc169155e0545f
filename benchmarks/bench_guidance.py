"""Benchmark guidance: one patient's items (p50/p95, target p95 < 100 ms) and the worklist of a whole panel
(target < 500 ms for 10,000 patients), on SQLite and on the loopback PostgreSQL, printed side by side.

The worklist is timed as a care manager gets it: the service call (``services.guidance.panel_worklist``) for a
user whose assigned panel is the whole population, which resolves the panel, checks which patients are stale (none,
after ingest computed them), runs the ranked query and writes the audit row. The peer is recomputing every
patient's rules on each request (what a worklist without the stored items would cost); the ratio is printed.
The panel is the deterministic demo population, ingested once per database; the knowledge base is indexed so
every item's citation is resolved as in production.

Run: .venv/bin/python benchmarks/bench_guidance.py [--patients 10000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.guidance.engine import guidance
from assistant.guidance.facts import gather
from assistant.guidance.worklist import refresh
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.services.caller import Caller
from assistant.services.guidance import panel_worklist
from assistant.settings import Settings

AS_OF = date(2026, 11, 23)


def measure(label: str, settings: Settings, demo: Path, sample: int) -> dict[str, float]:
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)
    started = time.perf_counter()
    summary = ingest_paths(ctx.ingest_deps, [demo])
    assert not summary.errors, summary.errors[:3]
    print(f"[{label}] ingested {summary.documents} documents in {time.perf_counter() - started:.1f} s")
    ids = sorted(row.id for row in ctx.patients.list_patients(limit=10_000_000))

    timings = []
    for patient_id in ids[:sample]:
        started = time.perf_counter()
        guidance(gather(ctx.patients, ctx.engine, ctx.roster_cache, patient_id, AS_OF), ctx.engine, "care_manager")
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]

    started = time.perf_counter()
    refresh(ctx.patients, ctx.engine, ctx.roster_cache, ids, AS_OF)
    first = time.perf_counter() - started
    ctx.patients.assign_panel("bench-cm", ids)
    caller = Caller("bench-cm", "care_manager", "cli")
    runs = []
    for _ in range(7):
        started = time.perf_counter()
        listed = panel_worklist(ctx, caller, as_of=AS_OF, limit=100)
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    query_ms = runs[len(runs) // 2]
    print(f"[{label}] one patient: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)}; "
          f"worklist of a {len(ids)}-patient panel: median {query_ms:.0f} ms, worst {runs[-1]:.0f} ms of {len(runs)} "
          f"({listed['total']} open items; first computation {first:.1f} s); peer (recompute every patient per "
          f"request) ~{first * 1000:.0f} ms, ratio {first * 1000 / query_ms:.0f}x")
    return {"p95": p95, "worklist": query_ms, "patients": len(ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="patients timed one by one")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        generate(args.patients, 2027, demo)
        results = {"sqlite": measure("sqlite", Settings(data_dir=Path(tmp) / "sqlite"), demo, args.sample)}
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            url = args.postgres.replace("postgresql://", "postgresql+psycopg://") + f"?options=-csearch_path%3D{schema}"
            results["postgres"] = measure("postgres", Settings(data_dir=Path(tmp) / "pg", database_url=url), demo,
                                          args.sample)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print(f"{'':10} {'patient p95 (ms)':>18} {'worklist (ms)':>14}   targets: p95 < 100 ms, worklist < 500 ms")
    for name, figures in results.items():
        print(f"{name:10} {figures['p95']:18.1f} {figures['worklist']:14.0f}   ({figures['patients']} patients)")


if __name__ == "__main__":
    main()
