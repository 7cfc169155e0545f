"""Scoring PHI detection against gold spans: our corpus, PhysioNet deid, presidio-research.

Recall is counted per gold span: a span is found when detections cover every one of its letters and
digits (any detected type: what matters is that the identifier is hidden). Precision is counted per
detected span: it is right when it overlaps some gold span. F2 weighs recall twice as much, as a
de-identification tool should. Types are mapped onto ours so that per-type figures line up.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.settings import REPO_ROOT

OUR_CORPUS = REPO_ROOT / "evals" / "phi"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "deid_phi"
PHYSIONET_DIR = SHARED_DATA / "physionet_deid_1.1_via_cliffordlab_DEID-2023"
PRESIDIO_FILE = SHARED_DATA / "presidio-research" / "synth_dataset_v2.json"

PHYSIONET_TYPES = {
    "HCPName": "PERSON", "PTName": "PERSON", "PTNameInitial": "PERSON", "RelativeProxyName": "PERSON",
    "Date": "DATE", "Location": "LOCATION", "Phone": "PHONE", "Age": "AGE", "Other": "OTHER_ID",
    "DateYear": None,  # a year alone is not PHI under Safe Harbor: not scored
}
PRESIDIO_TYPES = {
    "PERSON": "PERSON", "STREET_ADDRESS": "ADDRESS", "GPE": "LOCATION", "DATE_TIME": "DATE",
    "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "ZIP_CODE": "ZIP", "US_SSN": "SSN",
    "IP_ADDRESS": "IP_ADDRESS", "DOMAIN_NAME": "URL", "US_DRIVER_LICENSE": "LICENSE",
    "AGE": None, "ORGANIZATION": None, "CREDIT_CARD": None,
    "TITLE": None, "NRP": None, "IBAN_CODE": None,
}


@dataclass
class GoldSpan:
    start: int
    end: int
    type: str
    text: str


@dataclass
class Note:
    name: str
    text: str
    spans: list[GoldSpan]
    ignore: list[tuple[int, int]] = field(default_factory=list)  # gold regions not scored (years)


def load_ours(root: Path = OUR_CORPUS) -> list[Note]:
    notes = []
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text = (root / "notes" / row["note"]).read_text(encoding="utf-8")
        spans = [GoldSpan(s["start"], s["end"], s["type"], s["text"]) for s in row["spans"]]
        notes.append(Note(row["note"], text, spans))
    return notes


def load_physionet(limit: int | None = None, root: Path = PHYSIONET_DIR, half: str | None = None) -> list[Note]:
    """All notes, or ``half="dev"`` (the first half, used to develop rules) or ``"heldout"`` (the second half,
    only ever scored: a held-out figure much below the dev figure means the rules were fitted to the dev notes).
    """
    raw = (root / "id.text").read_text(encoding="latin-1")
    texts: dict[tuple[str, str], str] = {}
    for m in re.finditer(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", raw, re.S):
        texts[(m[1], m[2])] = m[3]
    gold: dict[tuple[str, str], list[GoldSpan]] = defaultdict(list)
    ignore: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for line in (root / "id-phi.phrase").read_text(encoding="latin-1").splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        key, start, end, category = (parts[0], parts[1]), int(parts[2]), int(parts[3]), parts[4]
        ours = PHYSIONET_TYPES.get(category, "OTHER_ID")
        if ours is None:
            ignore[key].append((start, end))
        else:
            gold[key].append(GoldSpan(start, end, ours, texts[key][start:end]))
    keys = list(texts)
    if half is not None:
        middle = len(keys) // 2
        keys = {"dev": keys[:middle], "heldout": keys[middle:]}[half]
    keys = keys[: limit or None]
    return [Note(f"{k[0]}-{k[1]}", texts[k], gold.get(k, []), ignore.get(k, [])) for k in keys]


def load_presidio(limit: int | None = None, path: Path = PRESIDIO_FILE) -> list[Note]:
    rows = json.loads(path.read_text(encoding="utf-8"))[: limit or None]
    notes = []
    for i, row in enumerate(rows):
        spans, ignore = [], []
        for s in row["spans"]:
            ours = PRESIDIO_TYPES.get(s["entity_type"])
            region = (s["start_position"], s["end_position"])
            if ours is None:
                ignore.append(region)
            else:
                spans.append(GoldSpan(*region, ours, s["entity_value"]))
        notes.append(Note(f"presidio-{i}", row["full_text"], spans, ignore))
    return notes


@dataclass
class TypeScore:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def f2(self) -> float:
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if (p + r) else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"gold": self.gold, "found": self.found, "predicted": self.predicted, "correct": self.correct,
                "recall": round(self.recall, 4), "precision": round(self.precision, 4), "f2": round(self.f2, 4)}


Detector = Callable[[str], Iterable[tuple[int, int, str]]]


def _covered(mask: list[bool], text: str, start: int, end: int) -> bool:
    return all(mask[i] for i in range(start, end) if text[i].isalnum())


def score(notes: list[Note], detector: Detector) -> dict[str, object]:
    per_type: dict[str, TypeScore] = defaultdict(TypeScore)
    overall = TypeScore()
    misses: list[dict[str, object]] = []
    started = time.perf_counter()
    for note in notes:
        predicted = list(detector(note.text))
        mask = [False] * len(note.text)
        for start, end, _type in predicted:
            for i in range(start, min(end, len(note.text))):
                mask[i] = True
        for span in note.spans:
            hit = _covered(mask, note.text, span.start, span.end)
            for bucket in (per_type[span.type], overall):
                bucket.gold += 1
                bucket.found += hit
            if not hit:
                context = note.text[max(0, span.start - 40) : span.end + 20].replace("\n", " ")
                misses.append({"note": note.name, "type": span.type, "text": span.text, "context": context})
        regions = [(s.start, s.end) for s in note.spans] + note.ignore
        for start, end, ptype in predicted:
            right = any(start < e and s < end for s, e in regions)
            for bucket in (per_type[ptype], overall):
                bucket.predicted += 1
                bucket.correct += right
    elapsed = time.perf_counter() - started
    return {
        "notes": len(notes),
        "seconds": round(elapsed, 3),
        "notes_per_second": round(len(notes) / elapsed, 2) if elapsed else None,
        "overall": overall.as_dict(),
        "per_type": {t: s.as_dict() for t, s in sorted(per_type.items())},
        "misses": misses,
    }


def our_detector(text: str) -> list[tuple[int, int, str]]:
    from assistant.redaction.engine import detect

    return [(e.start, e.end, e.type) for e in detect(text)]


# --- clinical terms: how often do we redact words that must stay -----------------------------------------

def clinical_false_positive_rate(root: Path = OUR_CORPUS) -> dict[str, object]:
    """Share of clinical-term occurrences in ``clinical_terms.txt`` sentences that a detection touches."""
    from assistant.redaction.engine import detect

    total = touched = 0
    hits: list[str] = []
    for line in (root / "clinical_terms.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sentence, _, terms = line.partition("\t")
        entities = detect(sentence)
        for term in filter(None, (t.strip() for t in terms.split("|"))):
            for m in re.finditer(re.escape(term), sentence):
                total += 1
                if any(e.start < m.end() and m.start() < e.end for e in entities):
                    touched += 1
                    hits.append(term)
    return {"terms": total, "redacted": touched, "rate": round(touched / total, 4) if total else 0.0,
            "redacted_terms": hits}


def evaluate(corpus: str, limit: int | None = None, detector: Detector | None = None) -> dict[str, object]:
    loaders: dict[str, Callable[[], list[Note]]] = {
        "ours": load_ours,
        "physionet": lambda: load_physionet(limit),
        "physionet-dev": lambda: load_physionet(limit, half="dev"),
        "physionet-heldout": lambda: load_physionet(limit, half="heldout"),
        "presidio": lambda: load_presidio(limit),
    }
    notes = loaders[corpus]()
    if corpus == "ours" and limit:
        notes = notes[:limit]
    return score(notes, detector or our_detector)


# --- cross-validation: the learned tagger never sees the fold it is scored on ----------------------------------

# P(not PHI) below which a word is PHI: coarse where precision falls slowly, fine near 1 where it falls fast.
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.88, *(round(0.90 + 0.01 * i, 2) for i in range(10)), 0.995)
TARGET_PRECISION = 0.72  # issue 15's target (0.70) plus a margin for the fold-to-fold spread of precision


def patient_of(note: Note) -> str:
    return note.name.split("-")[0]


def patient_folds(notes: list[Note], k: int = 5) -> list[int]:
    """A fold per note, whole patients to a fold (a patient's notes share names), balanced by note count.

    Deterministic: patients with the most notes first, each to the fold with the fewest notes so far.
    """
    counts: dict[str, int] = defaultdict(int)
    for note in notes:
        counts[patient_of(note)] += 1
    load = [0] * k
    fold_of: dict[str, int] = {}
    for patient, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        fold = min(range(k), key=lambda i: (load[i], i))
        fold_of[patient] = fold
        load[fold] += count
    return [fold_of[patient_of(note)] for note in notes]


@dataclass
class Prepared:
    """A note after spaCy and the hand rules, with the tagger's rows and training labels (model-independent)."""

    note: Note
    rules: object  # engine.RulePass
    rows: object  # tagger.NoteRows
    labels: list[str | None]


def prepare(notes: list[Note]) -> list[Prepared]:
    """Run spaCy and the rules once per note; every fold's model is then trained and applied on these."""
    from assistant.redaction import tagger
    from assistant.redaction.engine import run_rules, tagger_rows

    out = []
    for note in notes:
        rules = run_rules(note.text)
        rows = tagger_rows(rules)
        gold = [(s.start, s.end, s.type) for s in note.spans]
        out.append(Prepared(note, rules, rows, tagger.gold_labels(rows, gold, note.ignore)))
    return out


def _predict(items: list[Prepared], model: object) -> dict[str, list[tuple[int, int, str]]]:
    from assistant.redaction.engine import combine, merge

    return {p.note.text: [(e.start, e.end, e.type) for e in merge(p.note.text, combine(p.rules, model, p.rows))]
            for p in items}


def _choose_threshold(check: list[Prepared], predict_at: Callable[[float], dict[str, list[tuple[int, int, str]]]]
                      ) -> float:
    """The threshold whose recall on ``check`` is highest while precision there stays at ``TARGET_PRECISION``.

    ``predict_at(threshold)`` gives every note's detections at that threshold (each note predicted by a model
    that did not see it). Ties go to the higher precision; when none qualifies, the most precise threshold.
    """
    notes = [p.note for p in check]
    best: tuple[bool, float, float, float] | None = None
    for threshold in THRESHOLDS:
        predicted = predict_at(threshold)
        overall = score(notes, lambda text, _p=predicted: _p[text])["overall"]
        recall, precision = overall["recall"], overall["precision"]  # type: ignore[index]
        key = (precision >= TARGET_PRECISION, recall if precision >= TARGET_PRECISION else precision, precision,
               -threshold)
        if best is None or key > best:
            best = key
    assert best is not None
    return -best[3]


def fit_tagger(items: list[Prepared], folds: list[int], meta: dict[str, object] | None = None) -> object:
    """Train a tagger on ``items``; its threshold is chosen on their own folds, each held back in turn.

    Why every fold and not one: precision on a single held-back fold of 15 patients swings by 0.1 from fold to
    fold, so a threshold chosen there is as often too cautious as too bold. Each of ``folds`` is held back once
    and predicted by a model trained on the others; on these pooled out-of-fold predictions the highest-recall
    threshold whose precision stays at ``TARGET_PRECISION`` is kept; then the model is trained on all of
    ``items``. Nothing outside ``items`` is looked at.
    """
    from assistant.redaction import tagger

    if len(set(folds)) < 2:  # one fold given: split its patients in two
        folds = patient_folds([p.note for p in items], 2)
    if len(set(folds)) < 2:  # one patient: nothing to hold back, keep a recall-leaning threshold
        return tagger.train([p.rows for p in items], [p.labels for p in items], threshold=0.9,  # type: ignore
                            meta=dict(meta or {}, threshold_chosen_on="none (one patient)"))
    held: list[tuple[list[Prepared], object]] = []
    for inner in sorted(set(folds)):
        fit = [p for p, f in zip(items, folds, strict=True) if f != inner]
        check = [p for p, f in zip(items, folds, strict=True) if f == inner]
        held.append((check, tagger.train([p.rows for p in fit], [p.labels for p in fit])))  # type: ignore[misc]

    def predict_at(threshold: float) -> dict[str, list[tuple[int, int, str]]]:
        out: dict[str, list[tuple[int, int, str]]] = {}
        for check, model in held:
            model.threshold = threshold  # type: ignore[attr-defined]
            out.update(_predict(check, model))
        return out

    chosen = _choose_threshold([p for check, _m in held for p in check], predict_at)
    return tagger.train([p.rows for p in items], [p.labels for p in items], threshold=chosen,  # type: ignore[misc]
                        meta=dict(meta or {}, threshold_chosen_on=f"out-of-fold predictions of {len(held)} folds"))


def _summary(reports: list[dict[str, object]]) -> dict[str, object]:
    """Mean and worst fold, overall and per type (recall and precision)."""
    def stats(key: str, kind: str | None) -> dict[str, float]:
        values = []
        for r in reports:
            block = r["overall"] if kind is None else r["per_type"].get(kind)  # type: ignore[union-attr,index]
            if block and (key != "recall" or block["gold"]) and (key != "precision" or block["predicted"]):
                values.append(block[key])
        return {"mean": round(sum(values) / len(values), 4), "worst": round(min(values), 4)} if values else {}

    kinds = sorted({k for r in reports for k, v in r["per_type"].items() if v["gold"]})  # type: ignore[union-attr]
    return {
        "overall": {"recall": stats("recall", None), "precision": stats("precision", None)},
        "per_type": {k: {"recall": stats("recall", k), "precision": stats("precision", k),
                         "gold": sum(r["per_type"].get(k, {}).get("gold", 0) for r in reports)}  # type: ignore
                     for k in kinds},
    }


def cross_validate(k: int = 5, limit: int | None = None, progress: Callable[[str], None] | None = None,
                   items: list[Prepared] | None = None) -> dict[str, object]:
    """k-fold cross-validation on the shared PhysioNet notes, folds by patient.

    For each fold a tagger is trained on the other k-1 folds only (its threshold chosen on one of them) and
    scored on the fold; the hand rules are fixed. Reports each fold, the mean and the worst fold, per type,
    the misses, and how long detection took per note.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    items = items if items is not None else prepare(load_physionet(limit))
    notes = [p.note for p in items]
    folds = patient_folds(notes, k)
    say(f"prepared {len(items)} notes in {time.perf_counter() - started:.0f} s")
    reports = []
    for fold in range(k):
        train_items = [p for p, f in zip(items, folds, strict=True) if f != fold]
        train_folds = [f for f in folds if f != fold]
        test_items = [p for p, f in zip(items, folds, strict=True) if f == fold]
        model = fit_tagger(train_items, train_folds)
        predicted = _predict(test_items, model)
        report = score([p.note for p in test_items], lambda text, _p=predicted: _p[text])
        report["fold"] = fold
        report["patients"] = len({patient_of(p.note) for p in test_items})
        report["scored_patients"] = sorted({patient_of(p.note) for p in test_items})
        report["trained_patients"] = sorted({patient_of(p.note) for p in train_items})
        report["threshold"] = model.threshold  # type: ignore[attr-defined]
        reports.append(report)
        overall = report["overall"]
        say(f"fold {fold + 1}: {len(test_items)} notes, recall {overall['recall']:.3f}, "  # type: ignore[index]
            f"precision {overall['precision']:.3f}, threshold {model.threshold}")  # type: ignore[attr-defined]
    return {"corpus": "physionet", "folds": k, "notes": len(notes), "per_fold": reports, **_summary(reports)}
