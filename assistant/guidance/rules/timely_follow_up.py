"""Timely Follow-Up (TFU): after an acute exacerbation of a chronic condition, a clinician visit is due within the
condition's window; the item stands while the window is open and no visit is on file."""

from __future__ import annotations

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item

NAME = "timely_follow_up"
KNOWLEDGE = "timely-follow-up"
DEFINITION = ("The TFU measure checks whether a beneficiary receives a follow-up visit within a set number of days "
              "after an acute exacerbation of a chronic condition.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    items = []
    for flag in facts.estimates.flags:
        if flag.measure != "timely_follow_up" or flag.status != "due":
            continue
        items.append(item(
            facts, NAME, measure="TFU", owner_role="care_coordinator", priority="high", due=flag.due,
            action=f"Book a follow-up visit (any E&M visit, in person or telehealth) by {flag.due.isoformat()}",
            rationale=f"Timely Follow-Up: {flag.summary}.", evidence=flag.evidence,
            citations=[facts.cite(KNOWLEDGE, DEFINITION)],
            notes=("The follow-up windows come from a vendor summary the facts file asks to check against the CMS "
                   "measure information form (unconfirmed).",),
        ))
    return items
