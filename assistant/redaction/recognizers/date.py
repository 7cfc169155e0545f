"""Every date element except the year, in the formats notes use (see ``assistant.redaction.dates``).

03/14/1947, 14-Mar-1947, March 14, 1947, 1947-03-14, 7/22, "July 2nd", "March 1947". Year-only values
are allowed by Safe Harbor and are not matched; the validate step keeps only real calendar dates.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction import dates

# Written alone these are far more often doses and proportions ("1/2 tab", "2/3 of meals") than dates.
FRACTIONS = {"1/2", "1/3", "1/4", "2/3", "3/4", "2/4"}


# "on the 11th": a day of the month on its own, still a date element.
DAY_ORDINAL = (
    r"(?<=\b(?:on\s+the|the|on|since\s+the|from\s+the)\s+)(?:[12]?\d|3[01])(?:st|nd|rd|th)\b"
    r"(?!\s+(?:floor|grade|percentile|day|time|dose|rib|ics|intercostal|toe|finger|digit|cranial|nerve|week))"
)


class DateRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE",
            name="date",
            patterns=[Pattern("date", dates.DETECT, 0.6), Pattern("day-ordinal", DAY_ORDINAL, 0.6)],
            context=["date", "dob", "born", "birth", "admitted", "discharged", "on", "since", "seen"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", pattern_text, re.IGNORECASE):
            return True
        parsed = dates.parse(pattern_text)
        if parsed is None or pattern_text.strip() in FRACTIONS:
            return False
        # "March 1947" keeps a month; a month name alone ("may") never gets here: patterns need a number.
        return parsed.has_day or parsed.has_year


def build() -> DateRecognizer:
    return DateRecognizer()
