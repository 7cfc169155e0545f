"""Retrieved text is data: what a chat answer may show of it.

Two checks on every sentence before it is shown:

- A sentence that reads as an instruction to an assistant ("ignore previous instructions", "you are now...", "send
  this to...", chat-template markers, script tags), in its own words or in the source span it cites, is withheld
  with the reason. A note or protocol may quote such text; it never becomes part of an answer, so it cannot steer
  the conversation or the reader.
- Links never survive: Markdown links and images keep only their text, HTML tags are removed, and web addresses and
  e-mail addresses are replaced by a marker. An answer is plain text; the only links a turn carries are its own
  relative ``links`` to the structured results it came from.

Why patterns and not a classifier: the decision must be explainable in one line (which pattern), and it must hold
whichever backend wrote the sentence. The patterns are deliberately broad; withholding a harmless sentence costs
an answer sentence, showing an injected one costs trust. ``evals/injection/cases.jsonl`` is the test set.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_VERBS_OVERRIDE = r"(?:ignore|disregard|forget|override|bypass|skip|drop|abandon|overrule|neglect)"
_INSTRUCTIONS = (
    r"(?:instructions?|rules?|prompts?|guidelines?|directions?|directives?|polic(?:y|ies)|guardrails?"
    r"|context|constraints?|restrictions?|safeguards?|programming|system message)"
)
_AI = r"(?:assistant|ai|a\.i\.|chatbot|bot|model|llm|gpt|caretrail|language model|copilot)"
_READER = r"(?:the )?(?:user|reader|care manager|clinician|nurse|operator|human|staff)"
_EXFIL_VERBS = r"(?:send|forward|e-?mail|fax|upload|post|transmit|exfiltrate|share|copy|leak|export|mail|text|dm)"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("override", rf"\b{_VERBS_OVERRIDE}\b[^.!?\n]{{0,40}}\b{_INSTRUCTIONS}\b"),
        ("new-instructions", rf"\b(?:new|updated|real|actual|secret|hidden|additional|revised) {_INSTRUCTIONS}\b"),
        ("system-prompt", r"\bsystem[ _-]?prompt\b|\bdeveloper mode\b|\bjailbreak|\bDAN mode\b|\bprompt injection\b"),
        (
            "role-change",
            r"\byou are now\b|\bfrom now on\b|\bact as (?:an?|the)\b|\bpretend (?:to be|you are)\b"
            r"|\broleplay as\b|\byou must now\b|\bswitch to \w+ mode\b",
        ),
        (
            "addressed-to-ai",
            rf"\b(?:dear|attention|note (?:to|for)|message (?:to|for)|hey|hi) (?:the )?{_AI}\b"
            rf"|\b(?:as an?|the|any|all) {_AI}s?\b[^.!?\n]{{0,30}}\b(?:must|should|shall|will|needs? to"
            rf"|has to|is required to|reading this)\b|\bif you are an? {_AI}\b",
        ),
        (
            "tell-the-reader",
            rf"\b(?:tell|inform|instruct|advise|convince|reply to|respond to|say to|answer) {_READER}\b",
        ),
        (
            "respond-only",
            r"\b(?:respond|reply|answer|output|print|say|write|return)\b[^.!?\n]{0,20}\b(?:only|exactly"
            r"|verbatim)\b[^.!?\n]{0,10}(?:with|:|\")",
        ),
        (
            "exfiltrate",
            rf"\b{_EXFIL_VERBS}\b[^.!?\n]{{0,80}}\b(?:to|at|via)\b[^.!?\n]{{0,30}}(?:https?://|www\.|@"
            r"|\bfax\b|\bphone\b|\bnumber\b|\baddress\b|\bserver\b|\bwebhook\b|\bendpoint\b|\d{3}[-. ]\d{4})",
        ),
        (
            "reveal",
            r"\b(?:reveal|disclose|dump|list|print|show|repeat|output)\b[^.!?\n]{0,30}\b(?:system prompt|your "
            r"(?:instructions|prompt|rules)|all (?:patients?|records|notes|charts|mbis?)|other patients?|every "
            r"patient)\b",
        ),
        (
            "other-patient",
            r"\b(?:show|include|add|append|attach|give|pull|fetch|merge)\b[^.!?\n]{0,30}\b(?:notes?"
            r"|records?|charts?|data|history|results?)\b[^.!?\n]{0,20}\b(?:of|for|from|about) (?:patient"
            r"|mbi|mrn|member|beneficiary|another|other|(?-i:[A-Z][a-z]+ [A-Z][a-z]+))",
        ),
        ("no-citations", r"\b(?:do not|don't|never|stop|without)\b[^.!?\n]{0,15}\bcit(?:e|ing|ations?)\b"),
        (
            "template-marker",
            r"<\|[a-z_]+\|>|\[/?INST\]|<</?SYS>>|^\s*#{2,}\s*(?:system|instruction|assistant)\b"
            r"|\b(?:system|assistant)\s*:\s*(?:you|ignore|new)\b",
        ),
        (
            "script",
            r"<\s*/?\s*(?:script|iframe|object|embed|form|meta|link|style|svg)\b|javascript:|data:text/html"
            r"|\bon(?:error|load|click)\s*=",
        ),
        ("click-link", r"\b(?:click|tap|open|visit|follow|go to)\b[^.!?\n]{0,20}(?:https?://|www\.|\blink\b|\]\()"),
        (
            "foreign-override",
            r"\bignor(?:a|e[zr]?|ieren)\b[^.!?\n]{0,40}\b(?:instrucciones|instructions|anweisungen"
            r"|consignes|istruzioni)\b|\bvergiss\b|\bolvida\b[^.!?\n]{0,30}\binstrucciones\b",
        ),
    )
)

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]*)\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_URL = re.compile(r"(?:(?:https?|ftp|file|mailto|javascript|data):[^\s<>\]\)]+|\bwww\.[^\s<>\]\)]+)", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
LINK_REMOVED = "(link removed)"
ADDRESS_REMOVED = "(address removed)"
WITHHELD = "instruction-like text in a source: shown as data only, never as an answer"


_SPELLED_OUT = re.compile(r"\b(?:[A-Za-z][.\-_ ]){3,}[A-Za-z]\b")


def _folded(text: str) -> str:
    """Compatibility-folded and with zero-width characters removed, so look-alike letters do not slip past."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)


def _for_matching(text: str) -> str:
    """Folded, and with spelled-out words joined ("I.G.N.O.R.E" and "i g n o r e" read as "IGNORE")."""
    return _SPELLED_OUT.sub(lambda m: re.sub(r"[.\-_ ]", "", m.group(0)), _folded(text))


def instruction_like(text: str) -> str | None:
    """The name of the first pattern ``text`` matches, or None."""
    folded = _for_matching(text)
    for name, pattern in PATTERNS:
        if pattern.search(folded):
            return name
    return None


def has_link(text: str) -> bool:
    return bool(
        _MD_LINK.search(text)
        or _MD_IMAGE.search(text)
        or _HTML_TAG.search(text)
        or _URL.search(text)
        or _EMAIL.search(text)
    )


def plain(text: str) -> str:
    """``text`` with every link, image, tag, web and e-mail address neutralised (see the module docstring)."""
    text = _folded(text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _MD_REF_LINK.sub(lambda m: m.group(1), text)
    text = _MD_REF_DEF.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = _URL.sub(LINK_REMOVED, text)
    text = _EMAIL.sub(ADDRESS_REMOVED, text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


@dataclass(frozen=True)
class Screened:
    sentences: list[dict[str, Any]]  # shown: plain text, citations renumbered from 1
    citations: list[dict[str, Any]]  # only those the shown sentences cite
    dropped: list[dict[str, Any]]  # withheld here, with the reason (no text of an instruction-like sentence)


def _lines(sentence: dict[str, Any], cited: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A quoted sentence that spans several lines of its source, cut into one sentence per line (a label line with
    the line it introduces), each citing exactly its own span (offsets and hash recomputed inside the verified
    quote).

    Why: a note's lines are not always cut into sentences ("... overnight." then a line starting with "<|im_start|>"
    or "![chart]"), and withholding the whole span would drop the legitimate line with the injected one."""
    text = sentence["text"]
    if "\n" not in text or len(cited) != 1 or cited[0].get("quote") != text or cited[0].get("start") is None:
        return [(text, cited)]
    citation = cited[0]

    def narrowed(first: int, last: int) -> tuple[str, list[dict[str, Any]]]:
        """``text[first:last]`` and a citation of exactly that span."""
        quote = text[first:last]
        start = citation["start"] + first
        return quote, [{**citation, "start": start, "end": start + len(quote), "quote": quote,
                        "sha256": hashlib.sha256(quote.encode("utf-8")).hexdigest()}]

    pieces: list[tuple[str, list[dict[str, Any]]]] = []
    offset = 0
    label: int | None = None  # where a pending label line ("Hospital Course:") starts, within the quote
    for raw in text.split("\n"):
        line = raw.strip()
        if line:
            first = offset + raw.index(line)
            if label is None and line.endswith(":"):
                # A label is kept with the line it introduces, as the composer quoted it: shown alone it would be a
                # cited "sentence" that says nothing ("Hospital Course: [1]").
                label = first
            else:
                quote, narrowed_citation = narrowed(first if label is None else label, first + len(line))
                pieces.append((" ".join(quote.split()), narrowed_citation))
                label = None
        offset += len(raw) + 1
    if label is not None:  # a label with nothing after it in the quote
        pieces.append(narrowed(label, len(text.rstrip())))
    return pieces


def screen(sentences: list[dict[str, Any]], citations: list[dict[str, Any]]) -> Screened:
    """Withhold instruction-like sentences (their own words or any quote they cite), make the rest plain text, and
    keep and renumber only the citations still used."""
    by_number = {c["n"]: c for c in citations}
    kept: list[tuple[str, list[dict[str, Any]]]] = []
    dropped: list[dict[str, Any]] = []
    for sentence in sentences:
        cited = [by_number[n] for n in sentence.get("citations", []) if n in by_number]
        for text, pieces in _lines(sentence, cited):
            quotes = [str(c.get("quote") or "") for c in pieces]
            pattern = instruction_like(text) or next(filter(None, map(instruction_like, quotes)), None)
            if pattern is not None:
                dropped.append({"text": None, "citations": [], "reason": f"{WITHHELD} (pattern {pattern!r})"})
                continue
            shown = plain(text)
            if not shown:
                dropped.append({"text": None, "citations": [], "reason": "nothing left once links were removed"})
                continue
            kept.append((shown, pieces))
    numbered: list[dict[str, Any]] = []
    keys: dict[str, int] = {}
    renumbered = []
    for text, pieces in kept:
        refs = []
        for citation in pieces:
            key = json.dumps({k: v for k, v in citation.items() if k != "n"}, sort_keys=True, default=str)
            if key not in keys:
                keys[key] = len(numbered) + 1
                numbered.append({**citation, "n": keys[key]})
            refs.append(keys[key])
        renumbered.append({"text": text, "citations": refs})
    return Screened(renumbered, numbered, dropped)


def screen_dropped(dropped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sentences an engine dropped (no citation, unsupported), as a turn may show them: plain text, and no text at
    all when it reads as an instruction."""
    shown = []
    for sentence in dropped:
        text = str(sentence.get("text") or "")
        pattern = instruction_like(text)
        shown.append(
            {
                "text": None if pattern else plain(text),
                "citations": [],
                "reason": f"{WITHHELD} (pattern {pattern!r})" if pattern else str(sentence.get("reason", "")),
            }
        )
    return shown
