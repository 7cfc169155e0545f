"""National Provider Identifier: 10 digits starting 1 or 2, Luhn check computed with the 80840 prefix."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import digits_of


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_valid_npi(value: str) -> bool:
    digits = digits_of(value)
    return len(digits) == 10 and digits[0] in "12" and luhn_ok("80840" + digits)


class NpiRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="NPI",
            name="npi",
            patterns=[Pattern("npi", r"(?<![\d-])[12]\d{9}(?![\d-])", 0.5)],
            context=["npi", "provider", "national provider"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_npi(pattern_text)


def build() -> NpiRecognizer:
    return NpiRecognizer()
