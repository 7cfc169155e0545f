"""What a patient question asks the structured record for, or None when it is no record question.

Why a classifier of its own, before retrieval: "what is her most recent A1c" is a lookup (the latest HbA1c
Observation), and "what changed at discharge" or "what are her diagnoses" asks for a list; the narrative index
answers with the best-matching sentence, which is the wrong shape for both. The rules are plain patterns, checked in
a fixed order (pending before medications, medication changes before the medication list), so the same question
always goes the same way and a reader can see why. A question that asks for advice or meaning ("what should her
A1c target be", "why") is left to the knowledge answer: the record holds facts, not guidance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.record_answers.kinds import ObservationKind, named_kinds

OBSERVATION = "observation"
MEDICATION_CHANGES = "medication_changes"
MEDICATIONS = "medications"
PENDING = "pending"
CONDITIONS = "conditions"
ENCOUNTERS = "encounters"
CLAIMS = "claims"
ALLERGIES = "allergies"
FOLLOW_UPS = "follow_ups"

_ADVICE = re.compile(
    r"\b(?:targets?|goals?|guidelines?|should|recommend\w*|normal range|how often|what does|means?|meaning|"
    r"definition|define|explain|why)\b",
    re.IGNORECASE,
)
_PENDING = re.compile(
    r"\b(?:pending|awaiting|outstanding|not yet (?:back|resulted|returned)|still waiting|"
    r"results? (?:to come|not back))",
    re.IGNORECASE,
)
_MEDICATION = re.compile(r"\b(?:med(?:ication)?s?|drugs?|prescriptions?|pills?|rx)\b", re.IGNORECASE)
_CHANGE = re.compile(
    r"\b(?:chang\w*|new|start\w*|stop\w*|discontinu\w*|increas\w*|decreas\w*|adjust\w*|held|hold|reconcil\w*|"
    r"differen\w*)\b",
    re.IGNORECASE,
)
_AT_DISCHARGE = re.compile(r"\bchang\w*\b.*\bdischarge|\bdischarge\b.*\bchang\w*", re.IGNORECASE)
_ALLERGY = re.compile(r"\ballerg\w*", re.IGNORECASE)
_CLAIM = re.compile(r"\bclaims?\b", re.IGNORECASE)
_CONDITION = re.compile(r"\b(?:diagnos\w*|conditions?|problems?|problem list|comorbidit\w*|dx)\b", re.IGNORECASE)
_INPATIENT = re.compile(r"\b(?:admi(?:t|ssion)\w*|hospitali[sz]\w*|inpatient|stays?|discharged?)\b", re.IGNORECASE)
_EMERGENCY = re.compile(r"\b(?:er|ed|emergency)\b", re.IGNORECASE)
_VISIT = re.compile(r"\b(?:visits?|seen)\b", re.IGNORECASE)
_FOLLOW_UP = re.compile(r"\b(?:follow[- ]?ups?|appointments?|appts?|upcoming|scheduled|booked)\b", re.IGNORECASE)
_ENCOUNTER = re.compile(r"\bencounters?\b", re.IGNORECASE)
_LATEST = re.compile(r"\b(?:last|latest|most recent|recent|current|newest|when was)\b", re.IGNORECASE)
_EVERY = re.compile(
    r"\b(?:all|every|history|trend\w*|results|values|readings|levels|over time|previous|prior|past)\b", re.IGNORECASE
)

INPATIENT_CLASSES = frozenset({"inpatient", "observation"})
EMERGENCY_CLASSES = frozenset({"emergency"})
VISIT_CLASSES = frozenset({"office", "home", "virtual"})


@dataclass(frozen=True)
class RecordQuestion:
    """What to look up. ``every``: a list question (return every matching fact); otherwise the latest one."""

    kind: str
    looked_for: str  # what was looked for, said plainly (the abstention names it)
    every: bool
    observation: ObservationKind | None = None
    encounter_classes: frozenset[str] | None = None  # None: every class

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "looked_for": self.looked_for,
            "every": self.every,
            "observation": self.observation.key if self.observation else None,
            "encounter_classes": sorted(self.encounter_classes) if self.encounter_classes is not None else None,
        }


def classify(question: str) -> RecordQuestion | None:
    """The record lookup ``question`` asks for, or None (a knowledge question, or nothing the record answers)."""
    text = " ".join(question.split())
    if not text or _ADVICE.search(text):
        return None
    if _PENDING.search(text):
        return RecordQuestion(PENDING, "results or orders pending at discharge or still without a result", True)
    medication = _MEDICATION.search(text) is not None
    if (medication and _CHANGE.search(text)) or _AT_DISCHARGE.search(text):
        return RecordQuestion(MEDICATION_CHANGES, "medication changes between the pre-admission and discharge "
                              "medication lists of the latest discharge", True)  # fmt: skip
    if medication:
        return RecordQuestion(MEDICATIONS, "active medications", True)
    if _ALLERGY.search(text):
        return RecordQuestion(ALLERGIES, "allergies (an allergies section of a document)", True)
    if _CLAIM.search(text):
        return RecordQuestion(CLAIMS, "claim lines", True)
    if _CONDITION.search(text):
        return RecordQuestion(CONDITIONS, "diagnoses and conditions", True)
    if _FOLLOW_UP.search(text):
        return RecordQuestion(FOLLOW_UPS, "follow-up appointments named at the latest discharge, and visits booked "
                              "after the as-of date", True)  # fmt: skip
    kinds = named_kinds(text)
    if kinds:
        kind = kinds[0]
        every = _EVERY.search(text) is not None and _LATEST.search(text) is None
        what = f"{'every' if every else 'the most recent'} {kind.label} result"
        return RecordQuestion(OBSERVATION, what, every, observation=kind)
    return _encounter_question(text)


def _encounter_question(text: str) -> RecordQuestion | None:
    if _INPATIENT.search(text):
        classes, what = INPATIENT_CLASSES, "hospital stays (inpatient or observation encounters)"
    elif _EMERGENCY.search(text) and re.search(r"\b(?:visits?|room|department|trips?)\b", text, re.IGNORECASE):
        classes, what = EMERGENCY_CLASSES, "emergency visits"
    elif _VISIT.search(text):
        classes, what = VISIT_CLASSES, "office, home or virtual visits"
    elif _ENCOUNTER.search(text):
        classes, what = None, "encounters"
    else:
        return None
    every = _LATEST.search(text) is None
    return RecordQuestion(ENCOUNTERS, what if every else f"the most recent of the {what}", every,
                          encounter_classes=classes)  # fmt: skip
