"""Tidying spaCy entity spans before they become PHI hits (not a recognizer itself)."""

from __future__ import annotations

import regex as re

from assistant.redaction.clinical_terms import NOT_A_NAME

_WORD = re.compile(r"\S+")


def tidy(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a spaCy span at a sentence end ("Decatur. IP") and drop cue words at its edges ("Daughter Rose")."""
    cut = re.search(r"(?<=[a-z]{2})[.;:!?](?=\s)", text[start:end])
    if cut:
        end = start + cut.start()
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    while words and text[words[0][0] : words[0][1]].strip(".,:;()'’").lower() in NOT_A_NAME:
        words.pop(0)
    while words and text[words[-1][0] : words[-1][1]].strip(".,:;()'’").lower() in NOT_A_NAME:
        words.pop()
    if not words:
        return None
    s, e = words[0][0], words[-1][1]
    while e > s and text[e - 1] in ".,:;)'’":
        e -= 1
    return (s, e) if e > s else None
