"""The review workflow: a draft starts ``needs_review``; a care-team user edits it (the diff is kept), approves it
or rejects it. Nothing is ever sent from here: an approved draft is emitted as a FHIR Communication and a gateway
payload for whoever sends it.

Also the translators' approvals of template files, recorded against the file's version and content hash.
"""

from __future__ import annotations

import difflib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.errors import BadRequest, Conflict, NotFound
from assistant.outreach.tables import OutreachDraftTable, OutreachTemplateApprovalTable
from assistant.outreach.templates import Template

NEEDS_REVIEW = "needs_review"
APPROVED = "approved"
REJECTED = "rejected"
ACTIONS = ("edit", "approve", "reject")


def new_id() -> str:
    return "od-" + uuid.uuid4().hex[:20]


def save(engine: Engine, draft_id: str, draft: dict[str, Any], user: str) -> None:
    with Session(engine) as session, session.begin():
        session.add(OutreachDraftTable(
            id=draft_id, patient_id=draft["patient_id"], purpose=draft["purpose"], language=draft["language"],
            channel=draft["channel"], review_status=NEEDS_REVIEW, text=draft["text"],
            english_text=draft["english_text"], draft=draft, edits=[], created_by=user, created_at=datetime.now(UTC),
        ))  # fmt: skip


def get(engine: Engine, draft_id: str) -> OutreachDraftTable:
    with Session(engine) as session:
        row = session.get(OutreachDraftTable, draft_id[:40])
        if row is None:
            raise NotFound(f"no outreach draft {draft_id[:40]!r}")
        session.expunge(row)
        return row


def diff(before: str, after: str, label: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), f"{label} (before)", f"{label} (after)", lineterm=""
        )
    )


def _require_open(row: OutreachDraftTable) -> None:
    if row.review_status != NEEDS_REVIEW:
        raise Conflict(f"draft {row.id} is already {row.review_status}; make a new draft to change it")


def edit(
    engine: Engine, draft_id: str, field: str, new_text: str, updated: dict[str, Any], user: str, audit_id: str
) -> dict[str, Any]:
    """Replace the text (or the English text) with a reviewer's edit; the draft stays ``needs_review``."""
    if field not in ("text", "english_text"):
        raise BadRequest("edit the text or the english_text")
    with Session(engine) as session, session.begin():
        row = session.get(OutreachDraftTable, draft_id)
        if row is None:
            raise NotFound(f"no outreach draft {draft_id[:40]!r}")
        _require_open(row)
        before = getattr(row, field)
        change = {
            "by": user,
            "at": datetime.now(UTC).isoformat(),
            "field": field,
            "diff": diff(before, new_text, field),
            "audit_id": audit_id,
        }
        setattr(row, field, new_text)
        row.draft = updated
        row.edits = [*row.edits, change]
        return change


def decide(engine: Engine, draft_id: str, status: str, user: str, reason: str | None) -> OutreachDraftTable:
    with Session(engine) as session, session.begin():
        row = session.get(OutreachDraftTable, draft_id)
        if row is None:
            raise NotFound(f"no outreach draft {draft_id[:40]!r}")
        _require_open(row)
        row.review_status = status
        row.reviewed_by = user
        row.reviewed_at = datetime.now(UTC)
        row.review_reason = reason
        row.draft = {**row.draft, "review_status": status}
        session.flush()
        session.expunge(row)
        return row


def shown(row: OutreachDraftTable) -> dict[str, Any]:
    """The draft as the reviewer sees it now: the stored contract with its current text and review."""
    return {
        **row.draft,
        "draft_id": row.id,
        "text": row.text,
        "english_text": row.english_text,
        "review_status": row.review_status,
        "edits": list(row.edits),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "reviewed_by": row.reviewed_by,
        "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None,
        "review_reason": row.review_reason,
    }


# -- template approvals ---------------------------------------------------------------------------------


def template_approval(engine: Engine, template: Template) -> dict[str, Any] | None:
    """The approval that covers this exact file (version and content), or None."""
    with Session(engine) as session:
        row = session.scalars(
            select(OutreachTemplateApprovalTable)
            .where(
                OutreachTemplateApprovalTable.purpose == template.purpose,
                OutreachTemplateApprovalTable.language == template.language,
                OutreachTemplateApprovalTable.version == template.version,
                OutreachTemplateApprovalTable.sha256 == template.sha256,
            )
            .order_by(OutreachTemplateApprovalTable.approved_at.desc())
        ).first()
    if row is None:
        return None
    return {
        "approved_by": row.approved_by,
        "recorded_by": row.recorded_by,
        "approved_at": row.approved_at.isoformat(),
        "version": row.version,
        "sha256": row.sha256,
        "audit_id": row.audit_id,
    }


def approve_template(engine: Engine, template: Template, approved_by: str, recorded_by: str, audit_id: str) -> None:
    if template_approval(engine, template) is not None:
        raise Conflict(f"{template.ref} (sha256 {template.sha256[:12]}) is already approved")
    with Session(engine) as session, session.begin():
        session.add(
            OutreachTemplateApprovalTable(
                purpose=template.purpose,
                language=template.language,
                version=template.version,
                sha256=template.sha256,
                approved_by=approved_by,
                recorded_by=recorded_by,
                approved_at=datetime.now(UTC),
                audit_id=audit_id,
            )
        )
