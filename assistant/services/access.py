"""The access checks every service function makes, and the audit row every one of them writes.

Refusals are audited too (``access.denied``), with what was asked and why it was refused, so a security
officer can see attempts as well as reads.
"""

from __future__ import annotations

from typing import Any, NoReturn

from assistant.audit.log import audit_log_for
from assistant.context import AppContext
from assistant.errors import Conflict, NotFound, PermissionDenied
from assistant.records.store import PatientRow
from assistant.services import policy
from assistant.services.caller import Caller
from assistant.services.policy import Action


def audit(ctx: AppContext, caller: Caller, event: str, patient_id: str | None, payload: dict[str, Any]) -> str:
    """Append one audit row for this caller; raises if it cannot be written, so nothing is returned unaudited."""
    return audit_log_for(ctx).append(event, caller.user, caller.role, patient_id,
                                     {**payload, "caller": caller.audit_fields()})


def deny(ctx: AppContext, caller: Caller, action: Action, patient_id: str | None, reason: str) -> NoReturn:
    audit(ctx, caller, "access.denied", patient_id, {"action": str(action), "reason": reason})
    raise PermissionDenied(reason)


def require(ctx: AppContext, caller: Caller, action: Action) -> None:
    if not policy.allows(caller.role, action):
        deny(ctx, caller, action, None, f"the {caller.role} role may not use {action}")


def may_see_patient(ctx: AppContext, caller: Caller, patient_id: str) -> bool:
    """Rules 2-4 of ``policy`` for one existing patient."""
    if not ctx.patients.patient_exists(patient_id):
        return False
    rule = policy.patient_rule(caller)
    if rule in ("role", "credential-all"):
        return True
    if rule == "credential-list":
        return patient_id in (caller.panel.patient_ids or frozenset())
    return ctx.patients.in_panel(caller.user, patient_id)


def find_patient(ctx: AppContext, ref: str) -> str:
    """Resolve a reference (internal id, source id, MBI, explicit key) to exactly one internal id."""
    ids = ctx.patients.find_patient_ids(ref)
    shown = ref if len(ref) <= 80 else ref[:80] + "..."
    if not ids:
        raise NotFound(f"no patient matches {shown!r} (internal id, source Patient id, MBI or key)")
    if len(ids) > 1:
        raise Conflict(f"{shown!r} matches {len(ids)} patients; use an explicit key (fhir|{shown}) or the internal id")
    return ids[0]


def open_patient(ctx: AppContext, caller: Caller, ref: str, action: Action = Action.READ_PATIENT) -> PatientRow:
    """The patient ``ref`` names, if the caller may ``action`` on them; refusals are audited."""
    require(ctx, caller, action)
    patient_id = find_patient(ctx, ref)
    check_patient(ctx, caller, patient_id, action)
    row = ctx.patients.get_patient(patient_id)
    if row is None:  # removed between the two reads
        raise NotFound(f"no patient matches {ref[:80]!r}")
    return row


def check_patient(ctx: AppContext, caller: Caller, patient_id: str, action: Action = Action.READ_PATIENT) -> None:
    require(ctx, caller, action)
    if not may_see_patient(ctx, caller, patient_id):
        deny(ctx, caller, action, patient_id, "this patient is not on your panel")
