"""What rules share: building an item with its id, and dates capped to the measurement year."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem, item_id
from assistant.measures.results import Evidence


def item(facts: PatientFacts, rule: str, *, action: str, rationale: str, owner_role: str, due: date | None,
         priority: str, measure: str | None, evidence: list[Evidence] | tuple[Evidence, ...],
         citations: list[dict[str, Any]], notes: tuple[str, ...] = ()) -> GuidanceItem:
    cited = tuple(e.as_dict() for e in evidence)
    return GuidanceItem(item_id(rule, facts.patient.id, owner_role, cited), rule, action, rationale, owner_role, due,
                        priority, measure, cited, tuple(citations), notes=notes)


def due_within(facts: PatientFacts, days: int) -> date:
    """``days`` after the as-of date, but never past the end of the measurement year (a gap closes in-year)."""
    return min(facts.as_of + timedelta(days=days), date(facts.as_of.year, 12, 31))
