"""Transition-of-care checklists and the worklist of open discharges, for the caller's patients only.

One patient's checklist is a read of their chart (``patient.read``, the panel check, audited as
``transitions.checklist``); the worklist lists the caller's panel (``panel.read``, audited as
``transitions.list``). Both bring the episodes up to date from the records first (``episodes.sync``), so a
discharge ingested a moment ago is on the list.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound
from assistant.services.access import audit, open_patient, require
from assistant.services.caller import Caller
from assistant.services.patients import panel_patient_ids
from assistant.services.policy import Action
from assistant.transitions import episodes
from assistant.transitions.checklist import KIND, build_checklist
from assistant.transitions.episodes import Episode
from assistant.transitions.sources import read_patient_records

SCHEMA = "caretrail.checklist/1"
LIST_SCHEMA = "caretrail.transitions/1"
TCM_PERIOD_DAYS = 30  # the TCM service period starts on the day of discharge (knowledge/tcm.md)
STATUSES = ("open", "closed", "cancelled", "all")


def _pick(found: list[Episode], encounter: str | None, as_of: date) -> Episode:
    """The episode ``encounter`` names (an encounter id or episode id), else the latest discharge by ``as_of``."""
    if encounter:
        for episode in found:
            if encounter == episode.id or encounter in episode.encounter_ids:
                return episode
        raise NotFound(f"no discharge for encounter {encounter[:120]!r} in this patient's records")
    dated = [e for e in found if e.discharge_date <= as_of]
    if not dated:
        raise NotFound(f"no discharge on or before {as_of.isoformat()} in this patient's records")
    live = [e for e in dated if e.status != episodes.CANCELLED]
    return (live or dated)[0]  # list_episodes gives the latest first


def checklist(ctx: AppContext, caller: Caller, ref: str, encounter: str | None = None,
              as_of: date | None = None) -> dict[str, Any]:
    """``{"patient_id", "encounter_id", "discharge_date", "kind", "items", "audit_id", ...}`` for one discharge."""
    row = open_patient(ctx, caller, ref, Action.READ_PATIENT)
    as_of = as_of or date.today()
    episodes.sync(ctx.engine, {row.id})
    found = episodes.list_episodes(ctx.engine, {row.id})
    episode = _pick(found, encounter, as_of)
    result = build_checklist(ctx.engine, episode, as_of, history=found).to_dict()
    counts: dict[str, int] = {}
    for item in result["items"]:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    audit_id = audit(ctx, caller, "transitions.checklist", row.id,
                     {"episode_id": episode.id, "encounter_id": episode.encounter_id, "kind": KIND,
                      "as_of": as_of.isoformat(), "items": len(result["items"]), "statuses": counts})
    return {"schema": SCHEMA, **result, "audit_id": audit_id}


def _status_of(episode: Episode, as_of: date) -> str:
    if episode.status == episodes.CANCELLED:
        return "cancelled"
    if as_of >= episode.discharge_date + timedelta(days=TCM_PERIOD_DAYS):
        return "closed"
    return "open"


def worklist(ctx: AppContext, caller: Caller, status: str = "open", as_of: date | None = None) -> dict[str, Any]:
    """Discharges of the caller's patients, nearest deadline first. ``open``: not cancelled and still inside the
    30-day TCM service period on ``as_of``; ``closed``: past it; ``cancelled``: by an A13; ``all``."""
    require(ctx, caller, Action.LIST_PANEL)
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}, not {status[:40]!r}")
    as_of = as_of or date.today()
    ids = panel_patient_ids(ctx, caller)
    episodes.sync(ctx.engine, ids)
    entries = []
    patients: dict[str, Any] = {}
    for episode in episodes.list_episodes(ctx.engine, ids):
        state = _status_of(episode, as_of)
        if episode.discharge_date > as_of or (status != "all" and state != status):
            continue
        if episode.patient_id not in patients:
            patients[episode.patient_id] = (ctx.patients.get_patient(episode.patient_id),
                                            read_patient_records(ctx.engine, episode.patient_id),
                                            episodes.list_episodes(ctx.engine, {episode.patient_id}))
        person, records, history = patients[episode.patient_id]
        built = build_checklist(ctx.engine, episode, as_of, history=history, records=records)
        nearest = built.next_due()
        waiting = [i for i in built.items if i.status in ("open", "overdue")]
        entries.append({
            "episode_id": episode.id, "patient_id": episode.patient_id, "name": person.name if person else None,
            "mbi": person.mbi if person else None, "discharge_date": episode.discharge_date.isoformat(),
            "facility": episode.facility, "encounter_ids": list(episode.encounter_ids), "status": state,
            "complexity": built.complexity["level"], "next_due": nearest.due.isoformat() if nearest and nearest.due
            else None, "next_item": nearest.id if nearest else None, "next_text": nearest.text if nearest else None,
            "open_items": len(waiting), "overdue_items": sum(1 for i in waiting if i.status == "overdue"),
            "missing": built.missing,
        })  # fmt: skip
    entries.sort(key=lambda e: (e["next_due"] is None, e["next_due"] or "", e["discharge_date"], e["episode_id"]))
    audit_id = audit(ctx, caller, "transitions.list", None,
                     {"status": status, "as_of": as_of.isoformat(), "returned": len(entries)})
    return {"schema": LIST_SCHEMA, "as_of": as_of.isoformat(), "status": status, "episodes": entries,
            "audit_id": audit_id}
