"""Guidance for one patient, and the care team's decisions on it; both checked against the panel and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound
from assistant.guidance.engine import STATUSES, guidance, record_decision
from assistant.guidance.facts import gather
from assistant.guidance.worklist import refresh, worklist
from assistant.services.access import audit, open_patient, require
from assistant.services.answers import view_role
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.patients import panel_patient_ids
from assistant.services.policy import Action

SCHEMA = "caretrail.guidance/1"


def patient_guidance(ctx: AppContext, caller: Caller, ref: str, view: str | None = None,
                     as_of: date | None = None) -> dict[str, Any]:
    patient = open_patient(ctx, caller, ref)
    role = view_role(caller, view)
    day = reference_day(as_of)
    items = guidance(gather(ctx.patients, ctx.engine, ctx.roster_cache, patient.id, day), ctx.engine, role)
    audit_id = audit(ctx, caller, "guidance", patient.id, {"as_of": day, "view_role": role,
                                                           "items": [[i.id, i.rule, i.status] for i in items]})
    return {"schema": SCHEMA, "patient_id": patient.id, "role": role, "as_of": day.isoformat(),
            "items": [i.to_dict() for i in items], "audit_id": audit_id}


def decide(ctx: AppContext, caller: Caller, item_id: str, ref: str, status: str, reason: str | None = None,
           as_of: date | None = None) -> dict[str, Any]:
    """Accept, dismiss (a reason is required) or complete an item the patient's guidance holds today."""
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if status == "dismissed" and not (reason or "").strip():
        raise BadRequest("dismissing an item needs a reason")
    patient = open_patient(ctx, caller, ref)
    day = reference_day(as_of)
    facts = gather(ctx.patients, ctx.engine, ctx.roster_cache, patient.id, day)
    found = next((i for i in guidance(facts, ctx.engine, caller.role) if i.id == item_id), None)
    if found is None:
        raise NotFound(f"no open guidance item {item_id!r} for this patient (its evidence may have changed)")
    audit_id = audit(ctx, caller, "guidance.decision", patient.id,
                     {"item_id": item_id, "rule": found.rule, "status": status, "reason": reason})
    record_decision(ctx.engine, found, patient.id, status, reason, caller.user)
    return {"item_id": item_id, "patient_id": patient.id, "status": status, "audit_id": audit_id}


def _every_patient_id(ctx: AppContext) -> list[str]:
    return [row.id for row in ctx.patients.list_patients(limit=10_000_000)]


def panel_worklist(ctx: AppContext, caller: Caller, role: str | None = None, user: str | None = None,
                   as_of: date | None = None, limit: int = 100) -> dict[str, Any]:
    """Open items across a panel: your own, or (admins) another user's. Stale patients are recomputed first."""
    if user and user != caller.user:
        require(ctx, caller, Action.MANAGE_PANELS)
        ids = ctx.patients.assigned_patient_ids(user) | ctx.patients.derived_patient_ids(user)
    else:
        require(ctx, caller, Action.LIST_PANEL)
        scope = panel_patient_ids(ctx, caller)
        ids = scope if scope is not None else set(_every_patient_id(ctx))
    owner = view_role(caller, role) if role else None
    day = reference_day(as_of)
    patient_ids = sorted(ids)
    recomputed = refresh(ctx.patients, ctx.engine, ctx.roster_cache, patient_ids, day)
    result = worklist(ctx.engine, patient_ids, day, owner, limit)
    result["audit_id"] = audit(ctx, caller, "worklist", None, {"user": user or caller.user, "role": owner,
                                                               "patients": len(patient_ids), "recomputed": recomputed,
                                                               "returned": len(result["items"])})
    return {"schema": "caretrail.worklist/1", "user": user or caller.user, **result}


def refresh_day(ctx: AppContext, caller: Caller, as_of: date | None = None) -> dict[str, Any]:
    """Recompute every stale patient's guidance for the day, ahead of the care team.

    Why: a worklist read refreshes whatever is stale first, so without this the first reads of a new day each pay
    for their panel's recomputation (a second or more per panel), all at once when a shift starts. Run it at the
    start of each day (docs/deploy.md); an admin task, since it touches every patient. Audited with the counts."""
    require(ctx, caller, Action.MANAGE_PANELS)
    day = reference_day(as_of)
    patient_ids = sorted(_every_patient_id(ctx))
    recomputed = refresh(ctx.patients, ctx.engine, ctx.roster_cache, patient_ids, day)
    audit_id = audit(ctx, caller, "worklist.refresh", None,
                     {"as_of": day, "patients": len(patient_ids), "recomputed": recomputed})
    return {"as_of": day.isoformat(), "patients": len(patient_ids), "recomputed": recomputed, "audit_id": audit_id}
