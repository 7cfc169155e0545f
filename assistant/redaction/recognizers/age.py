"""Ages over 89 (Safe Harbor groups them as 90+). Only the number is the span: "a 94-year-old woman"."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

OLD = r"(?:9\d|1[0-2]\d)"
AFTER = (
    rf"(?<![\w.])(?:{OLD})(?=\s*(?:-|\s)?\s*(?:y\.?/?o\.?|yrs?\.?\s*old|years?[\s-]*old|years?\s+of\s+age"
    rf"|-?year-old|y\.?o\.?[mf]\b|yo[mf]?\b|yr\b|yrs\b|years?\b|y\b))"
)
BEFORE = rf"(?<=\b(?:age|aged|ages|age:|aged:)\s*){OLD}(?![\w.])"


class AgeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="AGE",
            name="age",
            patterns=[Pattern("age-after", AFTER, 0.85), Pattern("age-before", BEFORE, 0.85)],
            context=["age", "old", "year"],
        )


def build() -> AgeRecognizer:
    return AgeRecognizer()
