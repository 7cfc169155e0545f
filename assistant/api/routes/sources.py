"""GET /v1/sources/{chunk_id}: open a citation, with the surrounding source text for context."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import sources
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["sources"])


@router.get("/sources/{chunk_id:path}")
def open_source(
    chunk_id: str,
    start: int | None = Query(default=None, ge=0),
    end: int | None = Query(default=None, ge=0),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE)),
) -> dict[str, Any]:
    return sources.open_source(ctx, caller, chunk_id, start, end)
