"""Medication reconciliation: a medication started, stopped or changed in the last 30 days with no reconciliation
logged since (CPT II 1111F or SNOMED 430193006) needs one medication list checked with the patient.

Why 30 days: changes pile up after discharges and specialist visits; a pharmacist review soon after the change
catches duplicates and interactions before the next refill.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.transitions.medications import high_risk_class

NAME = "medication_reconciliation"
KNOWLEDGE = "care-transitions"
WINDOW_DAYS = 30
RECONCILED = {"1111F", "430193006"}  # CPT II "discharge medications reconciled"; SNOMED medication reconciliation
CHANGED = {"changed", "new"}
STOPPED = {"stopped", "completed", "cancelled"}
RECONCILE = ("Project RED asks the team to identify the correct medicines and reconcile them into one medication "
             "plan.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    since = facts.as_of - timedelta(days=WINDOW_DAYS)
    changes: list[tuple[date, Any, str]] = []
    for med in facts.of_kind("medication"):
        name = med.code.display or med.code.code
        if med.stop is not None and since <= med.stop <= facts.as_of:
            changes.append((med.stop, med, f"{name} stopped on {med.stop.isoformat()}"))
        elif med.start is not None and since <= med.start <= facts.as_of:
            verb = "changed" if med.status == "changed" else "started"
            changes.append((med.start, med, f"{name} {verb} on {med.start.isoformat()}"))
    if not changes:
        return []
    first = min(day for day, _med, _why in changes)
    if _reconciled_since(facts, first):
        return []
    risky = sorted({klass for _day, med, _why in changes if (klass := high_risk_class(med))})
    return [item(
        facts, NAME, measure=None, owner_role="pharmacist", priority="high" if risky else "medium",
        due=facts.as_of + timedelta(days=7),
        action="Review the medication list with the patient or caregiver and the prescribers, and record the "
               "reconciliation (CPT II 1111F)",
        rationale=f"{len(changes)} medication change(s) in the {WINDOW_DAYS} days before {facts.as_of.isoformat()} "
                  f"and no reconciliation logged since {first.isoformat()}"
                  + (f"; high-risk: {', '.join(risky)}" if risky else "") + ".",
        evidence=[Evidence.of(med, why) for _day, med, why in sorted(changes, key=lambda c: c[0])],
        citations=[facts.cite(KNOWLEDGE, RECONCILE)],
    )]


def _reconciled_since(facts: PatientFacts, day: date) -> bool:
    for record in facts.records:
        if record.kind == "procedure" and record.performed and record.performed.date() >= day:
            if {record.code.code, *(c.code for c in record.codes)} & RECONCILED:
                return True
        if record.kind == "claim" and (record.from_date or date.min) >= day:
            if {c.code for c in record.procedures} & RECONCILED:
                return True
    return False
