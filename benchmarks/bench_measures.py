"""Benchmark CMS165 + CMS122 over a demo panel: Caretrail's engine against the peer, the stewards' reference engine
(fqm-execution 1.8.6 over the stewards' ELM, run through Node by ``assistant.measures.reference``), in one run.

The panel is generated, then ingested once. Ours, per patient: read the records back from the store and evaluate
both measures, evidence included (every population cites the records that decided it). The reference engine, per
patient: both measures over the same patients' FHIR bundles, as many patients per Node run as ``--batch`` allows,
shown without Node start-up (the engine's own time) and with it (what a caller waits for). Target: ours at least
10x faster, and it explains its results, which the reference engine does not; the agreement count says the two
computed the same populations.

Run: .venv/bin/python benchmarks/bench_measures.py [--patients 1000] [--seed 7] [--batch 1000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from assistant.demo.generator import REFERENCE_DATE, generate
from assistant.measures import cms165, compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000, help="patients per Node run of the reference engine")
    args = parser.parse_args()
    period = (f"{REFERENCE_DATE.year}-01-01", f"{REFERENCE_DATE.year}-12-31")

    with tempfile.TemporaryDirectory(prefix="caretrail-bench-measures-") as tmp:
        panel = Path(tmp) / "panel"
        generate(args.patients, args.seed, panel)
        run = compare.compare_folder(panel, period, data_dir=Path(tmp) / "data", batch_size=args.batch)

    n = len(run.patients)
    t = run.timings
    ours_ms = 1000 * t.ours / n
    calculate_ms = 1000 * t.reference_calculate / n
    total_ms = 1000 * t.reference_total / n
    print(f"{n} demo patients, CMS165 + CMS122, measurement period {period[0]}..{period[1]} "
          f"(ingest once: {t.ingest:.1f} s)")
    print(f"      ours: {ours_ms:7.2f} ms/patient (store read + both measures + evidence; {t.ours:.1f} s in all)")
    print(f" reference: {calculate_ms:7.2f} ms/patient without Node start-up, {total_ms:.2f} ms/patient with it "
          f"({t.reference_runs} Node runs, {t.reference_total:.1f} s in all)")
    print(f"     ratio: ours {calculate_ms / ours_ms:.1f}x faster than the engine alone, "
          f"{total_ms / ours_ms:.1f}x with start-up (target: >= 10x)")
    explained = len({(d.patient_id, d.measure) for d in run.disagreements if d.explained_by})
    print(f" agreement: {run.agreeing_patients()}/{n} patients agree on every population of both measures; "
          f"{len(run.unexplained)} unexplained population disagreements, {explained} explained by a known divergence")
    for population in compare.POPULATIONS:
        counts = ", ".join(f"{m[:32]} {sum(p.ours[m][population] for p in run.patients)}" for m in run.measures)
        print(f"            {population}: {counts}")

    example = next((p for p in run.patients if p.ours[cms165.MEASURE]["numerator"]), None)
    if example is not None:
        result = example.results[cms165.MEASURE]
        print(f"\nWhy {example.file} is in the {cms165.TITLE} numerator (the reference engine says only 1):")
        for population in ("initial-population", "numerator"):
            for evidence in result.evidence[population]:
                where = evidence.locator or evidence.record_id
                cited = f" [{evidence.record_kind} {where}]" if evidence.record_kind else ""
                print(f"  {population}: {evidence.reason}{cited}")


if __name__ == "__main__":
    main()
