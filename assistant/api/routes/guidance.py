"""Guidance over the API: GET a patient's items; POST a decision on one item. Same contract as the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import guidance
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["guidance"])


class Decision(BaseModel):
    patient: str = Field(min_length=1, max_length=200, description="the patient the item is for")
    status: Literal["accepted", "dismissed", "completed"]
    reason: str | None = Field(default=None, max_length=1000)
    as_of: date | None = None


@router.get("/patients/{ref}/guidance")
def patient_guidance(
    ref: str,
    role: str | None = Query(default=None, max_length=64, description="whose items come first; never grants access"),
    as_of: date | None = Query(default=None),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.READ_PATIENT)),
) -> dict[str, Any]:
    return guidance.patient_guidance(ctx, caller, ref, role, as_of)


@router.post("/guidance/{item_id}/status")
def decide(item_id: str, body: Decision, ctx: AppContext = Depends(get_ctx),
           caller: Caller = Depends(requires(Action.READ_PATIENT))) -> dict[str, Any]:
    return guidance.decide(ctx, caller, item_id, body.patient, body.status, body.reason, body.as_of)


@router.get("/worklist")
def worklist(
    role: str | None = Query(default=None, max_length=64, description="only the items this role owns"),
    user: str | None = Query(default=None, max_length=200, description="another user's panel (admins)"),
    as_of: date | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=10_000),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.LIST_PANEL)),
) -> dict[str, Any]:
    return guidance.panel_worklist(ctx, caller, role, user, as_of, limit)
