"""CMS122 Diabetes: Glycemic Status Assessment > 9% (inverse): a denominator patient whose most recent HbA1c or GMI
is over 9 %, or who has no result this year, is in the numerator, which is the gap."""

from __future__ import annotations

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import due_within, item
from assistant.measures import cms122
from assistant.measures.engine import is_gap
from assistant.measures.results import NUMERATOR

NAME = "cms122_gap"
KNOWLEDGE = "diabetes-gap-closure"
NO_TEST = ("A diabetes patient with no HbA1c or GMI test this year counts as a CMS122 gap, so getting a test done "
           "and recorded is the first step.")
HIGH = ("A diabetes patient whose most recent HbA1c is above 9.0% stays in the CMS122 numerator until a later test "
        "in the same year is 9.0% or below.")
OUTSIDE = ("Care teams should make sure outside HbA1c results are recorded in the EHR with a date, because missing "
           "values count as poor control.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    result = facts.measures[cms122.MEASURE]
    if not is_gap(result):
        return []
    evidence = result.evidence.get(NUMERATOR, ())
    has_result = any(e.record_id for e in evidence)
    reason = "; ".join(e.reason for e in evidence) or "no HbA1c or GMI this year"
    if has_result:
        action = ("Ask the clinician to review diabetes treatment and plan a repeat HbA1c; arrange the repeat test "
                  "before year end")
        citations = [facts.cite(KNOWLEDGE, HIGH)]
    else:
        action = ("Ask the clinician to order an HbA1c, or record an outside result with its date")
        citations = [facts.cite(KNOWLEDGE, NO_TEST), facts.cite(KNOWLEDGE, OUTSIDE)]
    return [item(facts, NAME, measure=cms122.MEASURE, owner_role="care_manager", priority="high", action=action,
                 rationale=f"CMS122 gap: {reason}.", due=due_within(facts, 30), evidence=evidence, citations=citations)]
