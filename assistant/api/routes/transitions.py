"""Transitions: the worklist of discharges on the caller's panel and one discharge's checklist.

The checklist lives at ``/v1/checklists/{ref}`` rather than under ``/v1/patients/{ref}``: that route takes the
rest of the path as the patient reference (MBIs and keys may hold slashes), so it would swallow a suffix.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import transitions
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["transitions"])


@router.get("/transitions")
def list_transitions(
    status: str = Query(default="open", pattern="^(open|closed|cancelled|all)$"),
    as_of: date | None = Query(default=None, description="reference date for deadlines; default today"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.LIST_PANEL)),
) -> dict[str, Any]:
    return transitions.worklist(ctx, caller, status, as_of)


@router.get("/checklists/{ref:path}")
def get_checklist(
    ref: str,
    as_of: date | None = Query(default=None, description="reference date for deadlines; default today"),
    encounter: str | None = Query(default=None, max_length=500, description="encounter or episode id"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.READ_PATIENT)),
) -> dict[str, Any]:
    return transitions.checklist(ctx, caller, ref, encounter, as_of)
