"""Run every rule for one patient, apply the care team's recorded decisions, and order the items for a role.

Order: the viewing role's own items first, then the others' as context; within each, by due date (undated last)
and priority. Dismissed items are left out until their evidence changes (their id then changes too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import PRIORITIES, GuidanceItem
from assistant.guidance.rules import RULES
from assistant.guidance.tables import GuidanceStatusTable

STATUSES = ("accepted", "dismissed", "completed")


def decisions(engine: Engine, patient_id: str) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.execute(select(GuidanceStatusTable.item_id, GuidanceStatusTable.status)
                               .where(GuidanceStatusTable.patient_id == patient_id))
        return {item_id: status for item_id, status in rows}


def run_rules(facts: PatientFacts) -> list[GuidanceItem]:
    """Every rule's items, before any decision is applied."""
    return [found for rule in RULES.values() for found in rule(facts)]


def order_key(item: GuidanceItem) -> tuple:
    return (item.due is None, item.due or date.max, PRIORITIES.index(item.priority), item.rule)


def guidance(facts: PatientFacts, engine: Engine, role: str) -> list[GuidanceItem]:
    decided = decisions(engine, facts.patient.id)
    items = []
    for found in run_rules(facts):
        status = decided.get(found.id, "open")
        if status != "dismissed":
            items.append(found.with_status(status))
    return sorted(items, key=lambda i: (i.owner_role != role, *order_key(i)))


def record_decision(engine: Engine, item: GuidanceItem, patient_id: str, status: str, reason: str | None,
                    user: str) -> None:
    """Remember a decision on this item (the latest decision wins)."""
    with Session(engine) as session, session.begin():
        row = session.get(GuidanceStatusTable, item.id)
        if row is None:
            row = GuidanceStatusTable(item_id=item.id, patient_id=patient_id, rule=item.rule)
            session.add(row)
        row.status, row.reason, row.user_id, row.decided_at = status, reason, user, datetime.now(UTC)
