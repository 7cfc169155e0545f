"""Street addresses: house number, street name, suffix, optional unit, city, state and ZIP on one or two lines.

Safe Harbor removes every geographic unit smaller than a state, so the whole line is one span; the state
and the ZIP are re-found by their own recognizers when they stand alone.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.clinical_terms import CONDITIONS_AND_LABS, DRUGS, EPONYMS, NOTE_WORDS
from assistant.redaction.recognizers.zip_code import STATES

SUFFIX = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter"
    r"|circle|cir|parkway|pkwy|highway|hwy|route|rte|trail|trl|square|sq|plaza|plz|alley|row|loop|pike"
    r"|turnpike|tpke|crossing|xing|path|walk|run|ridge|hollow|heights|hts"
)
NAME_WORD = r"(?:[A-Za-z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th))"
UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|fl|floor|rm|room|bldg|building|\#)\.?\s*\#?\s*[\w-]{1,6})"
CITY_STATE_ZIP = (
    rf"(?:,?[ \t]*(?:\r?\n[ \t]*)?(?-i:[A-Z][A-Za-z.'-]+(?:[ \t][A-Z][A-Za-z.'-]+){{0,2}}),[ \t]*"
    rf"(?-i:{STATES})\.?(?:[ \t]+\d{{5}}(?:-\d{{4}})?)?)"
)
STREET = (
    rf"(?<![\w/.-])\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?\s+(?:[NSEW]\.?\s+|north\s+|south\s+|east\s+|west\s+)?"
    rf"(?:{NAME_WORD}\s+){{0,3}}{NAME_WORD}\s+(?:{SUFFIX})\b\.?(?:\s+(?:[NSEW]|NE|NW|SE|SW)\b\.?)?{UNIT}?"
    rf"{CITY_STATE_ZIP}?"
)
PO_BOX = rf"\b(?:p\.?\s?o\.?\s*box|post\s+office\s+box)\s+\d{{1,6}}{CITY_STATE_ZIP}?"


class StreetAddressRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="ADDRESS",
            name="street_address",
            patterns=[Pattern("street", STREET, 0.75), Pattern("po-box", PO_BOX, 0.8)],
            context=["address", "lives", "resides", "home", "street"],
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # "2 tabs by mouth daily at 9 pm" must not read as an address: the word before the suffix must
        # not be a dosing or clinical word.
        words = [w.strip(".,").lower() for w in pattern_text.split("\n")[0].split()]
        return None if not any(w in _NOT_STREET for w in words[1:4]) else False


_KEEP = {"old", "new", "north", "south", "east", "west", "main", "center", "park", *SUFFIX.split("|")}
_NOT_STREET = frozenset(NOTE_WORDS | DRUGS | CONDITIONS_AND_LABS | EPONYMS) - _KEEP


def build() -> StreetAddressRecognizer:
    return StreetAddressRecognizer()
