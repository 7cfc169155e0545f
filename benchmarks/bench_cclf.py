"""Benchmark CCLF ingest of one large claim file: time and peak memory of the streamed pipeline (parts of
``connectors.cclf.PART_LINES`` lines in one transaction) against the whole-file peer (the file parsed at once,
then stored in one transaction), each in its own process so each peak is its own, measured in the same run.

A monthly CCLF5 for an ACO of 20,000 beneficiaries is a few hundred thousand lines; memory must not grow with it
(target: peak under 2 GiB for any file size).

Run: .venv/bin/python benchmarks/bench_cclf.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from assistant.context import open_context
from assistant.settings import Settings
mode, path, data_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ctx = open_context(Settings(data_dir=data_dir, max_file_bytes=10**12))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
if mode == "streamed":
    from assistant.ingest.pipeline import ingest_paths
    summary = ingest_paths(ctx.ingest_deps, [path])
    assert not summary.errors, summary.errors
    records = summary.records
else:
    from connectors import cclf
    from connectors.text import sha256_bytes
    data = path.read_bytes()
    parsed = cclf.parse(path, data)
    with ctx.patients.transaction() as session:
        ctx.patients.save_document(session, parsed, sha256_bytes(data))
    records = len(parsed.records)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "records": records, "peak_mib": peak, "base_mib": base}))
"""


def line(i: int) -> dict[str, str]:
    return {"CUR_CLM_UNIQ_ID": str(10**12 + i), "CLM_LINE_NUM": "1", "BENE_MBI_ID": f"1EG4TE5M{i % 20000:05d}"[:11],
            "CLM_TYPE_CD": "71", "CLM_FROM_DT": "2026-03-09", "CLM_THRU_DT": "2026-03-09",
            "CLM_LINE_FROM_DT": "2026-03-09", "CLM_LINE_THRU_DT": "2026-03-09", "CLM_LINE_HCPCS_CD": "99214",
            "CLM_LINE_CVRD_PD_AMT": "98.40", "CLM_LINE_DGNS_CD": "E119", "CLM_DGNS_1_CD": "E119",
            "CLM_DGNS_2_CD": "I10", "RNDRG_PRVDR_NPI_NUM": "1234567893", "DGNS_PRCDR_ICD_IND": "0",
            "CLM_POS_CD": "11"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    from assistant.demo.cclf_writer import write_cclf5

    with tempfile.TemporaryDirectory() as tmp:
        path = write_cclf5(Path(tmp) / "P.A1234.ACO.ZC5Y26.D260301.T0000001", (line(i) for i in range(args.lines)))
        size_mib = path.stat().st_size / 1024**2
        results = {}
        for mode in ("streamed", "whole-file"):
            done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(Path(tmp) / mode)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"CCLF5 of {args.lines} lines ({size_mib:.0f} MiB)")
    for mode, r in results.items():
        print(f"{mode:>10}: {r['seconds']:.1f} s -> {r['records'] / r['seconds']:.0f} lines/s; "
              f"peak {r['peak_mib']:.0f} MiB ({r['peak_mib'] - r['base_mib']:.0f} MiB over the process at rest)")
    streamed, whole = results["streamed"], results["whole-file"]
    memory = (streamed["peak_mib"] - streamed["base_mib"]) / (whole["peak_mib"] - whole["base_mib"])
    print(f"streamed/whole-file: time {streamed['seconds'] / whole['seconds']:.2f}, memory over rest {memory:.2f} "
          "(target: streamed peak < 2048 MiB at any size)")


if __name__ == "__main__":
    main()
