"""Cited answers: the caller may ask, the patient is on their panel, and the answer is audited before return."""

from __future__ import annotations

from typing import Any

from assistant.ask import answer
from assistant.context import AppContext
from assistant.errors import BadRequest
from assistant.roles import normalize_role
from assistant.services.access import audit, open_patient, require
from assistant.services.caller import Caller
from assistant.services.policy import Action


def view_role(caller: Caller, requested: str | None) -> str:
    """A role named in a request chooses a view (whose items come first, the tone); it never grants access."""
    if not requested:
        return caller.role
    try:
        return normalize_role(requested)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def ask(ctx: AppContext, caller: Caller, question: str, patient_ref: str | None = None,
        view: str | None = None) -> dict[str, Any]:
    """The ``caretrail.ask/1`` contract, with the audit id of the row written before it is returned."""
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    shown_as = view_role(caller, view)
    patient_id = open_patient(ctx, caller, patient_ref).id if patient_ref else None
    result = answer(ctx.answer_deps, question, patient_id, shown_as)
    audit_id = audit(ctx, caller, "ask", patient_id, {**result.audit_payload, "view_role": shown_as})
    return {**result.response, "audit_id": audit_id}
