"""Transitions: the worklist of discharges on the caller's panel, one patient's checklist (JSON, Markdown, PDF or a
FHIR Bundle; the transition checklist or a documentation checklist), and actions on a checklist item.

The checklist lives at ``/v1/checklists/{ref}`` rather than under ``/v1/patients/{ref}``: that route takes the
rest of the path as the patient reference (MBIs and keys may hold slashes), so it would swallow a suffix.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import transitions
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["transitions"])


class ItemAction(BaseModel):
    action: Literal["check", "note", "reassign", "waive", "reopen"]
    text: str | None = Field(default=None, max_length=2000, description="the note, or why (required to waive)")
    reason: str | None = Field(default=None, max_length=2000, description="the same as text, for a waiver")
    owner_role: str | None = Field(default=None, max_length=64, description="the new owner, for reassign")
    as_of: date | None = None


@router.get("/transitions")
def list_transitions(
    status: str = Query(default="open", pattern="^(open|closed|cancelled|all)$"),
    as_of: date | None = Query(default=None, description="reference date for deadlines; default today"),
    limit: int = Query(default=100, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.LIST_PANEL)),
) -> dict[str, Any]:
    return transitions.worklist(ctx, caller, status, as_of, limit, offset)


@router.get("/checklists/{ref:path}", response_model=None)
def get_checklist(
    ref: str,
    as_of: date | None = Query(default=None, description="reference date for deadlines; default today"),
    encounter: str | None = Query(default=None, max_length=500, description="encounter or episode id"),
    kind: str = Query(default="transition", pattern="^(transition|tcm|awv|ccm|cara_referral)$"),
    output: str = Query(default="json", alias="format", pattern="^(json|markdown|pdf|fhir)$"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.READ_PATIENT)),
) -> dict[str, Any] | Response:
    if output == "json":
        return transitions.checklist(ctx, caller, ref, encounter, as_of, kind)
    rendered = transitions.render(ctx, caller, ref, output, encounter, as_of, kind)
    disposition = "attachment" if output == "pdf" else "inline"
    return Response(rendered.content, media_type=rendered.media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"',
                             "X-Caretrail-Audit-Id": rendered.result["audit_id"]})  # fmt: skip


@router.post("/transitions/{episode_id}/items/{item_id}")
def act_on_item(
    episode_id: str,
    item_id: str,
    body: ItemAction,
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.READ_PATIENT)),
) -> dict[str, Any]:
    return transitions.act(ctx, caller, episode_id, item_id, body.action, body.text or body.reason, body.owner_role,
                           body.as_of)  # fmt: skip
