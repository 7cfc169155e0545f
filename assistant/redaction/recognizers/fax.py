"""Fax numbers: a phone-shaped number within a few words after "fax" (Safe Harbor lists them apart)."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

NUMBER = r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?![\w/])"
PATTERN = rf"(?<=\b(?:fax|facsimile|fx)\b[^\n\d]{{0,30}}){NUMBER}"


class FaxRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="FAX",
            name="fax",
            patterns=[Pattern("fax", PATTERN, 0.95)],
            context=["fax"],
        )


def build() -> FaxRecognizer:
    return FaxRecognizer()
