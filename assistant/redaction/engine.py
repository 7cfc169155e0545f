"""PHI detection: presidio's AnalyzerEngine with our recognizers on the installed spaCy model.

``detect`` returns non-overlapping entities: overlapping hits (an address that contains a ZIP, a phone
number after "fax") are merged into one span with the type of the strongest hit, because what matters
downstream is that every character of an identifier is covered exactly once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult

from assistant.redaction.nlp import get_nlp_engine
from assistant.redaction.registry import build_recognizers

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


def detect(text: str, score_threshold: float = SCORE_THRESHOLD) -> list[Entity]:
    """Every identifier in ``text``, as non-overlapping spans sorted by position."""
    if not text.strip():
        return []
    results = get_analyzer().analyze(text=text, language="en", score_threshold=score_threshold)
    return merge(text, results)
