"""Homebound and home-limited patients: LEAD names them as an explicit focus; care should come to them (home visits,
telehealth) and home health use is a High Needs criterion worth checking.

Homebound is read from the Coverage flag (the FHIR connector sets it from the homebound extension or a Housebound
finding) or an active SNOMED 160685001 Housebound condition or observation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence

NAME = "homebound"
KNOWLEDGE = "high-needs-homebound"
HOUSEBOUND = "160685001"
FOCUS = "The CMS LEAD page names homebound and home-limited patients as an explicit focus of the LEAD model."
HOME_HEALTH = ("Home health use is listed among the High Needs criteria, so homebound patients who use home health "
               "services should be checked against the High Needs definition.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    found = [Evidence.of(c, f"{c.payer} coverage marks the patient homebound") for c in facts.of_kind("coverage")
             if c.homebound and (c.end is None or c.end >= facts.as_of)]
    found += [Evidence.of(r, "Housebound (SNOMED 160685001) recorded") for r in facts.records if _housebound(r)]
    if not found:
        return []
    return [item(
        facts, NAME, measure=None, owner_role="care_manager", priority="medium", due=facts.as_of + timedelta(days=30),
        action="Offer home-based care: a home visit or a real-time video visit instead of a clinic visit, and check "
               "whether home health use puts the patient in the High Needs group",
        rationale="The patient is recorded as homebound.",
        evidence=found, citations=[facts.cite(KNOWLEDGE, FOCUS), facts.cite(KNOWLEDGE, HOME_HEALTH)],
    )]


def _housebound(record: Any) -> bool:
    if record.kind not in ("condition", "observation"):
        return False
    if record.kind == "condition" and record.clinical_status not in (None, "active"):
        return False
    return any(c.system == "snomed" and c.code == HOUSEBOUND for c in [record.code, *record.codes])
