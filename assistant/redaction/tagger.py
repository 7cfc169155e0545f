"""The learned PHI tagger: Philter's inverse idea with the clearing rules learned instead of hand-written.

Why: hand rules fitted to a few hundred nursing notes found 0.93 of the identifiers in the notes they were
written on and 0.86 elsewhere. Philter (Norgeot et al. 2020) turns the question round: a word that is
not known to be safe is a candidate, and context clears the rest. Here every word of a note is a row,
described by

- what public lists say about it (known safe, census or Philter name, US place, clinical, month...), with
  its identity only when it is a known-safe word that is no name or place (``lexicons.identity_vocabulary``),
  so the model can learn "Dr. <unknown word>" but never which surrogate names a corpus used;
- its shape, the note's case style, spaCy's part-of-speech tag and entity label;
- the same for two words either side, plus the punctuation between;
- what the hand rules said about it (type and cue), so the model learns where to trust them.

A logistic regression (scikit-learn, at training time only) weighs those features; prediction is a sum of
weights per word in numpy, about a millisecond per note. A word is PHI when P(not PHI) falls below the
model's threshold, which favours recall. The model file is ``assistant/redaction/data/phi_tagger.npz``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex as re

from assistant.redaction import dates, lexicons
from assistant.redaction.clinical_terms import NOT_A_NAME
from assistant.redaction.dates import MONTHS

MODEL_PATH = Path(__file__).parent / "data" / "phi_tagger.npz"
LABELS = ("O", "PERSON", "LOCATION", "DATE")
TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_WORDISH = re.compile(r"[A-Za-z0-9]")
_WEEKDAYS = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
}
_STATES = {
    "al",
    "ak",
    "az",
    "ar",
    "ca",
    "co",
    "ct",
    "de",
    "fl",
    "ga",
    "hi",
    "id",
    "il",
    "in",
    "ia",
    "ks",
    "ky",
    "la",
    "me",
    "md",
    "ma",
    "mi",
    "mn",
    "ms",
    "mo",
    "mt",
    "ne",
    "nv",
    "nh",
    "nj",
    "nm",
    "ny",
    "nc",
    "nd",
    "oh",
    "ok",
    "or",
    "pa",
    "ri",
    "sc",
    "sd",
    "tn",
    "tx",
    "ut",
    "vt",
    "va",
    "wa",
    "wv",
    "wi",
    "wy",
    "dc",
}


@dataclass
class NoteRows:
    """One note as the tagger sees it: word tokens and their feature strings (independent of any model)."""

    text: str
    tokens: list[tuple[int, int]]
    rows: list[list[str]]
    lowers: list[str] = field(default_factory=list)


def _bare(word: str) -> str:
    lower = word.lower().replace("’", "'")
    if lower.endswith("'s"):
        lower = lower[:-2]
    return lower.replace("'", "")


_SHAPE_TABLE = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "X" * 26 + "x" * 26 + "d" * 10
)
_RUNS = re.compile(r"(.)\1{2,}")


@lru_cache(maxsize=200_000)
def _shape(word: str) -> str:
    """ "Quartermain" -> "Xxx", "7/18" -> "d/dd": letter case and digits, runs cut to two."""
    return _RUNS.sub(r"\1\1", word.translate(_SHAPE_TABLE))[:6]


@lru_cache(maxsize=300_000)
def word_info(lower: str) -> tuple[str, tuple[str, ...]]:
    """(coarse class, lexicon flags) for one lower-case word."""
    if lower.isdigit():
        n = len(lower)
        year = n == 4 and lower[:2] in ("19", "20")
        return ("NUM", ("year",) if year else (f"num{min(n, 5)}",))
    single, _multi = lexicons.us_places()
    flags = []
    safe = lower in lexicons.known_safe()
    english = lower in lexicons.english()
    clinical = lower in lexicons.CLINICAL
    census_first = lower in lexicons.census_first_names()
    rank = lexicons.census_surname_ranks().get(lower)
    philter_first = lower in lexicons.philter_first_names()
    philter_last = lower in lexicons.philter_last_names()
    place = lower in single
    for flag, on in (
        ("safe", safe),
        ("eng", english),
        ("clin", clinical),
        ("cfn", census_first),
        ("pfn", philter_first),
        ("pln", philter_last),
        ("place", place),
        ("month", lower in MONTHS),
        ("wday", lower in _WEEKDAYS),
        ("state", lower in _STATES),
    ):
        if on:
            flags.append(flag)
    if rank is not None:
        flags.append("cln" + ("1k" if rank <= 1000 else "10k" if rank <= 10_000 else "60k" if rank <= 60_000 else "x"))
    name = census_first or rank is not None or philter_first or philter_last
    common = english or clinical or lower in NOT_A_NAME
    if any(ch.isdigit() for ch in lower):
        coarse = "ALNUM"
    elif common:
        coarse = (
            "AMBIG" if (census_first or (rank is not None and rank <= 60_000)) else ("SAFEPLACE" if place else "SAFE")
        )
    elif name or place:  # Philter's whitelist holds some towns ("rockville"); the place list wins
        coarse = ("NAMEPLACE" if place else "NAME") if name else "PLACE"
    elif safe:
        coarse = "SAFE"
    else:
        coarse = "UNK"
    if len(lower) <= 2 and coarse in ("UNK", "NAME", "PLACE"):
        coarse += "2"
    return coarse, tuple(flags)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=100_000)
def is_typo_of_safe(lower: str) -> bool:
    """One edit (drop, swap, change or add a letter) away from a known-safe word: "draingae", "Diltizem".

    Nursing notes are full of misspelt clinical words; without this they look like rare surnames.
    """
    if len(lower) < 5 or not lower.isalpha():
        return False
    safe = lexicons.known_safe()
    splits = [(lower[:i], lower[i:]) for i in range(len(lower) + 1)]
    for left, right in splits:
        if right and left + right[1:] in safe:
            return True
        if len(right) > 1 and left + right[1] + right[0] + right[2:] in safe:
            return True
        for ch in _LETTERS:
            if right and left + ch + right[1:] in safe or left + ch + right in safe:
                return True
    return False


_CHUNK = re.compile(r"\S+")
_NUMBERS = re.compile(r"\d+")
_NUMERIC_CORE = re.compile(r"\d+(?:[/\-.]\d+)+")


@lru_cache(maxsize=50_000)
def _chunk_features(chunk: str, token_is_number: bool) -> tuple[str, ...]:
    """The shape of the whitespace-delimited chunk around a token: "dd/dd/dd%" is a vent setting, "d/dd" may
    be a date or a pain score."""
    out = [f"ch={_shape(chunk)}"]
    numbers = _NUMBERS.findall(chunk)
    if token_is_number and len(numbers) >= 2:
        core = _NUMERIC_CORE.search(chunk)
        if core:
            out.append("numdate" if dates.parse(core.group()) is not None else "numnodate")
            if numbers[1] == "10" and len(numbers) == 2:
                out.append("over10")
            if "%" in chunk:
                out.append("pct")
    return tuple(out)


def _identity(lower: str) -> str:
    return lower if lower in lexicons.identity_vocabulary() or lower.isdigit() and len(lower) <= 2 else "?"


def case_informative(text: str) -> bool:
    from assistant.redaction.recognizers._names import case_is_informative

    return case_is_informative(text)


def spacy_tags(doc: object | None) -> dict[int, tuple[str, str]]:
    """Part-of-speech tag and entity label by token start, from the spaCy Doc presidio already made."""
    if doc is None:
        return {}
    return {tok.idx: (tok.tag_, tok.ent_type_) for tok in doc}  # type: ignore[attr-defined]


def note_rows(text: str, tags: dict[int, tuple[str, str]], rule_hits: Sequence[tuple[int, int, str, str]]) -> NoteRows:
    """Feature strings for every word token of ``text``.

    ``tags``: ``spacy_tags`` of the note; ``rule_hits``: the hand rules' (start, end, type, source) spans.
    """
    tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text) if _WORDISH.match(m.group())]
    words = [text[s:e] for s, e in tokens]
    lowers = [_bare(w) for w in words]
    infos = [word_info(w) for w in lowers]
    idents = [_identity(w) for w in lowers]
    shapes = [_shape(w) for w in words]
    informative = "inf" if case_informative(text) else "flat"
    _single, multi = lexicons.us_places()

    tag_at = tags
    rule_at = [""] * len(text)
    source_at = [""] * len(text)
    for start, end, kind, source in rule_hits:
        for i in range(start, min(end, len(text))):
            rule_at[i] = kind
            source_at[i] = source

    counts = Counter(lowers)
    chunks = [(m.start(), m.end(), m.group()) for m in _CHUNK.finditer(text)] or [(0, 0, "")]
    chunk_index = 0
    rows: list[list[str]] = []
    n = len(tokens)
    for i, (start, end) in enumerate(tokens):
        coarse, flags = infos[i]
        lower = lowers[i]
        row = [
            f"c={coarse}",
            f"s={shapes[i]}",
            f"s|c={shapes[i]}|{coarse}",
            f"i|s={informative}|{shapes[i]}",
            f"i|c={informative}|{coarse}",
            f"w={idents[i]}",
            f"len={min(len(lower), 12)}",
        ]
        row += [f"f={flag}" for flag in flags]
        if coarse in ("UNK", "NAME", "PLACE", "NAMEPLACE") and len(lower) >= 5:
            row.append(f"suf={lower[-3:]}")
        if coarse in ("UNK", "NAME", "NAMEPLACE", "PLACE") and is_typo_of_safe(lower):
            row.append("typo")
        if coarse not in ("SAFE", "NUM"):
            row.append(f"rep={min(counts[lower], 3)}")
        while chunk_index + 1 < len(chunks) and chunks[chunk_index][1] <= start:
            chunk_index += 1
        row += _chunk_features(chunks[chunk_index][2], lower.isdigit())
        tag, ent = tag_at.get(start, ("", ""))
        row += [f"tag={tag}", f"ent={ent}", f"tag|c={tag}|{coarse}"]
        kinds = {rule_at[j] for j in range(start, end)} - {""}
        sources = {source_at[j] for j in range(start, end)} - {""}
        row += [f"rule={k}" for k in kinds] + [f"src={s}" for s in sources]
        # punctuation and line breaks between this word and its neighbours
        before = text[tokens[i - 1][1] : start] if i else "\n"
        after = text[end : tokens[i + 1][0]] if i + 1 < n else "\n"
        row += [f"pb={before.strip()[:2]}", f"pa={after.strip()[:2]}"]
        if "\n" in before:
            row.append("bol")
        if "\n" in after:
            row.append("eol")
        for k in (-2, -1, 1, 2):
            j = i + k
            if 0 <= j < n:
                row += [f"{k}w={idents[j]}", f"{k}c={infos[j][0]}"]
                if abs(k) == 1:
                    row += [f"{k}s={shapes[j]}", f"{k}w|c={idents[j]}|{coarse}"]
                    row += [f"{k}f={flag}" for flag in infos[j][1]]
            else:
                row.append(f"{k}w=<edge>")
        if i and f"{lowers[i - 1]} {lower}" in multi or i + 1 < n and f"{lower} {lowers[i + 1]}" in multi:
            row.append("mplace")
        if i >= 2:
            row.append(f"-2w-1w={idents[i - 2]}|{idents[i - 1]}")
        row += _conjunctions(i, words, lowers, infos, idents, shapes)
        rows.append(row)
    return NoteRows(text, tokens, rows, lowers)


# Words that announce a place or a person a few words later ("transferred to the ...", "son ... called").
_PLACE_CUES = frozenset(
    "to at from in into transfer transferred transfered trans tx xfer xferred admitted adm sent lives live living "
    "resides arrived arriving went brought taken return returned go going discharged discharge accepted seen "
    "near via enroute route home".split()
)
_PERSON_CUES = frozenset(
    "dr drs md doctor rn np pa nurse son sons daughter daughters dtr dau wife husband spouse brother sister bro "
    "sis friend nephew niece mother mom father dad grandson granddaughter gd gs aunt uncle cousin partner proxy "
    "hcp fiance girlfriend boyfriend neighbor per by with called mr mrs ms miss".split()
)
_STATE_NAMES = frozenset(
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois "
    "indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri "
    "montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington "
    "wisconsin wyoming".split()
)
_HOSPITAL_ACRONYM = re.compile(r"^[A-Z]{1,4}(?:H|MC|HC|MH|CH)$")


def _conjunctions(
    i: int,
    words: list[str],
    lowers: list[str],
    infos: list[tuple[str, tuple[str, ...]]],
    idents: list[str],
    shapes: list[str],
) -> list[str]:
    """Pairs of facts a linear model cannot combine on its own: "an unknown word between *to* and a number"
    (a unit, "Fenwick 5"), "a two-letter capital word after a place cue" (a hospital, "GH"), a word a few words
    after a relation ("son, Ed, ..."). Only class, shape and known-safe words appear, as everywhere."""
    n = len(words)
    coarse = infos[i][0]
    prev_c = infos[i - 1][0] if i else "<edge>"
    next_c = infos[i + 1][0] if i + 1 < n else "<edge>"
    prev_w = idents[i - 1] if i else "<edge>"
    next_w = idents[i + 1] if i + 1 < n else "<edge>"
    out = [
        f"c|1c={coarse}|{next_c}",
        f"-1c|c={prev_c}|{coarse}",
        f"-1w|1c={prev_w}|{next_c}",
        f"s|-1w={shapes[i]}|{prev_w}",
        f"s|1w={shapes[i]}|{next_w}",
    ]
    window = lowers[max(0, i - 3) : i]
    if any(w in _PLACE_CUES for w in window):
        out += [f"pcue|c={coarse}", f"pcue|s={shapes[i]}", f"pcue|1c={next_c}"]
    if any(w in _PERSON_CUES for w in lowers[max(0, i - 2) : i]):
        out += [f"ncue|c={coarse}", f"ncue|s={shapes[i]}"]
    # the known-safe words three either side, as a bag: "PSV 12/5 PEEP" is a vent setting, "3/10 pain" a score
    out += [f"p3w={w}" for w in {idents[j] for j in range(max(0, i - 3), i)} - {"?"}]
    out += [f"n3w={w}" for w in {idents[j] for j in range(i + 1, min(n, i + 4))} - {"?"}]
    if lowers[i] in _STATE_NAMES:
        out.append(f"sname|-1w={prev_w}")
    if _HOSPITAL_ACRONYM.match(words[i]):
        out.append("hacr")
    return out


@dataclass
class TaggerModel:
    """A linear layer over feature strings, optionally followed by one ReLU layer and an output layer."""

    features: list[str]
    coef: np.ndarray  # (features, labels) or (features, hidden)
    intercept: np.ndarray  # (labels,) or (hidden,)
    threshold: float = 0.5  # PHI when P(O) < threshold
    meta: dict[str, object] = field(default_factory=dict)
    out_coef: np.ndarray | None = None  # (hidden, labels)
    out_intercept: np.ndarray | None = None  # (labels,)

    def __post_init__(self) -> None:
        self.index = {f: i for i, f in enumerate(self.features)}

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        h.update("\n".join(self.features).encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        h.update(repr(self.threshold).encode())
        if self.out_coef is not None and self.out_intercept is not None:
            h.update(np.ascontiguousarray(self.out_coef, dtype=np.float32).tobytes())
            h.update(np.ascontiguousarray(self.out_intercept, dtype=np.float32).tobytes())
        return h.hexdigest()[:12]

    def probabilities(self, rows: list[list[str]]) -> np.ndarray:
        if not rows:
            return np.zeros((0, len(LABELS)))
        flat: list[int] = []
        owner: list[int] = []
        for r, row in enumerate(rows):
            for feature in row:
                j = self.index.get(feature)
                if j is not None:
                    flat.append(j)
                    owner.append(r)
        scores = np.tile(self.intercept, (len(rows), 1)).astype(np.float64)
        if flat:
            np.add.at(scores, np.asarray(owner), self.coef[np.asarray(flat)])
        if self.out_coef is not None and self.out_intercept is not None:
            scores = np.maximum(scores, 0.0) @ self.out_coef + self.out_intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            features=np.asarray(self.features),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            threshold=np.float64(self.threshold),
            meta=np.asarray(json.dumps(self.meta, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> TaggerModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(f) for f in data["features"]],
                data["coef"].astype(np.float64),
                data["intercept"].astype(np.float64),
                float(data["threshold"]),
                json.loads(str(data["meta"])),
            )


@lru_cache(maxsize=1)
def default_model() -> TaggerModel | None:
    return TaggerModel.load(MODEL_PATH) if MODEL_PATH.is_file() else None


def labels_for(note: NoteRows, model: TaggerModel) -> list[str]:
    """A label per word token: the best PHI type where P(O) is below the threshold, else "O"."""
    probs = model.probabilities(note.rows)
    out = []
    for p in probs:
        out.append("O" if p[0] >= model.threshold else LABELS[1 + int(np.argmax(p[1:]))])
    _propagate(note, out, probs)
    _extend(note, out)
    return out


_NAME_TAIL = {"NAME", "UNK", "NAMEPLACE", "PLACE"}
_SAME_NAME = re.compile(r"[ \t]+|\.[ \t]+")


def _extend(note: NoteRows, labels: list[str]) -> None:
    """A name or place goes on over the next word when that word is itself no known word ("patty hoeller",
    "mary theresa kondouli", "Holy Cross Hospital" in a note with capitals): identifiers are whole phrases, and
    a half-hidden one still identifies."""
    informative = None
    for i in range(len(labels) - 1):
        if labels[i] not in ("PERSON", "LOCATION") or labels[i + 1] != "O":
            continue
        gap = note.text[note.tokens[i][1] : note.tokens[i + 1][0]]
        if not _SAME_NAME.fullmatch(gap):
            continue
        nxt = note.lowers[i + 1]
        coarse = word_info(nxt)[0]
        if coarse in _NAME_TAIL and len(nxt) >= 3 and not is_typo_of_safe(nxt):
            labels[i + 1] = labels[i]
        elif labels[i] == "LOCATION" and coarse in ("SAFE", "SAFEPLACE", "AMBIG") and " " in gap:
            if informative is None:
                informative = case_informative(note.text)
            word = note.text[note.tokens[i + 1][0] : note.tokens[i + 1][1]]
            if informative and word[:1].isupper() and not word.isupper() and nxt not in lexicons.CLINICAL:
                labels[i + 1] = labels[i]


_PROPAGATE = {"NAME", "NAMEPLACE", "PLACE", "UNK", "AMBIG"}


def _propagate(note: NoteRows, labels: list[str], probs: np.ndarray) -> None:
    """A name or place found with confidence is found everywhere in the note ("SON DAVID" ... "PER DAVID")."""
    found: dict[str, str] = {}
    for i, (lower, label) in enumerate(zip(note.lowers, labels, strict=True)):
        if (
            label in ("PERSON", "LOCATION")
            and probs[i][0] < 0.5
            and len(lower) >= 3
            and (word_info(lower)[0] in _PROPAGATE)
        ):
            found.setdefault(lower, label)
    if not found:
        return
    for i, lower in enumerate(note.lowers):
        if labels[i] == "O" and lower in found:
            labels[i] = found[lower]


_NAME_JOIN = re.compile(r"[ \t]*[.\-'’]?[ \t]*")
_DATE_JOIN = re.compile(r"[ \t]*[.\-'’/,]?[ \t]*")


def spans(note: NoteRows, labels: list[str]) -> list[tuple[int, int, str]]:
    """Runs of same-label words, joined across spaces and the punctuation inside names ("St. Mary", "O'Neil")
    or dates ("4/2", "Nov, 96")."""
    out: list[tuple[int, int, str]] = []
    for (start, end), label in zip(note.tokens, labels, strict=True):
        if label == "O":
            continue
        joiner = _DATE_JOIN if label == "DATE" else _NAME_JOIN
        if out and out[-1][2] == label and joiner.fullmatch(note.text[out[-1][1] : start]):
            out[-1] = (out[-1][0], end, label)
        else:
            out.append((start, end, label))
    return out


# --- training (scikit-learn is needed here only) --------------------------------------------------------------


def gold_labels(
    note: NoteRows, gold: Iterable[tuple[int, int, str]], ignore: Iterable[tuple[int, int]]
) -> list[str | None]:
    """The training label of each word: its gold type, "O", or ``None`` (not trained on: years, phones...)."""
    gold = list(gold)
    ignore = list(ignore)
    out: list[str | None] = []
    for start, end in note.tokens:
        label: str | None = "O"
        for s, e, kind in gold:
            if start < e and s < end:
                label = kind if kind in LABELS else None
                break
        else:
            if any(start < e and s < end for s, e in ignore):
                label = None
        out.append(label)
    return out


def train(
    notes: Sequence[NoteRows],
    labels: Sequence[Sequence[str | None]],
    *,
    c: float = 0.5,
    threshold: float = 0.5,
    min_count: int = 2,
    meta: dict[str, object] | None = None,
    hidden: int = 0,
    seed: int = 0,
    balance_types: bool = True,
) -> TaggerModel:
    """Fit the logistic regression on every labelled word of ``notes``.

    ``balance_types``: the three PHI labels weigh alike in the loss (each word of a rarer type counts more,
    the weights averaging 1 over PHI words; "O" words count 1). Why: places are the rarest type (214 of the
    1,250 PHI words in the shared notes: weights about 2.0 for places, 0.9 names, 0.7 dates) and, unweighted,
    the model learns them least, while issue 15 asks for recall on every type. The weights follow from the
    label counts alone; nothing is tuned.
    """
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts: Counter[str] = Counter()
    for note, note_labels in zip(notes, labels, strict=True):
        for row, label in zip(note.rows, note_labels, strict=True):
            if label is not None:
                counts.update(set(row))
    features = sorted(f for f, k in counts.items() if k >= min_count)
    index = {f: i for i, f in enumerate(features)}
    indptr, indices, y = [0], [], []
    for note, note_labels in zip(notes, labels, strict=True):
        for row, label in zip(note.rows, note_labels, strict=True):
            if label is None:
                continue
            cols = sorted({index[f] for f in row if f in index})
            indices.extend(cols)
            indptr.append(len(indices))
            y.append(LABELS.index(label))
    x = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(y), len(features)))
    if hidden:
        from sklearn.neural_network import MLPClassifier

        mlp = MLPClassifier(
            hidden_layer_sizes=(hidden,), alpha=c, max_iter=12, random_state=seed, early_stopping=False, batch_size=256
        )
        mlp.fit(x, np.asarray(y))
        out = np.zeros((hidden, len(LABELS)))
        out_b = np.full(len(LABELS), -30.0)
        for k, cls in enumerate(mlp.classes_):
            out[:, cls] = mlp.coefs_[1][:, k]
            out_b[cls] = mlp.intercepts_[1][k]
        return TaggerModel(
            features,
            mlp.coefs_[0],
            mlp.intercepts_[0],
            threshold,
            dict(meta or {}, rows=len(y), alpha=c, hidden=hidden),
            out,
            out_b,
        )
    class_weight: dict[int, float] | None = None
    if balance_types:
        present = Counter(y)
        phi = [k for k in present if k]
        total = sum(present[k] for k in phi)
        class_weight = {0: 1.0, **{k: total / (len(phi) * present[k]) for k in phi}}
    clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    clf.fit(x, np.asarray(y))
    coef = np.zeros((len(features), len(LABELS)))
    intercept = np.zeros(len(LABELS))
    for k, cls in enumerate(clf.classes_):
        coef[:, cls] = clf.coef_[k] if len(clf.classes_) > 2 else (clf.coef_[0] if k else -clf.coef_[0])
        intercept[cls] = clf.intercept_[k] if len(clf.classes_) > 2 else 0.0
    keep = np.abs(coef).max(axis=1) > 1e-4
    return TaggerModel(
        [f for f, k in zip(features, keep, strict=True) if k],
        coef[keep],
        intercept,
        threshold,
        dict(meta or {}, rows=len(y), c=c, balance_types=balance_types),
    )
