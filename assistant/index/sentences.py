"""Sentence spans with exact character offsets.

Why hand-written rules rather than a model: citations must point at exact offsets in the source,
splitting must be deterministic and fast (it runs on every retrieved chunk at answer time), and our
texts are protocol prose, bullet lists and clinical notes where line structure matters as much as
punctuation. spaCy's statistical parser would add ~10 ms per chunk for no gain here.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g", "i.e", "dr", "mr", "mrs", "ms", "st", "no", "vs", "etc", "inc", "approx", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "fig", "sec", "min", "max", "q.d",
    "b.i.d", "t.i.d", "q.i.d", "p.o", "a.m", "p.m", "pt", "dept", "jr", "sr", "ph.d", "m.d",
}
# A boundary: terminal punctuation (optionally closing quote/bracket), whitespace, then a likely sentence start.
_BOUNDARY = re.compile(r"""([.!?])["')\]]*\s+(?=[A-Z0-9"'(\[])""")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s")


_FIELD = re.compile(r"^[A-Z][A-Za-z0-9 /()&'.-]{0,40}:\s+\S")  # "Discharge date: 11/06/2026"


def _own_line(stripped: str) -> bool:
    """Lines that stand alone in notes even without punctuation: labels ("Red Flags:"), "Field: value"
    lines, upper-case headers and table rows. Wrapped prose lines never match these."""
    if stripped.endswith(":") and len(stripped) <= 80:
        return True
    if stripped.startswith("|") or _FIELD.match(stripped):
        return True
    letters = [ch for ch in stripped if ch.isalpha()]
    return len(letters) >= 4 and not any(ch.islower() for ch in letters)


def _is_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans (shifted by ``offset``) of the sentences in ``text``.

    Lines are split first (list items, table rows, headings, labels, "Field: value" lines and upper-case
    headers are sentences of their own), then
    prose lines are split on terminal punctuation that is not part of an abbreviation.
    """
    spans: list[tuple[int, int]] = []
    paragraph_start = 0
    lines = text.splitlines(keepends=True)
    position = 0
    blocks: list[tuple[int, int]] = []
    for line in lines:
        stripped = line.strip()
        line_start, line_end = position, position + len(line)
        if not stripped or _own_line(stripped) or _LIST_MARKER.match(line) or _HEADING.match(line):
            if paragraph_start < line_start:
                blocks.append((paragraph_start, line_start))
            if stripped:
                marker = _LIST_MARKER.match(line) or _HEADING.match(line)
                body_start = line_start + (marker.end() if marker else 0)
                blocks.append((body_start, line_end))
            paragraph_start = line_end
        position = line_end
    if paragraph_start < len(text):
        blocks.append((paragraph_start, len(text)))

    for block_start, block_end in blocks:
        block = text[block_start:block_end]
        cursor = 0
        for match in _BOUNDARY.finditer(block):
            dot = match.start(1)
            if match.group(1) == "." and _is_abbreviation(block, dot):
                continue
            end = match.end(1)
            while end < len(block) and block[end] in "\"')]":
                end += 1
            spans.append((block_start + cursor, block_start + end))
            cursor = match.end()
        spans.append((block_start + cursor, block_end))

    result = []
    for start, end in spans:
        start, end = _trim(text, start, end)
        if end - start >= 3 and any(ch.isalnum() for ch in text[start:end]):
            result.append((start + offset, end + offset))
    return result
