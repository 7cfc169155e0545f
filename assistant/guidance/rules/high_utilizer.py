"""High utilizer: two or more inpatient stays, or three or more emergency visits, in the 12 months before the
as-of date; such patients are who complex care management and LEAD's Days at Home measure are about."""

from __future__ import annotations

from datetime import timedelta

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.stays import EMERGENCY, INPATIENT, facility_stays

NAME = "high_utilizer"
KNOWLEDGE = "high-needs-homebound"
DAYS_AT_HOME = ("The Days at Home measure counts days spent outside hospitals, emergency departments and skilled "
                "nursing facilities over one calendar year.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    since = facts.as_of - timedelta(days=365)
    stays = [s for s in facility_stays(facts.records) if since <= s.start <= facts.as_of]
    inpatient = [s for s in stays if s.setting == INPATIENT]
    emergency = [s for s in stays if s.setting == EMERGENCY]
    if len(inpatient) < 2 and len(emergency) < 3:
        return []
    counted = inpatient + emergency
    evidence = [e for stay in counted for e in stay.evidence]
    return [item(
        facts, NAME, measure="DAH", owner_role="care_manager", priority="medium", due=facts.as_of + timedelta(days=7),
        action="Review the patient for complex care management: a care plan, a named care manager and a check-in "
               "after every discharge or ED visit",
        rationale=f"{len(inpatient)} inpatient stays and {len(emergency)} ED visits in the 12 months before "
                  f"{facts.as_of.isoformat()}.",
        evidence=evidence, citations=[facts.cite(KNOWLEDGE, DAYS_AT_HOME)],
    )]
