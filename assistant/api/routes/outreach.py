"""Patient outreach over the API: draft a message, read and review a draft, the letter PDF, and patients' replies
(from an SMS or portal gateway). Same contracts as the CLI; nothing here sends a message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import outreach
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["outreach"])


class DraftRequest(BaseModel):
    purpose: str = Field(min_length=1, max_length=40)
    language: str | None = Field(default=None, max_length=16, description="default: the record's language")
    channel: Literal["sms", "letter", "portal"] = "sms"
    as_of: date | None = None
    text: str | None = Field(default=None, max_length=1000, description="the care team's words (free_text only)")


class Review(BaseModel):
    action: Literal["edit", "approve", "reject"]
    text: str | None = Field(default=None, max_length=2000)
    english_text: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=1000)


class Reply(BaseModel):
    patient: str = Field(min_length=1, max_length=200, description="the patient who replied")
    text: str = Field(min_length=1, max_length=2000)
    channel: Literal["sms", "letter", "portal"] = "sms"
    received_at: datetime | None = None


@router.post("/patients/{ref}/outreach")
def draft(
    ref: str,
    body: DraftRequest,
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.OUTREACH_DRAFT)),
) -> dict[str, Any]:
    return outreach.create_draft(ctx, caller, ref, body.purpose, body.language, body.channel, body.as_of, body.text)


@router.get("/outreach/drafts/{draft_id}")
def get_draft(
    draft_id: str, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(requires(Action.OUTREACH_DRAFT))
) -> dict[str, Any]:
    return outreach.get_draft(ctx, caller, draft_id)


@router.post("/outreach/drafts/{draft_id}")
def review(
    draft_id: str,
    body: Review,
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.OUTREACH_REVIEW)),
) -> dict[str, Any]:
    return outreach.review(ctx, caller, draft_id, body.action, body.text, body.english_text, body.reason)


@router.get("/outreach/drafts/{draft_id}/letter.pdf")
def letter(
    draft_id: str, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(requires(Action.OUTREACH_DRAFT))
) -> Response:
    pdf, audit_id = outreach.letter_pdf(ctx, caller, draft_id)
    return Response(pdf, media_type="application/pdf", headers={"X-Caretrail-Audit-Id": audit_id})


@router.post("/outreach/replies")
def reply(
    body: Reply, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(requires(Action.OUTREACH_DRAFT))
) -> dict[str, Any]:
    return outreach.record_reply(ctx, caller, body.patient, body.text, body.channel, body.received_at)
