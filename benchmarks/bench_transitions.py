"""Benchmark transitions: one discharge's checklist (p50/p95, target p95 < 200 ms) and the open-episode worklist of
10,000 episodes (target < 200 ms), on SQLite and on the loopback PostgreSQL, printed side by side.

Data: the eval's discharge scenarios (FHIR, HL7 v2 and C-CDA with medication lists and discharge summaries; the real
documents from ../shared when present) plus N HL7 ADT A03 discharges, one per patient, spread over the 30 days
before the as-of date, every fifth with a heart failure DG1, every fiftieth cancelled by an A13 (written as batch
files of 100 messages, so the set-up is not dominated by one ingest transaction per message). Checklist times are
taken through the service (access check, episode sync, records read, build, audit row), as a user waits for them;
the engine-only build time is printed too.

The peer for the worklist is building every episode's checklist on the request (what the worklist cost before the
rows were stored, and what its first call after a day of new records costs); the ratio is printed. The worklist is
read twice: as an admin (every patient: one sorted, limited query) and as a care manager whose panel holds every
patient (the panel's ids in IN lists of 5,000).

The knowledge base is indexed once, in the SQLite store; the PostgreSQL store gets a copy of its chunk rows (the
checklist cites knowledge sentences from those rows; the vector index is not used here).

Run: .venv/bin/python benchmarks/bench_transitions.py [--episodes 10000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.index.tables import ChunkRow
from assistant.ingest.pipeline import ingest_paths
from assistant.services import transitions
from assistant.services.caller import Caller, PanelScope
from assistant.settings import REPO_ROOT, Settings
from assistant.transitions import episodes
from assistant.transitions.checklist import build_checklist
from assistant.transitions.evaluation import DEFAULT_SCENARIOS, load_scenarios

AS_OF = date(2026, 11, 23)
ADMIN = Caller("bench-admin", "admin", "cli")
LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def mbi(n: int) -> str:
    """A well-formed, distinct MBI for patient ``n``."""
    a, b, c = LETTERS[n % 20], LETTERS[(n // 20) % 20], LETTERS[(n // 400) % 20]
    return f"1{a}{b}{n % 10}{c}{LETTERS[(n // 8000) % 20]}{(n // 10) % 10}{a}{b}{(n // 100) % 10}{(n // 1000) % 10}"


def write_discharges(folder: Path, count: int, per_file: int = 100) -> None:
    """``count`` discharges as ADT batch files of ``per_file`` messages (one ingest transaction per file)."""
    sys.path.insert(0, str(REPO_ROOT))  # the scenario builder's ADT writer lives in evals/, beside the package
    from evals.transitions.build_scenarios import adt

    folder.mkdir(parents=True)
    batch: list[str] = []
    for n in range(count):
        day = AS_OF - timedelta(days=1 + n % 29)
        stamp = day.strftime("%Y%m%d") + "140000"
        dg1 = (("I50.9", "Heart failure, unspecified"),) if n % 5 == 0 else ()
        name = f"Bench^P{n}^^^^^L||19400101|F"
        batch.append(adt("A03", f"B{n}", f"{mbi(n)}^^^CMS^MB", name, f"V{n}", stamp, stamp, dg1=dg1))
        if n % 50 == 0:
            batch.append(adt("A13", f"C{n}", f"{mbi(n)}^^^CMS^MB", name, f"V{n}", "", stamp))
        if len(batch) >= per_file or n == count - 1:
            (folder / f"{n:05d}.hl7").write_text("".join(batch), encoding="utf-8", newline="")
            batch = []


def scenario_files() -> list[Path]:
    files: list[Path] = []
    for scenario in load_scenarios(DEFAULT_SCENARIOS):
        if not scenario.missing:
            files.extend(scenario.files)
    return files


def measure(label: str, settings: Settings, discharges: Path, seed_engine: object | None, sample: int) -> dict:
    ctx = open_context(settings)
    if seed_engine is None:
        ingest_knowledge(ctx.knowledge_deps)
    else:
        with Session(seed_engine) as source, Session(ctx.engine) as target, target.begin():  # type: ignore[arg-type]
            for row in source.query(ChunkRow).filter(ChunkRow.collection == "knowledge"):
                target.add(ChunkRow(**{c.name: getattr(row, c.name) for c in ChunkRow.__table__.columns}))
    started = time.perf_counter()
    for path in scenario_files():
        ingest_paths(ctx.ingest_deps, [path])
    summary = ingest_paths(ctx.ingest_deps, [discharges])
    assert not summary.errors, summary.errors[:3]
    episodes.sync(ctx.engine)
    found = episodes.list_episodes(ctx.engine)
    print(
        f"[{label}] ingested {summary.documents} ADT documents and the scenarios, {len(found)} episodes, in "
        f"{time.perf_counter() - started:.0f} s"
    )

    # One discharge's checklist: the rich scenario discharges first, then ADT-only ones.
    patients = list(dict.fromkeys(e.patient_id for e in found))
    rich = [e.patient_id for e in found if any(s.get("format") != "hl7v2" for s in e.sources)]
    chosen = list(dict.fromkeys(rich + patients))[:sample]
    service, engine_only, rich_service = [], [], []
    for patient_id in chosen:
        history = [e for e in found if e.patient_id == patient_id]
        as_of = max(AS_OF, history[0].discharge_date)
        started = time.perf_counter()
        transitions.checklist(ctx, ADMIN, patient_id, as_of=as_of)
        service.append((time.perf_counter() - started) * 1000)
        if patient_id in rich:
            rich_service.append(service[-1])
        started = time.perf_counter()
        build_checklist(ctx.engine, history[0], as_of, history)
        engine_only.append((time.perf_counter() - started) * 1000)
    service.sort()
    engine_only.sort()
    rich_service.sort()

    def p95(values: list[float]) -> float:
        return values[int(0.95 * (len(values) - 1))]

    # The worklist: the first call builds every row (the peer), then it is a query.
    started = time.perf_counter()
    first = transitions.worklist(ctx, ADMIN, "open", AS_OF)
    cold = time.perf_counter() - started
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        listed = transitions.worklist(ctx, ADMIN, "open", AS_OF)
        runs.append((time.perf_counter() - started) * 1000)
    everyone = PanelScope(patient_ids=frozenset(patients))
    manager = Caller("bench-cm", "care_manager", "api_key", panel=everyone)
    panel_runs = []
    for _ in range(5):
        started = time.perf_counter()
        transitions.worklist(ctx, manager, "open", AS_OF)
        panel_runs.append((time.perf_counter() - started) * 1000)
    warm, panel = min(runs), min(panel_runs)
    print(
        f"[{label}] checklist through the service: p50 {statistics.median(service):.1f} ms, p95 {p95(service):.1f} "
        f"ms over {len(service)} discharges ({len(set(rich) & set(chosen))} with a summary or FHIR stay); engine "
        f"only: p50 {statistics.median(engine_only):.1f} ms, p95 {p95(engine_only):.1f} ms"
    )
    print(f"[{label}] the {len(rich_service)} discharges with a summary or FHIR stay alone: p50 "
          f"{statistics.median(rich_service):.1f} ms, p95 {p95(rich_service):.1f} ms")  # fmt: skip
    print(
        f"[{label}] worklist of {len(found)} episodes ({listed['total']} open on {AS_OF}): admin {warm:.0f} ms, care "
        f"manager with a {len(patients)}-patient panel {panel:.0f} ms; peer (build every checklist on the request) "
        f"{cold * 1000:.0f} ms, ratio {cold * 1000 / warm:.0f}x; first call returned {first['total']}"
    )
    return {
        "p95": p95(service),
        "engine_p95": p95(engine_only),
        "worklist": warm,
        "panel": panel,
        "cold": cold * 1000,
        "episodes": len(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="discharges whose checklist is timed one by one")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        discharges = Path(tmp) / "adt"
        write_discharges(discharges, args.episodes)
        sqlite = Settings(data_dir=Path(tmp) / "sqlite")
        results = {"sqlite": measure("sqlite", sqlite, discharges, None, args.sample)}
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            url = args.postgres.replace("postgresql://", "postgresql+psycopg://") + f"?options=-csearch_path%3D{schema}"
            results["postgres"] = measure("postgres", Settings(data_dir=Path(tmp) / "pg", database_url=url),
                                          discharges, open_context(sqlite).engine, args.sample)  # fmt: skip
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print(
        f"{'':10} {'checklist p95':>14} {'worklist admin':>15} {'worklist panel':>15} {'peer':>10}   targets: "
        "p95 < 200 ms, worklist < 200 ms"
    )
    for name, f in results.items():
        print(
            f"{name:10} {f['p95']:11.1f} ms {f['worklist']:12.0f} ms {f['panel']:12.0f} ms {f['cold']:7.0f} ms   "
            f"({f['episodes']} episodes)"
        )


if __name__ == "__main__":
    main()
