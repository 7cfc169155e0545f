"""Follow-up questions made whole from the turns before them: "and her BP?" after "What was her last A1c?" becomes
"What was her last BP?", and "When is it due?" after "What is the TCM interactive contact?" names the contact.

Why rules and not a model: the resolved question is what gets classified, retrieved and audited, so a reviewer must
be able to see why a fragment became that question. Two rules, each recorded in the turn's routing:

- ellipsis: a fragment ("and her BP?", "what about the cardiology visit?", "her weight?") takes the previous
  question's frame and replaces its topic (the words after its last possessive or determiner);
- pronoun: in a short question, "it" (and "that" or "this" standing alone) stands for the previous question's topic.

Pronouns that name the patient ("she", "her", "his") need no resolving: the conversation is about one patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_LEAD = re.compile(
    r"^\s*(?:(?:and|also|plus|so|ok|okay|then)\b[\s,]*)*(?:(?:what|how) about|same for|and for|for)?\s*", re.IGNORECASE
)
_OWNER = r"(?:her|his|their|its|the patient's|the|a|an|my|our)"
_MODIFIER = r"(?:(?:last|latest|most recent|recent|current|next|first|previous|upcoming)\s+)?"
_TOPIC = re.compile(
    rf"\b({_OWNER})\s+{_MODIFIER}([^?.!,;]+?)\s*(?=$|[?.!,;]|\s(?:for|in|on|at|after|before|since"
    rf"|from|of|to|with|by|due|happen|occur|be|is|was|are|were|take|start|end|mean|count|apply)\b)",
    re.IGNORECASE,
)
_QUESTION_WORD = re.compile(
    r"^\s*(?:what|when|who|whom|whose|where|why|how|which|is|are|was|were|do|does|did|can"
    r"|could|should|will|would|has|have|had|any|make|build|create|draft|write|give|show"
    r"|list|tell|send|prepare)\b",
    re.IGNORECASE,
)
# "it" anywhere; "that" and "this" only where they stand for a thing ("is that required?"), not before a noun ("this
# patient") or as a conjunction ("anything that is due").
_PRONOUN = re.compile(
    r"\bit\b|(?:^|(?<=\bis )|(?<=\bwas )|(?<=\bdoes )|(?<=\bdo )|(?<=\babout )|(?<=\bfor ))"
    r"(?:that|this)\b(?!\s+(?:patient|person|one|man|woman|member)\b)",
    re.IGNORECASE,
)
_FRAGMENT_WORDS = 5
_PRONOUN_QUESTION_WORDS = 12


@dataclass(frozen=True)
class PriorTurn:
    seq: int
    resolved: str
    intent: str


@dataclass(frozen=True)
class Resolution:
    text: str  # what is classified and answered
    method: str | None  # None (stands alone), "ellipsis" or "pronoun"
    from_turn: int | None = None
    topic: str | None = None  # the previous question's topic that was replaced or substituted

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "from_turn": self.from_turn, "topic": self.topic}


def topic_of(question: str) -> re.Match[str] | None:
    """The last "<possessive or determiner> [modifier] <words>" of a question: its topic, with where it sits."""
    found = None
    for match in _TOPIC.finditer(question):
        found = match
    return found


def _fragment_topic(message: str) -> str | None:
    """The topic a fragment asks about, or None when the message is a question of its own."""
    led = _LEAD.match(message)
    lead = led.group(0) if led else ""
    rest = message[len(lead) :].strip().rstrip("?.! ").strip()
    if not rest:
        return None
    words = rest.split()
    has_lead = bool(lead.strip())
    if _QUESTION_WORD.match(rest) or len(words) > _FRAGMENT_WORDS:
        return None
    if not has_lead and (len(words) > 3 or not message.rstrip().endswith("?")):  # "her weight?", not "Thanks"
        return None
    return re.sub(rf"^{_OWNER}\s+", "", rest, flags=re.IGNORECASE).strip() or None


def resolve(message: str, history: list[PriorTurn]) -> Resolution:
    """``message`` made whole from the latest turn in ``history`` (oldest first), or as it stands."""
    message = message.strip()
    if not history:
        return Resolution(message, None)
    previous = history[-1]
    found = topic_of(previous.resolved)
    fragment = _fragment_topic(message)
    if fragment is not None and (found is not None or _LEAD.match(message).group(0).strip()):  # type: ignore[union-attr]
        if found is not None:
            start, end = found.span(2)
            text = previous.resolved[:start] + fragment + previous.resolved[end:]
            return Resolution(text, "ellipsis", previous.seq, found.group(2))
        return Resolution(f"{previous.resolved.rstrip('?.! ')}: {fragment}?", "ellipsis", previous.seq, None)
    pronoun = _PRONOUN.search(message)
    if pronoun and found is not None and len(message.split()) <= _PRONOUN_QUESTION_WORDS:
        topic = f"{found.group(1)} {found.group(2)}"
        if topic.lower() not in message.lower():
            text = message[: pronoun.start()] + topic + message[pronoun.end() :]
            return Resolution(text, "pronoun", previous.seq, found.group(2))
    return Resolution(message, None)
