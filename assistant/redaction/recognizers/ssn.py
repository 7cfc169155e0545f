"""Social Security numbers: dashed or spaced anywhere; nine bare digits only after an SSN label.

The validate step drops numbers the SSA never issues (area 000, 666, 9xx; group 00; serial 0000).
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label, digits_of

LABELS = r"ssn|ss\#|soc(?:ial)?\.?\s*sec(?:urity)?\.?(?:\s*(?:number|no\.?|\#))?|ss\s*no\.?"


def is_valid_ssn(value: str) -> bool:
    d = digits_of(value)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


class SsnRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="SSN",
            name="ssn",
            patterns=[
                Pattern("ssn-dashed", r"(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])", 0.6),
                Pattern("ssn-labeled", after_label(LABELS, r"\d{3}[- .]?\d{2}[- .]?\d{4}(?!\d)"), 0.9),
            ],
            context=["ssn", "social", "security"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_ssn(pattern_text)


def build() -> SsnRecognizer:
    return SsnRecognizer()
