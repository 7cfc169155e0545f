"""Medicare Beneficiary Identifier: 11 characters, CMS position rules, letters S L O I B Z excluded.

Cards print it as 1EG4-TE5-MK73; notes also write it lower case, with spaces, or broken across a line.
The validate step re-checks the exact position rules after removing separators.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

_L = "[AC-HJKMNP-RT-Y]"  # the 20 allowed letters
_LN = "[AC-HJKMNP-RT-Y0-9]"
_SEP = r"(?:[ \t]*-?[ \t]*\r?\n?[ \t]*-?[ \t]*)"  # optional dash/space, or a line break between groups
STRICT = re.compile(rf"^[1-9]{_L}{_LN}[0-9]{_L}{_LN}[0-9]{_L}{{2}}[0-9]{{2}}$")

PATTERN = rf"(?<![A-Za-z0-9])[1-9]{_L}{_LN}[0-9]{_SEP}{_L}{_LN}[0-9]{_SEP}{_L}{_L}[0-9][0-9](?![A-Za-z0-9])"


def normalize(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def is_valid_mbi(value: str) -> bool:
    return bool(STRICT.match(normalize(value)))


class MbiRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="MBI",
            name="mbi",
            patterns=[Pattern("mbi", PATTERN, 0.6)],
            context=["mbi", "medicare", "beneficiary", "medicare id", "member"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_mbi(pattern_text)


def build() -> MbiRecognizer:
    return MbiRecognizer()
