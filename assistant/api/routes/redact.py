"""POST /v1/redact: the same contract as `caretrail redact --json`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import redaction
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(tags=["redaction"])


class RedactRequest(BaseModel):
    text: str = Field(..., max_length=1_000_000)
    mode: Literal["redact", "pseudonymize"] = "redact"


class RedactedEntity(BaseModel):
    type: str
    start: int
    end: int
    score: float
    recognizer: str


class RedactResponse(BaseModel):
    schema_: str = Field(alias="schema", serialization_alias="schema")
    mode: str
    text: str
    entities: list[RedactedEntity]
    audit_id: str


@router.post("/v1/redact", response_model=RedactResponse, response_model_by_alias=True)
def redact_route(request: RedactRequest, ctx: AppContext = Depends(get_ctx),
                 caller: Caller = Depends(requires(Action.REDACT))) -> dict[str, object]:
    return redaction.redact(ctx, caller, request.text, request.mode)
