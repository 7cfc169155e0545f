"""Falls, CDC STEADI: a fall recorded in the last 12 months calls for STEADI screening (owner nurse); two or more
falls, or a fall with an injury, call for a falls-prevention referral (owner care manager).

Why the referral is marked unconfirmed: the facts file found no source for a falls-prevention program within CARA
or LEAD, so the item offers the referral on STEADI's own merit and says the CARA link is unverified.

A fall is ICD-10 W00-W19 (on a condition, an encounter reason or a claim diagnosis) or a SNOMED fall code; falls on
the same day count once. An injury is an ICD-10 S code or a fracture recorded with the fall (same record, same
encounter or same day).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.records.model import Code
from assistant.records.roster import one_year_before

NAME = "falls"
KNOWLEDGE = "steadi-falls"
SNOMED_FALLS = {"1912002", "217082002", "161898004"}  # Fall (event), Accidental fall (event), Falls (finding)
SNOMED_FRACTURE = {"125605004"}  # Fracture of bone (disorder)
SCREENED = {"1100F", "1101F", "3288F"}  # CPT II: falls risk screened / assessed
SCREEN_AFTER_FALL = "STEADI also recommends falls screening whenever a patient presents with a fall, at any visit."
INTERVENE = ("STEADI interventions include referring fall-risk patients to community classes such as Tai Chi and A "
             "Matter of Balance.")
CARA_UNCONFIRMED = ("A falls-prevention program within CARA or LEAD is unconfirmed, because several searches found no "
                    "source linking CARA to falls prevention.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    since = one_year_before(facts.as_of)
    falls: dict[date, list[tuple[Any, str]]] = {}
    injuries: dict[date, list[tuple[Any, str]]] = {}
    for record in facts.records:
        day = _day(record)
        if day is None or not since <= day <= facts.as_of:
            continue
        codes = _codes(record)
        fall = next((c for c in codes if _is_fall(c)), None)
        injury = next((c for c in codes if _is_injury(c)), None)
        if fall is not None:
            falls.setdefault(day, []).append((record, f"fall recorded on {day.isoformat()} ({fall.code})"))
        if injury is not None:
            injuries.setdefault(day, []).append((record, f"injury recorded on {day.isoformat()} ({injury.code})"))
    if not falls:
        return []
    last_fall = max(falls)
    evidence = [Evidence.of(record, why) for day in sorted(falls) for record, why in falls[day]]
    items = []
    if not _screened_since(facts, last_fall):
        items.append(item(
            facts, NAME, measure="STEADI", owner_role="nurse", priority="high", due=facts.as_of + timedelta(days=14),
            action="Offer STEADI falls screening (the three key questions or the Stay Independent questionnaire) at "
                   "the next visit or call, and share the result with the clinician",
            rationale=f"{len(falls)} fall(s) recorded in the 12 months before {facts.as_of.isoformat()}, the latest "
                      f"on {last_fall.isoformat()}; no falls screening recorded since.",
            evidence=evidence, citations=[facts.cite(KNOWLEDGE, SCREEN_AFTER_FALL)],
        ))
    injured = sorted(day for day in falls if day in injuries)
    if len(falls) >= 2 or injured:
        why = f"{len(falls)} falls in 12 months" if len(falls) >= 2 else f"a fall with injury on {injured[0]}"
        injury_evidence = [Evidence.of(record, reason) for day in injured for record, reason in injuries[day]]
        items.append(item(
            facts, NAME, measure="STEADI", owner_role="care_manager", priority="high",
            due=facts.as_of + timedelta(days=30),
            action="Offer a falls-prevention referral (physical therapy or a community class such as Tai Chi or A "
                   "Matter of Balance) after talking it through with the clinician; if the ACO has a CARA arrangement "
                   "for falls, check that it exists before promising it",
            rationale=f"{why}. A CARA falls-prevention program is unconfirmed: the referral stands on STEADI alone.",
            evidence=[*evidence, *[e for e in injury_evidence if e not in evidence]],
            citations=[facts.cite(KNOWLEDGE, INTERVENE), facts.cite("cara", CARA_UNCONFIRMED)],
            notes=("Unconfirmed: no source links CARA or LEAD to a falls-prevention program (../shared/LEAD_FACTS.md, "
                   "CARA); treat a CARA falls referral as unverified until CMS publishes it.",),
        ))
    return items


def _day(record: Any) -> date | None:
    if record.kind == "condition":
        return record.onset
    if record.kind == "encounter":
        return record.start.date() if record.start else None
    if record.kind == "claim":
        return record.from_date or record.thru_date
    if record.kind == "procedure":
        return record.performed.date() if record.performed else None
    return None


def _codes(record: Any) -> list[Code]:
    if record.kind == "condition":
        return [record.code, *record.codes]
    if record.kind == "encounter":
        return list(record.reasons)
    if record.kind == "claim":
        return list(record.diagnoses)
    return []


def _icd10(code: Code) -> str:
    return code.code.upper().replace(".", "") if code.system == "icd10" else ""


def _is_fall(code: Code) -> bool:
    icd = _icd10(code)
    return (icd[:1] == "W" and icd[1:3].isdigit() and int(icd[1:3]) <= 19) or \
        (code.system == "snomed" and code.code in SNOMED_FALLS)


def _is_injury(code: Code) -> bool:
    icd = _icd10(code)
    return icd.startswith("S") or icd.startswith("M80") or (code.system == "snomed" and code.code in SNOMED_FRACTURE)


def _screened_since(facts: PatientFacts, day: date) -> bool:
    for record in facts.records:
        when = _day(record)
        if when is None or when < day:
            continue
        if record.kind == "procedure":
            codes = {record.code.code, *(c.code for c in record.codes)}
        elif record.kind == "claim":
            codes = {c.code for c in record.procedures}
        else:
            continue
        if codes & SCREENED:
            return True
    return False
