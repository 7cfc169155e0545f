"""PHI detection: our hand rules (presidio with our recognizers) and the learned tagger, on one spaCy pass.

``detect`` returns non-overlapping entities: overlapping hits (an address that contains a ZIP, a phone
number after "fax") are merged into one span with the type of the strongest hit, because what matters
downstream is that every character of an identifier is covered exactly once.

Two detectors, one pass of spaCy: the rules (``recognizers/*``) and the learned tagger (``tagger.py``,
model in ``data/phi_tagger.npz``) that reads the rules' hits as features. ``DETECTOR_VERSION`` names both,
so an audit row can say which detector cleared a prompt.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult

from assistant.redaction import dates
from assistant.redaction.clinical_terms import EPONYM_TAIL, is_clinical
from assistant.redaction.nlp import get_nlp_engine
from assistant.redaction.registry import build_recognizers
from assistant.redaction.tagger import NoteRows, TaggerModel, default_model, labels_for, note_rows, spacy_tags, spans

SCORE_THRESHOLD = 0.4


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    score: float
    recognizer: str
    text: str

    def to_dict(self, with_text: bool = False) -> dict[str, object]:
        data = asdict(self)
        if not with_text:
            data.pop("text")
        return data


@lru_cache(maxsize=1)
def get_analyzer() -> AnalyzerEngine:
    """Our engine: no presidio predefined recognizers, only ``recognizers/*`` (built once per process)."""
    nlp_engine = get_nlp_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in build_recognizers():
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        nlp_engine=nlp_engine, registry=registry, supported_languages=["en"], default_score_threshold=SCORE_THRESHOLD
    )


def _recognizer_name(result: RecognizerResult) -> str:
    meta = result.recognition_metadata or {}
    return str(meta.get("recognizer_name") or meta.get(RecognizerResult.RECOGNIZER_NAME_KEY) or "unknown")


def merge(text: str, results: list[RecognizerResult]) -> list[Entity]:
    """Union overlapping hits into one span per identifier."""
    ordered = sorted(results, key=lambda r: (r.start, -r.end))
    groups: list[list[RecognizerResult]] = []
    group_end = -1
    for result in ordered:
        if groups and result.start < group_end:
            groups[-1].append(result)
            group_end = max(group_end, result.end)
        else:
            groups.append([result])
            group_end = result.end
    entities = []
    for group in groups:
        # The hit covering the most text names the span ("1 Main St, Peoria, IL 61602" is an ADDRESS
        # even though the ZIP inside it scored higher); equal lengths go to the higher score (FAX > PHONE).
        best = max(group, key=lambda r: (r.end - r.start, r.score))
        start = min(r.start for r in group)
        end = max(r.end for r in group)
        entities.append(Entity(best.entity_type, start, end, round(best.score, 3), _recognizer_name(best),
                               text[start:end]))
    return entities


def rule_hits(results: list[RecognizerResult]) -> list[tuple[int, int, str, str]]:
    """The rules' hits as (start, end, type, source): what the tagger reads about them."""
    out = []
    for r in results:
        meta = r.recognition_metadata or {}
        source = _recognizer_name(r) + (f":{meta['source']}" if meta.get("source") else "")
        out.append((r.start, r.end, r.entity_type, source))
    return out


@dataclass
class RulePass:
    """One note after spaCy and the hand rules: everything the tagger needs, whatever model it uses."""

    text: str
    tags: dict[int, tuple[str, str]]  # spaCy tag and entity label by token start
    results: list[RecognizerResult]


def run_rules(text: str, score_threshold: float = SCORE_THRESHOLD) -> RulePass:
    analyzer = get_analyzer()
    artifacts = analyzer.nlp_engine.process_text(text, "en")
    results = analyzer.analyze(text=text, language="en", score_threshold=score_threshold, nlp_artifacts=artifacts)
    return RulePass(text, spacy_tags(artifacts.tokens), results)


# The tagger decides these types: it reads the rules' hits of them as evidence, and its answer replaces theirs.
# The other types (MBI, SSN, phone, email...) have fixed shapes and stay with the rules.
TAGGED_TYPES = frozenset({"PERSON", "LOCATION", "DATE"})


def tagger_rows(rules: RulePass) -> NoteRows:
    return note_rows(rules.text, rules.tags, rule_hits(rules.results))


_DAY_ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)", re.IGNORECASE)


def _rule_stands(result: RecognizerResult, text: str) -> bool:
    """A rule hit of a tagged type that stands whatever the tagger says: its shape or cue settles it.

    Full dates ("03/14/1947", "March 14, 2024"), cities before a state ("Springfield, IL"), named
    facilities ("Calvert Hospital"), known towns after a place cue, and names after a title, a form label or
    before a credential ("Dr. Foley", "PCP: ...", "... RN"). Short forms ("10/5", a vent setting as often as a
    date) and places or names from weaker cues are left to the tagger.
    """
    if result.entity_type == "DATE":
        if _DAY_ORDINAL.fullmatch(text[result.start : result.end]):
            return True  # "on the 11th": the rule's cue and its exclusions ("the 4th floor") settle it
        parsed = dates.parse(text[result.start : result.end])
        return parsed is not None and parsed.form not in ("num_md", "num_my")
    if result.entity_type == "LOCATION":
        return result.score >= 0.8
    source = (result.recognition_metadata or {}).get("source")
    return result.entity_type == "PERSON" and source in ("title", "label", "credential")


def _tagger_span_ok(text: str, start: int, end: int, kind: str) -> bool:
    """Clinical words and eponyms stay ("Hickman", "Addison disease"), as they do for the rules."""
    if kind == "DATE":
        return True
    return not is_clinical(text[start:end]) and not EPONYM_TAIL.match(text[end:])


def combine(rules: RulePass, model: TaggerModel | None, rows: NoteRows | None = None) -> list[RecognizerResult]:
    """The rules' hits of fixed-shape types (and the tagged types where ``_rule_stands``) plus the tagger's.

    Without a model, the rules alone (the detector before the tagger).
    """
    if model is None:
        return list(rules.results)
    rows = rows or tagger_rows(rules)
    tagged = [
        RecognizerResult(kind, start, end, 0.8, recognition_metadata={"recognizer_name": "tagger"})
        for start, end, kind in spans(rows, labels_for(rows, model))
        if _tagger_span_ok(rules.text, start, end, kind)
    ]
    kept = [r for r in rules.results if r.entity_type not in TAGGED_TYPES or _rule_stands(r, rules.text)]
    return kept + tagged


def detect(
    text: str, score_threshold: float = SCORE_THRESHOLD, model: TaggerModel | None | str = "default"
) -> list[Entity]:
    """Every identifier in ``text``, as non-overlapping spans sorted by position.

    ``model``: the tagger model ("default": the shipped one; ``None``: the hand rules only).
    """
    if not text.strip():
        return []
    chosen = default_model() if model == "default" else model
    assert not isinstance(chosen, str)
    return merge(text, combine(run_rules(text, score_threshold), chosen))


RULES_VERSION = "rules-2"


def detector_version() -> str:
    """Which detector cleared a text: the rule set and the tagger model's content digest."""
    model = default_model()
    return f"{RULES_VERSION}+tagger-{model.digest}" if model is not None else RULES_VERSION
