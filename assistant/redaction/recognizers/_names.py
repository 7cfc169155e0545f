"""Token-level helpers shared by the person and location recognizers (not a recognizer itself)."""

from __future__ import annotations

import regex as re

from assistant.redaction.clinical_terms import NOT_A_NAME

TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]\.?|[A-Za-z]\.?")


def case_is_informative(text: str) -> bool:
    """False for ALL-CAPS or all-lower-case notes, where capital letters say nothing about names."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    upper = sum(c.isupper() for c in letters) / len(letters)
    if upper > 0.5:
        return False
    words = re.findall(r"\b[A-Za-z]{2,}\b", text)
    capitalized = sum(w[0].isupper() for w in words) / max(len(words), 1)
    return capitalized >= 0.04


def is_name_word(word: str, need_capital: bool) -> bool:
    bare = word.rstrip(".")
    if len(bare) == 1 and word.endswith(".") and bare.isalpha():
        return not need_capital or bare.isupper()  # an initial: "Dan A. Forman"
    if not bare or bare.lower() in NOT_A_NAME:
        return False
    if need_capital and not bare[0].isupper():
        return False
    return True


def _capitalized_pair(text: str, m: re.Match[str]) -> bool:
    """"June Gross", "Will Nowak": a capitalized common word followed by a capitalized name word."""
    word = m.group()
    if not word[0].isupper() or word.isupper():
        return False
    after = TOKEN.match(text, m.end() + len(text[m.end():]) - len(text[m.end():].lstrip(" \t")))
    return bool(after) and after.group()[0].isupper() and is_name_word(after.group(), True)


def take_forward(text: str, pos: int, need_capital: bool, max_tokens: int = 3) -> tuple[int, int] | None:
    """The name that starts at ``pos`` (after a cue such as "Dr."): up to ``max_tokens`` name words."""
    start = end = None
    tokens = 0
    cursor = pos
    while tokens < max_tokens:
        gap = re.match(r"[ \t]{0,3}", text[cursor:])
        m = TOKEN.match(text, cursor + gap.end())
        if not m:
            break
        if not is_name_word(m.group(), need_capital) and not _capitalized_pair(text, m):
            break
        if start is None:
            start = m.start()
        end = m.end() - (1 if m.group().endswith(".") and len(m.group()) > 2 else 0)
        cursor = m.end()
        tokens += 1
        if m.group().endswith(".") and len(m.group()) > 2:
            break  # "Decatur." ends the sentence; "L." is an initial and the name goes on
    if start is None or end is None:
        return None
    span = text[start:end]
    if not any(len(w.rstrip(".")) >= 2 for w in span.split()):
        return None
    return start, end


def take_backward(text: str, end: int, need_capital: bool, max_tokens: int = 3) -> tuple[int, int] | None:
    """The name that ends at ``end`` (before a credential such as ", RN")."""
    words = list(TOKEN.finditer(text[max(0, end - 60) : end]))
    offset = max(0, end - 60)
    start = None
    last_end = end
    taken = 0
    for m in reversed(words):
        gap = text[offset + m.end() : last_end]
        if gap.strip(" \t,") or "\n" in gap or taken >= max_tokens:
            break
        if not is_name_word(m.group(), need_capital):
            break
        if taken and m.group().endswith(".") and len(m.group()) > 2:
            break  # "abd soft. Hank Przybylo (son)": the sentence before is not part of the name
        start = offset + m.start()
        last_end = start
        taken += 1
    if start is None:
        return None
    span = text[start:end].rstrip(" ,")
    if not any(len(w.rstrip(".")) >= 2 for w in span.split()):
        return None
    return start, start + len(span)
