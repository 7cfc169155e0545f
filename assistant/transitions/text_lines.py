"""Lines and clauses of a narrative section, with their offsets in the source, and the dates written in them.

Why clauses: discharge instructions arrive as one paragraph per line in some documents ("1. Take all medications
as prescribed 2. No heavy lifting ... 4. Schedule a follow up appointment with your primary care physician in one
week") and as one instruction per line in others. An item cites the clause that says it, not the paragraph around
it, so a reader sees exactly the words the item rests on. Clauses break at sentence ends (not after "Dr." or an
initial) and at numbered list markers.

Intervals ("in 1 week", "within two weeks") are counted from the discharge date; an explicit date ("Oct 12, 2014",
"2014-10-12", "10/12/2014", "12-Oct-2014") is an appointment date and is taken as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "a": 1}  # fmt: skip
_AMOUNT = r"(\d+|" + "|".join(_NUMBERS) + r")"
INTERVAL = re.compile(
    r"\b(?:(?:in|within|after)\s+(?:the\s+next\s+)?" + _AMOUNT + r"(?:\s*(?:-|to)\s*\d+)?\s+"
    r"(day|week|month)s?\b|" + _AMOUNT + r"\s+(day|week|month)s?\s+(?:from|after)\b)",
    re.IGNORECASE,
)
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "vs", "e.g", "i.e", "approx", "no", "jr", "sr", "prof", "inc"}
_SENTENCE_END = re.compile(r"[.!?](?=\s+[\"'(]?[A-Z0-9])")
_NUMBERED = re.compile(r"(?:(?<=\s)|^)\d{1,2}[.)](?=\s+[A-Za-z])")
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"], start=1)}  # fmt: skip
_DATE_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "mdy"),
    (re.compile(r"\b(\d{1,2})-([A-Za-z]{3})[a-z]*-(\d{4})\b"), "dMy"),
    (re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b"), "Mdy"),
)


@dataclass(frozen=True)
class Span:
    """A piece of a section's text and its offsets in the decoded source."""

    text: str
    start: int
    end: int


def lines(text: str, base: int) -> list[Span]:
    """Non-empty lines of ``text`` (stripped), each with source offsets (``base`` is the text's own start)."""
    found, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + line.index(stripped)
            found.append(Span(stripped, base + start, base + start + len(stripped)))
        offset += len(line) + 1
    return found


def clauses(line: Span) -> list[Span]:
    """The sentences and numbered list entries of one line, with their own offsets."""
    cuts = {0}
    markers: set[int] = set()  # where the period of an accepted "1." / "2." marker sits
    expected = 1
    for match in _NUMBERED.finditer(line.text):
        if int(match.group(0)[:-1]) == expected:  # a list counts 1, 2, 3: "BUN 16. H. pylori" is no list
            cuts.add(match.start())
            markers.add(match.end() - 1)
            expected += 1
    for match in _SENTENCE_END.finditer(line.text):
        if match.start() in markers:
            continue
        word = re.findall(r"[A-Za-z.]+$", line.text[: match.start()])
        last = word[0].lower().strip(".") if word else ""
        if last in _ABBREVIATIONS or len(last) == 1:
            continue  # "Dr. Patel", "H. pylori": not a sentence end
        cuts.add(match.end())
    found = []
    points = sorted(cuts) + [len(line.text)]
    for begin, end in zip(points, points[1:], strict=False):
        piece = line.text[begin:end]
        stripped = piece.strip()
        if not stripped:
            continue
        offset = begin + piece.index(stripped)
        found.append(Span(stripped, line.start + offset, line.start + offset + len(stripped)))
    return found


def interval_days(text: str) -> tuple[int, str] | None:
    """``"in 1 week"`` -> ``(7, "in 1 week")``, ``"two weeks from"`` -> 14; a range counts its shortest end
    ("in 1-2 weeks" -> 7)."""
    match = INTERVAL.search(text)
    if match is None:
        return None
    amount = (match.group(1) or match.group(3)).lower()
    number = int(amount) if amount.isdigit() else _NUMBERS[amount]
    unit = (match.group(2) or match.group(4)).lower()
    return number * {"day": 1, "week": 7, "month": 30}[unit], match.group(0)


def explicit_date(text: str) -> tuple[date, str] | None:
    """The first calendar date written in ``text``, as written there."""
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                if order == "ymd":
                    found = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                elif order == "mdy":
                    found = date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
                elif order == "dMy":
                    month = _MONTHS.get(match.group(2)[:3].lower())
                    if month is None:
                        continue
                    found = date(int(match.group(3)), month, int(match.group(1)))
                else:
                    month = _MONTHS.get(match.group(1)[:3].lower())
                    if month is None:
                        continue
                    found = date(int(match.group(3)), month, int(match.group(2)))
            except ValueError:
                continue
            return found, match.group(0)
    return None


def as_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
