"""POST /v1/redact: the same contract as `caretrail redact --json`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from assistant.redaction.contract import redact_contract

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


@router.post("/v1/redact", response_model=RedactResponse, response_model_by_alias=True)
def redact_route(request: RedactRequest) -> dict[str, object]:
    return redact_contract(request.text, request.mode)
