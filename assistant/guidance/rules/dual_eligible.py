"""Dual-eligible beneficiaries (Medicare and Medicaid): a full or partial dual needs Medicare and Medicaid services
coordinated, long-term services and supports (LTSS) above all; LEAD names duals as an explicit focus.

Why an item for an unknown status: a Medicare and a Medicaid coverage with no CMS dual status code says the patient
is probably dual but not which kind; the rule asks for the status instead of guessing full or partial.
"""

from __future__ import annotations

from datetime import timedelta

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence

NAME = "dual_eligible"
KNOWLEDGE = "dual-eligible-medicaid"
DUALS = ("full", "partial")
LTSS = ("Dual-eligible beneficiaries often receive long-term services and supports (LTSS) through Medicaid while "
        "Medicare pays for medical care.")
RECORD_STATUS = ("Care managers in a LEAD ACO should record each patient's Medicaid status, because Medicaid "
                 "partnership rules and services apply only to dual-eligible patients.")
PARTNER_STATE = ("Care teams should check whether their state is a LEAD Medicaid partner before promising any "
                 "integrated Medicaid benefit.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    coverages = [c for c in facts.of_kind("coverage") if c.end is None or c.end >= facts.as_of]
    duals = [c for c in coverages if c.dual_status in DUALS]
    if duals:
        status = duals[-1].dual_status
        code = duals[-1].dual_status_code
        return [item(
            facts, NAME, measure=None, owner_role="community_health_worker", priority="medium",
            due=facts.as_of + timedelta(days=30),
            action="Offer to connect the patient with their Medicaid plan or state Medicaid office to coordinate "
                   "long-term services and supports (home care, transport, meals) with the Medicare care plan",
            rationale=f"{status.capitalize()} dual-eligible (CMS dual status code {code or 'not given'}): Medicaid "
                      "may pay for services Medicare does not.",
            evidence=[Evidence.of(c, f"{c.payer} coverage, dual status {c.dual_status}") for c in duals],
            citations=[facts.cite(KNOWLEDGE, LTSS), facts.cite(KNOWLEDGE, PARTNER_STATE)],
        )]
    unknown = [c for c in coverages if c.dual_status == "unknown"]
    if unknown:
        return [item(
            facts, NAME, measure=None, owner_role="community_health_worker", priority="low",
            due=facts.as_of + timedelta(days=30),
            action="Confirm the patient's Medicaid status (full or partial dual) and record it",
            rationale="Missing: Medicare and Medicaid coverage are both on file but no CMS dual status code, so "
                      "whether the patient is a full or a partial dual is not known.",
            evidence=[Evidence.of(c, f"{c.payer} coverage without a dual status code") for c in unknown],
            citations=[facts.cite(KNOWLEDGE, RECORD_STATUS)],
        )]
    return []
