"""A guidance item: one next step for one patient, owned by exactly one role, dated, explained and cited.

Why the id is a hash of the rule, the patient and the evidence: a care manager who dismisses an item should not
see it again tomorrow, but should see it again when its evidence changes (a new HbA1c, a new discharge). The same
evidence gives the same id; new evidence gives a new one, which no stored decision covers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class GuidanceItem:
    id: str
    rule: str
    action: str
    rationale: str
    owner_role: str
    due: date | None
    priority: str
    measure: str | None
    evidence: tuple[dict[str, Any], ...]  # records with provenance
    citations: tuple[dict[str, Any], ...]  # the ask contract's citation objects (knowledge spans)
    status: str = "open"
    notes: tuple[str, ...] = field(default=())

    def with_status(self, status: str) -> GuidanceItem:
        return replace(self, status=status)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "action": self.action, "rationale": self.rationale,
                "owner_role": self.owner_role, "due": self.due.isoformat() if self.due else None,
                "priority": self.priority, "measure": self.measure, "status": self.status,
                "evidence": list(self.evidence), "citations": list(self.citations), "notes": list(self.notes)}


def item_id(rule: str, patient_id: str, owner_role: str, evidence: tuple[dict[str, Any], ...]) -> str:
    """The owner is part of the id: one rule can give two roles a step each on the same evidence (TCM: the
    coordinator's call, the clinician's visit), and deciding one must not decide the other. The action text is
    not: it can carry a date that moves with the as-of day, and a dismissal must outlive the day it was made."""
    fingerprint = "|".join(sorted(f"{e.get('document_id')}:{e.get('record_id')}:{e.get('reason')}" for e in evidence))
    return "g-" + hashlib.sha256(f"{rule}|{patient_id}|{owner_role}|{fingerprint}".encode()).hexdigest()[:20]
