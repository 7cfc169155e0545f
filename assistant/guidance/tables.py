"""Decisions on guidance items: accepted, dismissed (with a reason) or completed, by whom and when.

Keyed by the item id, which changes when the item's evidence changes: a decision covers the evidence it was made
on, and new evidence brings the item back."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class GuidanceStatusTable(Base):
    __tablename__ = "guidance_status"

    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # "accepted" | "dismissed" | "completed"
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_id: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GuidanceCacheTable(Base):
    """Each patient's computed items for one as-of date and one version of their records.

    Why stored: a worklist over a 10,000-patient panel must be a query, not 10,000 rule runs. A patient's row is
    recomputed only when their records changed (the version moves) or the as-of date differs.
    """

    __tablename__ = "guidance_cache"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    records_version: Mapped[str] = mapped_column(String(64))
    items: Mapped[list] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
