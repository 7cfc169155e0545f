"""The chat over the API: start a conversation, send a message (answered as server-sent events), read one back, list
your own. Thin: ``assistant.services.chat`` checks the caller, the owner and the panel, and audits every turn before
its first event is sent. Event shapes: docs/chat.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from assistant.api.deps import get_ctx, requires
from assistant.ask import MAX_QUESTION_CHARS
from assistant.context import AppContext
from assistant.services import chat
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["chat"])


class StartRequest(BaseModel):
    patient_id: str | None = Field(default=None, max_length=200, description="optional: the patient it is about")
    role: str | None = Field(
        default=None, max_length=64, description="a view (whose next steps are shown); never grants access"
    )


class MessageRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    as_of: date | None = Field(default=None, description="the day next steps and checklists are computed for")


@router.post("/conversations")
def start_conversation(
    body: StartRequest, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE))
) -> dict[str, Any]:
    return chat.start(ctx, caller, body.patient_id, body.role)


@router.get("/conversations")
def list_conversations(
    limit: int = Query(default=50, ge=1, le=500),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE)),
) -> dict[str, Any]:
    return chat.conversations(ctx, caller, limit)


@router.get("/conversations/{conversation_id}")
def read_conversation(
    conversation_id: str, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE))
) -> dict[str, Any]:
    return chat.read(ctx, caller, conversation_id)


@router.post("/conversations/{conversation_id}/messages", response_class=EventSourceResponse)
def send_message(
    conversation_id: str,
    body: MessageRequest,
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.ASK_KNOWLEDGE)),
) -> EventSourceResponse:
    # Answered, audited and stored before the response starts: a refusal is an ordinary JSON error, never a stream.
    response = chat.send(ctx, caller, conversation_id, body.text, body.as_of)
    return EventSourceResponse(_serialised(chat.events(response)), ping=15)


def _serialised(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, str]]:
    for event in events:
        yield {"event": event["event"], "data": json.dumps(event["data"], ensure_ascii=False, default=str)}
