"""POST /v1/ask: the same contract as `caretrail ask --json`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.ask import MAX_QUESTION_CHARS
from assistant.context import AppContext
from assistant.services import answers
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    patient_id: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=64,
                             description="a view (whose perspective to answer from); never grants access")


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    sha256: str
    quote: str
    source_uri: str
    chunk_id: str
    chunk_sha256: str
    patient_id: str | None = None
    source_urls: list[str] = []
    # A citation of the structured record (an answer from assistant.record_answers): chunk_id is then
    # "record:<document>/<kind>/<id>", which GET /v1/sources opens like a chunk.
    type: str | None = None
    document_id: str | None = None
    record_id: str | None = None
    kind: str | None = None
    resource_type: str | None = None
    source_path: str | None = None
    format: str | None = None
    locator: str | None = None
    fields: dict[str, Any] | None = None
    index_chunk_id: str | None = None


class Sentence(BaseModel):
    text: str
    citations: list[int]


class AskResponse(BaseModel):
    schema_: str = Field(alias="schema", serialization_alias="schema")
    answer: str
    sentences: list[Sentence]
    citations: list[Citation]
    abstained: bool
    audit_id: str
    patient_id: str | None = None
    source: str | None = None  # "record" when answered from the structured record
    record_question: dict[str, Any] | None = None  # what the record engine looked up

    model_config = {"populate_by_name": True}


@router.post("/ask", response_model=AskResponse, response_model_by_alias=True)
def post_ask(body: AskRequest, ctx: AppContext = Depends(get_ctx),
             caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE))) -> Any:
    return answers.ask(ctx, caller, body.question, patient_ref=body.patient_id, view=body.role)
