"""Decisions on guidance items: accepted, dismissed (with a reason) or completed, by whom and when.

Keyed by the item id, which changes when the item's evidence changes: a decision covers the evidence it was made
on, and new evidence brings the item back."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, Text
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


class GuidanceComputedTable(Base):
    """For which as-of date and which records version each patient's items were last computed.

    Why stored: a worklist over a 10,000-patient panel must be a query, not 10,000 rule runs. A patient is
    recomputed only when their records version moved (ingest sets it, ``RecordsVersionTable``) or the day differs.
    """

    __tablename__ = "guidance_computed"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    records_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GuidanceItemTable(Base):
    """One row per computed item, with the columns the worklist filters and sorts on.

    Why a row per item rather than a JSON list per patient: the database then ranks and limits the open items of a
    whole panel (``ORDER BY due, priority ... LIMIT``) and counts them per rule, instead of Python reading every
    patient's items to show the first hundred.
    """

    __tablename__ = "guidance_items"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(64))
    owner_role: Mapped[str] = mapped_column(String(64))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    priority_rank: Mapped[int] = mapped_column(Integer)  # index in PRIORITIES: 0 is the most urgent
    item: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (Index("ix_guidance_items_item", "item_id"),)
