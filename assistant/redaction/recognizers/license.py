"""Certificate and license numbers: driver's licenses, state medical/nursing licenses, DEA registrations.

A DEA number has a shape and a check digit (two letters, seven digits); the rest are label-driven.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"licen[cs]e|lic\.?|dl|driver'?s?\s*licen[cs]e|certificate|cert\.?|certification|permit|registration"
    r"|board\s*cert(?:ification)?|passport"
)
VALUE = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,16}[A-Z0-9](?![\w-])"
DEA = r"(?<![\w-])[A-Z][A-Z9]\d{7}(?![\w-])"


def dea_ok(value: str) -> bool:
    digits = [int(c) for c in value[2:]]
    check = (digits[0] + digits[2] + digits[4]) + 2 * (digits[1] + digits[3] + digits[5])
    return check % 10 == digits[6]


class LicenseRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="LICENSE",
            name="license",
            patterns=[Pattern("license-labeled", after_label(LABELS, VALUE), 0.8), Pattern("dea", DEA, 0.4)],
            context=["license", "dea", "certificate", "licence"],
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        text = pattern_text.upper()
        if len(text) == 9 and text[:2].isalpha() and text[2:].isdigit():
            return dea_ok(text) or None
        return None


def build() -> LicenseRecognizer:
    return LicenseRecognizer()
