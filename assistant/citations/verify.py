"""Every sentence shown as fact must open to a source span that says it.

Why a separate gate: composers and models produce sentences; this module decides what may be shown.
A sentence survives only when each of its citations resolves to an indexed chunk, the quoted span is
exactly the chunk text at those offsets, its hash matches, and the sentence is supported by the quote
(verbatim for the extractive composer; by content-word coverage for generated text), and every number, date,
dose and name in it appears in a cited span (``exact_facts``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.citations.exact_facts import missing_facts
from assistant.index.tables import ChunkRow

_WORD = re.compile(r"[a-z0-9]+(?:[./-][a-z0-9]+)*")
_STOP = {
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "be", "by", "as", "at",
    "it", "that", "this", "from", "was", "were", "has", "have", "can", "may", "should", "must", "their", "its",
}
SUPPORT_THRESHOLD = 0.8


@dataclass
class CitationCheck:
    ok: bool
    reason: str | None = None


def support(sentence: str, quote: str) -> float:
    """Share of the sentence's content words that appear in the quote (1.0 for a verbatim quote)."""
    if sentence.strip() and sentence.strip() in quote:
        return 1.0
    words = [w for w in _WORD.findall(sentence.lower()) if w not in _STOP]
    if not words:
        return 0.0
    quote_words = set(_WORD.findall(quote.lower()))
    return sum(1 for w in words if w in quote_words) / len(words)


def check_citation(session: Session, citation: dict) -> CitationCheck:
    row = session.scalars(select(ChunkRow).where(ChunkRow.chunk_id == citation["chunk_id"])).first()
    if row is None:
        return CitationCheck(False, "cited chunk is no longer indexed")
    start, end = citation["start"], citation["end"]
    if not (row.start <= start < end <= row.end):
        return CitationCheck(False, "cited offsets fall outside the indexed chunk")
    span = row.text[start - row.start : end - row.start]
    if span != citation["quote"]:
        return CitationCheck(False, "quote differs from the source text at its offsets")
    if hashlib.sha256(span.encode("utf-8")).hexdigest() != citation["sha256"]:
        return CitationCheck(False, "content hash mismatch")
    return CitationCheck(True)


def verify_sentences(
    session: Session, sentences: list[dict], citations: list[dict]
) -> tuple[list[dict], list[dict]]:
    """Split sentences into (kept, dropped); dropped ones carry the reason."""
    by_number = {c["n"]: c for c in citations}
    kept: list[dict] = []
    dropped: list[dict] = []
    for sentence in sentences:
        numbers = sentence.get("citations") or []
        if not numbers:
            dropped.append({**sentence, "reason": "no citation"})
            continue
        failure = None
        best_support = 0.0
        quotes: list[str] = []
        for number in numbers:
            citation = by_number.get(number)
            if citation is None:
                failure = f"citation [{number}] does not exist"
                break
            check = check_citation(session, citation)
            if not check.ok:
                failure = f"citation [{number}]: {check.reason}"
                break
            best_support = max(best_support, support(sentence["text"], citation["quote"]))
            quotes.append(citation["quote"])
        if failure is None and best_support < SUPPORT_THRESHOLD:
            failure = f"sentence is not supported by its sources (support {best_support:.2f})"
        if failure is None and (absent := missing_facts(sentence["text"], quotes)):
            failure = f"the cited sources do not state {', '.join(absent)}"
        if failure:
            dropped.append({**sentence, "reason": failure})
        else:
            kept.append(sentence)
    return kept, dropped
