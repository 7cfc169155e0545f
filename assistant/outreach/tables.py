"""Outreach state: drafts and their review, patients' opt-outs, and translators' approvals of template files.

Why tables and not files: a draft's review (who edited what, who approved or rejected it and when) and an opt-out
(when, on which channel, in which words) are facts that later drafts and audits must find; an approval covers one
version and content hash of one template file, so an edited file is unapproved until someone approves it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class OutreachDraftTable(Base):
    __tablename__ = "outreach_drafts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    review_status: Mapped[str] = mapped_column(String(16))  # "needs_review" | "approved" | "rejected"
    text: Mapped[str] = mapped_column(Text)
    english_text: Mapped[str] = mapped_column(Text)
    draft: Mapped[dict] = mapped_column(JSON)  # the whole contract as last shown (gates, citations, notes)
    edits: Mapped[list] = mapped_column(JSON, default=list)  # [{by, at, field, diff, audit_id}]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutreachOptOutTable(Base):
    """One revocation of consent, as the patient sent it; the latest row per patient and channel decides."""

    __tablename__ = "outreach_optouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    keyword: Mapped[str] = mapped_column(String(80))
    reply: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    audit_id: Mapped[str] = mapped_column(String(64))


class OutreachTemplateApprovalTable(Base):
    __tablename__ = "outreach_template_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(200))  # the qualified translator (or reviewer) named
    recorded_by: Mapped[str] = mapped_column(String(200))  # who entered it
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    audit_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("purpose", "language", "version", "sha256"),)
