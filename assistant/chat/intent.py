"""Which kind of request a chat turn is, decided in the open: named rules first, then the nearest labelled example.

Order, first decision wins:
1. Rules: regular expressions with names (``prescribing``, ``checklist``...). A request to diagnose, prescribe or
   give legal advice is declined whatever else it says, so those rules run first. Then, in a conversation about a
   patient, a lookup the record engine recognises ("is anything pending at discharge", "the most recent A1c") is a
   record question, so the chat routes exactly the questions to the record that the ask box answers from it.
2. The embedder: the request's cosine similarity to every example in ``assistant.chat.exemplars``; the intent of the
   nearest example wins. A request about the conversation's patient ("her", "his", "the patient") is never a protocol
   question: the protocols are not about her, her record is.
3. A model, only as a tie-breaker: when the two best intents are within ``TIE_MARGIN`` and a model is configured, it
   is asked to choose between those two (through the PHI guard); anything else it says is ignored.

Every decision carries its method and a reason a person can read (the rule's name and the words it matched, or the
nearest example and the scores), which the service writes into the turn and its audit row.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.chat.exemplars import EXEMPLARS, INTENTS, OUT_OF_SCOPE
from assistant.index.embedder import Embedder
from assistant.prompts import Prompt
from assistant.record_answers.questions import classify as record_lookup

if TYPE_CHECKING:
    from assistant.llm.guard import AuditHook, GuardedLLM

RECORD, PROTOCOL, NEXT_STEPS, CHECKLIST, OUTREACH, OUT_OF_SCOPE_INTENT = INTENTS
NEEDS_PATIENT = frozenset({RECORD, NEXT_STEPS, CHECKLIST, OUTREACH})
TIE_MARGIN = 0.03  # two intents this close are a tie the model may break
OFF_TOPIC_BELOW = 0.2  # nearest example less similar than this: nothing here is about care coordination

TieBreaker = Callable[[str, tuple[str, str]], str | None]


@dataclass(frozen=True)
class Rule:
    name: str
    intent: str
    pattern: re.Pattern[str]
    scope: str | None = None  # for declines: diagnosis, prescribing, legal


def _rule(name: str, intent: str, pattern: str, scope: str | None = None) -> Rule:
    return Rule(name, intent, re.compile(pattern, re.IGNORECASE), scope)


# A medicine named in a request: the words, or the endings of common drug names (lisinopril, metformin, apixaban).
_MEDICINE = (
    r"\b(?:medic\w*|meds?|drugs?|doses?|dosage|pills?|tablets?|insulin|antibiotics?|blood thinners?|\w{3,}(?:pril"
    r"|sartan|statin|olol|xaban|formin|pine|zole|pam|ide|cillin|cycline|floxacin|parin|farin|lone|sone))\b"
)
_PATIENT_WORDS = r"(?:she|he|her|hers|him|his|they|them|the patient|this patient|patient's)"
RULES: tuple[Rule, ...] = (
    _rule("diagnose", OUT_OF_SCOPE_INTENT, r"\bdiagnose\b|\bwhat(?:'s| is) wrong with\b", "diagnosis"),
    _rule(
        "what-disease",
        OUT_OF_SCOPE_INTENT,
        r"\bwhat (?:disease|illness|infection) (?:does|is|could|might)\b",
        "diagnosis",
    ),
    _rule(
        "could-it-be",
        OUT_OF_SCOPE_INTENT,
        r"\b(?:could|might|may|does) (?:this|that|it|these symptoms|the \w+|her \w+|his \w+) (?:be|mean|indicate)"
        r" (?:a |an )?(?:cancer|stroke|heart attack|infection|sepsis|pneumonia|dementia|something serious)",
        "diagnosis",
    ),
    _rule(
        "prescribe",
        OUT_OF_SCOPE_INTENT,
        r"\bprescribe\b|\bwrite (?:her|him|them|a) (?:a )?prescription\b",
        "prescribing",
    ),
    _rule(
        "should-change-medicine",
        OUT_OF_SCOPE_INTENT,
        r"\bshould (?:i|we|she|he|they|the patient) (?:increase|decrease|raise|lower|double|halve|titrate"
        r"|(?:start|stop|change|adjust|switch|discontinue|hold|take|restart|resume)\b[^.?!]{0,40}"
        rf"{_MEDICINE})",
        "prescribing",
    ),
    _rule(
        "which-dose",
        OUT_OF_SCOPE_INTENT,
        r"\bwhat (?:dose|dosage)\b[^.?!]{0,30}\b(?:should|to give|to take)\b",
        "prescribing",
    ),
    _rule(
        "change-dose",
        OUT_OF_SCOPE_INTENT,
        r"\b(?:increase|decrease|raise|lower|adjust|titrate|double|halve)\b[^.?!]{0,30}\b(?:dose|dosage)\b",
        "prescribing",
    ),
    _rule(
        "legal",
        OUT_OF_SCOPE_INTENT,
        r"\b(?:sue|suing|lawsuit|malpractice|liable|lawyer|attorney|legal advice)\b",
        "legal",
    ),
    _rule("checklist", CHECKLIST, r"\bcheck[- ]?list\b"),
    _rule(
        "draft-message",
        OUTREACH,
        r"\b(?:draft|write|compose|prepare|send)\b[^.?!]{0,40}\b(?:message|text|sms|letter|reminder|invitation"
        r"|introduction)\b",
    ),
    _rule("message-the-patient", OUTREACH, rf"\b(?:text|message|remind) {_PATIENT_WORDS}\b"),
    _rule(
        "what-should-i-do", NEXT_STEPS, r"\bwhat (?:should|do|must) (?:i|we|the care team) (?:need to |have to )?do\b"
    ),
    _rule(
        "next-steps",
        NEXT_STEPS,
        r"\bnext steps?\b|\bcare gaps?\b|\bto-?dos?\b|\bguidance\b|\bwhat(?:'s| is| are) (?:due|next|overdue"
        r"|outstanding|open)\b|\bwhat needs to (?:be done|happen)\b",
    ),
)
_ABOUT_PATIENT = re.compile(rf"\b{_PATIENT_WORDS}\b", re.IGNORECASE)
# A question about the conversation's patient ("Who drives her to dialysis?", "Is his oxygen set overnight?") asks
# what her record says; checked after the rules above, so "what should I do for her" stays a next step.
_PATIENT_QUESTION = re.compile(
    rf"^\s*(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|does|do|did|has|have|had|can|could|any)"
    rf"\b[^.!?]*\b{_PATIENT_WORDS}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IntentDecision:
    intent: str
    method: str  # "rule" | "embedding" | "model"
    reason: str  # for a person: which rule and words, or which example and how close
    scope: str | None = None  # for out_of_scope: diagnosis, prescribing, legal, off_topic
    scores: dict[str, float] = field(default_factory=dict)  # best similarity per intent (embedding and model)

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "method": self.method,
            "reason": self.reason,
            "scope": self.scope,
            "scores": self.scores,
        }


@dataclass(frozen=True)
class _Examples:
    labels: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray


_CACHE: dict[str, _Examples] = {}
_CACHE_LOCK = threading.Lock()


def _examples(embedder: Embedder) -> _Examples:
    """The examples' embeddings, computed once per embedder model (a few dozen sentences)."""
    key = str(embedder.model_path)
    with _CACHE_LOCK:
        if key not in _CACHE:
            labels = tuple(intent for intent, texts in EXEMPLARS.items() for _ in texts)
            texts = tuple(text for group in EXEMPLARS.values() for text in group)
            _CACHE[key] = _Examples(labels, texts, embedder.embed(list(texts)))
        return _CACHE[key]


def _out_of_scope_kind(example: str) -> str:
    return next(kind for kind, texts in OUT_OF_SCOPE.items() if example in texts)


def by_rule(text: str) -> IntentDecision | None:
    for rule in RULES:
        match = rule.pattern.search(text)
        if match:
            return IntentDecision(rule.intent, "rule", f"rule {rule.name!r} matched {match.group(0)!r}", rule.scope)
    return None


def classify(
    text: str,
    embedder: Embedder,
    has_patient: bool,
    tie_breaker: TieBreaker | None = None,
    vector: np.ndarray | None = None,
) -> IntentDecision:
    """``vector``: the text's embedding when the caller already has it (retrieval reuses it)."""
    ruled = by_rule(text)
    if ruled is not None:
        return ruled
    lookup = record_lookup(text) if has_patient else None
    if lookup is not None:  # what the ask box would answer from the record is a record question here too
        return IntentDecision(RECORD, "rule", f"rule 'record-lookup': the record engine looks up {lookup.looked_for}")
    about = _ABOUT_PATIENT.search(text)
    if about and (not has_patient or _PATIENT_QUESTION.search(text)):
        where = "this conversation's patient" if has_patient else "a patient, in a conversation about none"
        return IntentDecision(
            RECORD, "rule", f"rule 'about-the-patient' matched {about.group(0)!r}: a question about {where}"
        )
    examples = _examples(embedder)
    query = embedder.embed_one(text) if vector is None else vector
    similarity = examples.vectors @ query
    # Without a patient, only an explicit request (a rule) is routed to an engine that needs one; with a patient, a
    # question about her is never a protocol question.
    if not has_patient:
        excluded = set(NEEDS_PATIENT)
    else:
        excluded = {PROTOCOL} if about else set()
    best: dict[str, tuple[float, int]] = {}
    for index, label in enumerate(examples.labels):
        if label in excluded:
            continue
        score = float(similarity[index])
        if label not in best or score > best[label][0]:
            best[label] = (score, index)
    ranked = sorted(best.items(), key=lambda item: -item[1][0])
    scores = {label: round(score, 4) for label, (score, _) in ranked}
    (first, (top, top_index)), (second, (runner_up, _)) = ranked[0], ranked[1]
    nearest = examples.texts[top_index]
    note = f" (not considered: {', '.join(sorted(excluded))})" if excluded else ""
    if top < OFF_TOPIC_BELOW:
        return IntentDecision(
            OUT_OF_SCOPE_INTENT,
            "embedding",
            f"no example is closer than {OFF_TOPIC_BELOW} (best {top:.3f}: {nearest!r})",
            "off_topic",
            scores,
        )
    reason = f"nearest example {nearest!r} ({first}, {top:.3f}; next {second}, {runner_up:.3f}){note}"
    if top - runner_up < TIE_MARGIN and tie_breaker is not None:
        chosen = tie_breaker(text, (first, second))
        if chosen in (first, second):
            # Declined for the reason of the nearest out-of-scope example (prescribing, diagnosis...).
            scope = _out_of_scope_kind(examples.texts[best[chosen][1]]) if chosen == OUT_OF_SCOPE_INTENT else None
            return IntentDecision(chosen, "model", f"{reason}; a tie the model broke for {chosen}", scope, scores)
        reason += "; a tie the model did not break"
    scope = _out_of_scope_kind(nearest) if first == OUT_OF_SCOPE_INTENT else None
    return IntentDecision(first, "embedding", reason, scope, scores)


_ANSWER_WORD = re.compile(r"[a-z_]+")


def model_tie_breaker(llm: GuardedLLM, prompt: Prompt, patient_id: str | None, events: list[dict]) -> TieBreaker:
    """A tie-breaker that asks the guarded model to name one of two intents; None when it names neither or fails."""
    from assistant.llm.base import BackendError
    from assistant.llm.guard import PHILeakRefused
    from assistant.redaction.vault import VaultError

    hook: AuditHook = events.append

    def choose(text: str, options: tuple[str, str]) -> str | None:
        messages = [
            {"role": "system", "content": prompt["system"]},
            {"role": "user", "content": prompt["user"].format(request=text, first=options[0], second=options[1])},
        ]
        try:
            reply = llm.complete(messages, patient_id=patient_id, audit_hook=hook, max_tokens=8)
        except (PHILeakRefused, BackendError, VaultError) as exc:
            events.append({"event": "tie_breaker_failed", "reason": str(exc)})
            return None
        words = _ANSWER_WORD.findall(reply.text.lower())
        named = [option for option in options if option in words]
        return named[0] if len(named) == 1 else None

    return choose
