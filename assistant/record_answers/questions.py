"""What a patient question asks the structured record for, or None when it is no record question.

Why a classifier of its own, before retrieval: "what is her most recent A1c" is a lookup (the latest HbA1c
Observation), and "what changed at discharge" or "what are her diagnoses" asks for a list; the narrative index
answers with the best-matching sentence, which is the wrong shape for both. The rules are plain patterns, checked in
a fixed order (pending before medications, medication changes before the medication list), so the same question
always goes the same way and a reader can see why. A question that asks for advice, meaning or rules ("what should
her A1c target be", "why", "what A1c counts as poor control") is left to the knowledge answer: the record holds
facts, not guidance. The side panel asks every question with a patient open, so a knowledge question must not be
taken for a record one; ``tests/test_record_answers.py`` runs the knowledge question sets of ``evals/`` through
the classifier and expects none of them to be taken.
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

# A question about rules, measures, billing or people in general is a knowledge question even with a patient open
# in the side panel ("what A1c value counts as poor control", "can we use the blood pressure taken in the ER").
_GENERIC = re.compile(
    r"\b(?:targets?|goals?|guidelines?|should|must|recommend\w*|normal|typical|how often|what does|means?|meaning|"
    r"definition|define|explain|why|we|our|us|a patient|an? [a-z-]+ patient|someone|anyone|patients|people|"
    r"measures?|ecqms?|bill\w*|counts?|qualif\w*|deadline|window|exclud\w*|lead|reach|tcm|tfu|mips|hedis|aco)\b",
    re.IGNORECASE,
)
# General forms a pronoun can still make personal ("how many ER visits did she have").
_GENERAL = re.compile(r"\b(?:how (?:many|long|much|soon)|which codes?|what codes?|codes?)\b", re.IGNORECASE)
# "Who refills her pill organizer?", "Who writes down her weight?": a person is asked for, and the structured
# record (values, medications, visits) names none; the notes do, so such questions go to the narrative answer.
_WHO = re.compile(r"^\s*(?:who|whom|whose)\b", re.IGNORECASE)
# The question is about this patient: a pronoun, or "this patient".
_DIRECTED = re.compile(r"\b(?:her|his|she|he|him|hers|herself|himself|this patient|my patient)\b", re.IGNORECASE)
_CURRENT_MEDS = re.compile(r"\b(?:current|active|home) (?:med(?:ication)?s?|drugs?|prescriptions?)\b", re.IGNORECASE)
_LISTED = re.compile(r"\b(?:discharge diagnos\w*|problem list|active (?:problems|conditions))\b", re.IGNORECASE)
_BOOKED = re.compile(r"\b(?:scheduled|booked|upcoming)\b|\bwhen is the (?:follow|appointment)", re.IGNORECASE)
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

_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_LAST_N = re.compile(r"\b(?:last|latest|most recent|past|previous|prior) (\d{1,3}|" + "|".join(_NUMBERS) + r")\b",
                     re.IGNORECASE)  # fmt: skip


def _last_n(text: str) -> int | None:
    match = _LAST_N.search(text)
    if match is None:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBERS[word]


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
    limit: int | None = None  # "her last 3 A1c results": the latest three

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "looked_for": self.looked_for,
            "every": self.every,
            "observation": self.observation.key if self.observation else None,
            "encounter_classes": sorted(self.encounter_classes) if self.encounter_classes is not None else None,
            "limit": self.limit,
        }


def classify(question: str) -> RecordQuestion | None:
    """The record lookup ``question`` asks for, or None (a knowledge question, or nothing the record answers).

    The topic is found first (pending, medication changes, medications, allergies, claims, conditions, follow-ups,
    an observation kind, encounters); then the question must be about this patient: no general wording (rules,
    measures, billing, "a patient", "we"), and, for topics that knowledge questions share, a pronoun ("her
    diagnoses") or a wording only a chart answers ("the most recent A1c", "what changed at discharge")."""
    text = " ".join(question.split())
    if not text or _GENERIC.search(text) or _WHO.search(text):
        return None
    directed = _DIRECTED.search(text) is not None
    if _GENERAL.search(text) and not directed:
        return None
    latest = _LATEST.search(text) is not None
    medication = _MEDICATION.search(text) is not None
    if _PENDING.search(text):
        return RecordQuestion(PENDING, "results or orders pending at discharge or still without a result", True)
    if (medication and _CHANGE.search(text)) or _AT_DISCHARGE.search(text):
        if not (directed or "discharge" in text.lower()):
            return None
        return RecordQuestion(MEDICATION_CHANGES, "medication changes between the pre-admission and discharge "
                              "medication lists of the latest discharge", True)  # fmt: skip
    if medication:
        found = directed or _CURRENT_MEDS.search(text) is not None
        return RecordQuestion(MEDICATIONS, "active medications", True) if found else None
    if _ALLERGY.search(text):
        return RecordQuestion(ALLERGIES, "allergies (an allergies section of a document)", True)
    if _CLAIM.search(text):
        return RecordQuestion(CLAIMS, "claim lines", True) if directed else None
    if _CONDITION.search(text):
        found = directed or _LISTED.search(text) is not None
        return RecordQuestion(CONDITIONS, "diagnoses and conditions", True) if found else None
    if _FOLLOW_UP.search(text):
        if not (directed or _BOOKED.search(text)):
            return None
        return RecordQuestion(FOLLOW_UPS, "follow-up appointments named at the latest discharge, and visits booked "
                              "after the as-of date", True)  # fmt: skip
    kinds = named_kinds(text)
    if kinds:
        if not (directed or latest):
            return None
        kind = kinds[0]
        limit = _last_n(text)
        if limit:
            return RecordQuestion(OBSERVATION, f"the latest {limit} {kind.label} results", True, kind, limit=limit)
        every = _EVERY.search(text) is not None and not latest
        what = f"{'every' if every else 'the most recent'} {kind.label} result"
        return RecordQuestion(OBSERVATION, what, every, observation=kind)
    return _encounter_question(text) if directed or latest else None


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
    limit = _last_n(text)
    if limit:
        return RecordQuestion(ENCOUNTERS, f"the latest {limit} of the {what}", True, encounter_classes=classes,
                              limit=limit)  # fmt: skip
    every = _LATEST.search(text) is None
    return RecordQuestion(ENCOUNTERS, what if every else f"the most recent of the {what}", every,
                          encounter_classes=classes)  # fmt: skip
