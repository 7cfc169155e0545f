"""Panels over the API: list a user's panel (your own, or anyone's for an admin) and assign patients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import panels
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["panels"])


class Assignment(BaseModel):
    patients: list[str] = Field(min_length=1, max_length=1000, description="patient references")


@router.get("/panels/{user}")
def list_panel(user: str, ctx: AppContext = Depends(get_ctx),
               caller: Caller = Depends(requires(Action.LIST_PANEL))) -> dict[str, Any]:
    return panels.list_panel(ctx, caller, user)


@router.post("/panels/{user}")
def assign(user: str, body: Assignment, ctx: AppContext = Depends(get_ctx),
           caller: Caller = Depends(requires(Action.MANAGE_PANELS))) -> dict[str, Any]:
    return panels.assign(ctx, caller, user, body.patients)
