"""Working the list: what a person did to a checklist item, stored and applied over what the record shows.

Actions: ``check`` (done, by whom and when), ``note`` (a line of text), ``reassign`` (another owner role),
``waive`` (not needed, with a reason) and ``reopen`` (undo a check or a waiver). They are rows in
``transition_item_actions``, never edits of the checklist: the checklist is rebuilt from the records every time
and the actions are applied in the order they were made, so a later record (a visit the EHR sends afterwards)
and a person's check-off both show, each with its own evidence. Every action carries the id of its audit row,
and a checked or waived item cites it, which is how a coordinator proves afterwards that a step was done.

The access check and the audit row belong to ``assistant.services.transitions``; this module reads and writes
the table only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.transitions.item import Item
from assistant.transitions.tables import TransitionItemActionTable

ACTIONS = ("check", "note", "reassign", "waive", "reopen")


@dataclass(frozen=True)
class Action:
    id: int
    episode_id: str
    item_id: str
    action: str
    text: str | None
    owner_role: str | None
    user_id: str
    role: str
    at: datetime
    audit_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "item_id": self.item_id, "action": self.action, "text": self.text,
                "owner_role": self.owner_role, "user": self.user_id, "role": self.role,
                "at": self.at.isoformat(), "audit_id": self.audit_id}  # fmt: skip

    def citation(self) -> dict[str, Any]:
        """Where the proof lives: the audit row written when the person did it."""
        return {
            "type": "audit",
            "audit_id": self.audit_id,
            "event": "transitions.item",
            "action": self.action,
            "user": self.user_id,
            "at": self.at.isoformat(),
        }

    def when(self) -> str:
        return self.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _action(row: TransitionItemActionTable) -> Action:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite returns naive datetimes
    return Action(
        row.id,
        row.episode_id,
        row.item_id,
        row.action,
        row.text,
        row.owner_role,
        row.user_id,
        row.role,
        at,
        row.audit_id,
    )


def record(
    engine: Engine,
    episode_id: str,
    patient_id: str,
    item_id: str,
    action: str,
    user_id: str,
    role: str,
    audit_id: str,
    text: str | None = None,
    owner_role: str | None = None,
) -> Action:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    with Session(engine) as session, session.begin():
        row = TransitionItemActionTable(
            episode_id=episode_id,
            patient_id=patient_id,
            item_id=item_id,
            action=action,
            text=text,
            owner_role=owner_role,
            user_id=user_id,
            role=role,
            at=datetime.now(UTC),
            audit_id=audit_id,
        )
        session.add(row)
        session.flush()
        return _action(row)


def for_episodes(engine: Engine, episode_ids: list[str]) -> dict[str, list[Action]]:
    """Each episode's actions, oldest first."""
    found: dict[str, list[Action]] = {episode_id: [] for episode_id in episode_ids}
    if not episode_ids:
        return found
    with Session(engine) as session:
        for start in range(0, len(episode_ids), 500):
            rows = session.scalars(
                select(TransitionItemActionTable)
                .where(TransitionItemActionTable.episode_id.in_(episode_ids[start : start + 500]))
                .order_by(TransitionItemActionTable.at, TransitionItemActionTable.id)
            )
            for row in rows:
                found[row.episode_id].append(_action(row))
    return found


def apply(items: list[Item], actions: list[Action]) -> None:
    """Fold the actions, in order, into the items built from the record."""
    by_id = {item.id: item for item in items}
    computed = {item.id: item.status for item in items}
    for act in actions:
        item = by_id.get(act.item_id)
        if item is None:
            continue  # the record no longer gives this item (its evidence changed); the action stays in the list
        who = f"{act.user_id} ({act.role}) on {act.when()}"
        if act.action == "check":
            if item.status not in ("done", "late"):
                item.status = "done"
            item.evidence.append(f"checked off by {who}" + (f": {act.text}" if act.text else ""))
            item.citations.append(act.citation())
        elif act.action == "waive":
            item.status = "waived"
            item.evidence.append(f"waived by {who}: {act.text}")
            item.citations.append(act.citation())
        elif act.action == "reopen":
            item.status = computed[item.id]
            item.evidence.append(f"reopened by {who}" + (f": {act.text}" if act.text else ""))
        elif act.action == "reassign":
            item.evidence.append(
                f"reassigned from {item.owner_role} to {act.owner_role} by {who}"
                + (f": {act.text}" if act.text else "")
            )
            item.owner_role = act.owner_role or item.owner_role
        elif act.action == "note":
            item.evidence.append(f"note by {who}: {act.text}")
