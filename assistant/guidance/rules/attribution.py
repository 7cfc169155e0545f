"""Attribution risks from the roster audit: a likely duplicate registration, a changed MBI, an attribution mismatch
against CCLF8, or no activity in 12 months. Each can cost the ACO the patient's alignment or split their record.

Why the care manager: these are fixed by talking to the patient and the data steward, not by a clinician. The
evidence is the audit's own source rows, so the item opens the rows a person must check.
"""

from __future__ import annotations

from datetime import timedelta

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.records.roster import Finding

NAME = "attribution"
KNOWLEDGE = "lead-alignment"
CLAIMS_BASED = ("Claims-based alignment assigns a beneficiary to a LEAD ACO based on the beneficiary's history of "
                "Medicare claims with the ACO's providers.")
VOLUNTARY = ("Voluntary alignment lets a beneficiary choose a LEAD ACO provider as the beneficiary's main source of "
             "care.")
ACTIONS = {
    "likely_duplicate": "Check with the patient whether these registrations are one person (MBI, birth date, "
                        "address) and ask the data steward to merge or separate them",
    "mbi_changed": "Ask the data steward to update the MBI in the systems that still use the previous one, so claims "
                   "and clinical data stay linked",
    "attribution_mismatch": "Review the patient's attribution with the ACO's roster analyst and correct the roster "
                            "or the records",
    "inactive_12m": "Reach out to re-engage the patient and confirm they still get care here; offer a visit and, if "
                    "they wish, voluntary alignment",
}
PRIORITY = {"likely_duplicate": "high", "attribution_mismatch": "high", "mbi_changed": "medium",
            "inactive_12m": "medium"}


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    if facts.roster is None:
        return []
    items = []
    for finding in facts.roster():
        citations = [facts.cite(KNOWLEDGE, CLAIMS_BASED)]
        if finding.kind == "inactive_12m":
            citations.append(facts.cite(KNOWLEDGE, VOLUNTARY))
        items.append(item(
            facts, NAME, measure=None, owner_role="care_manager", priority=PRIORITY[finding.kind],
            due=facts.as_of + timedelta(days=30), action=ACTIONS[finding.kind],
            rationale=f"Roster audit ({finding.kind.replace('_', ' ')}): {finding.summary}.",
            evidence=_evidence(finding), citations=citations,
        ))
    return items


def _evidence(finding: Finding) -> list[Evidence]:
    rows = [Evidence(reason=row.detail or finding.summary, record_kind=row.kind, record_id=row.record_id,
                     document_id=row.document_id, source_path=row.source_path, locator=row.locator)
            for row in finding.evidence]
    return rows or [Evidence(reason=finding.summary)]
