"""The transition tables: one row per patient and discharge, what people did to its checklist items, and the
stored worklist row of each episode.

Why a table and not a query: an episode gathers several sources that describe one discharge (the A03, the
discharge summary, the FHIR Encounter), keeps its id while they arrive in any order, and remembers an A13 that
cancelled it. Rows are rebuilt from the records by ``assistant.transitions.episodes.sync``, so the table never
holds a fact the records do not show; ``opened_at`` is the one thing it adds (when Caretrail first saw it).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class TransitionEpisodeTable(Base):
    __tablename__ = "transition_episodes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    discharge_date: Mapped[date] = mapped_column(Date)
    discharged_at: Mapped[str | None] = mapped_column(String(40), nullable=True)  # ISO, with the source's offset
    admitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    encounter_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    facility: Mapped[str | None] = mapped_column(Text, nullable=True)
    disposition: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # "open" | "cancelled"
    encounter_ids: Mapped[list] = mapped_column(JSON, default=list)
    sources: Mapped[list] = mapped_column(JSON, default=list)  # one citation per record that described it
    cancelled_by: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the A13's citation
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_transition_episodes_patient_date", "patient_id", "discharge_date"),)


class TransitionItemActionTable(Base):
    """What a person did to a checklist item: checked it off, added a note, reassigned it, waived it (with a reason)
    or reopened it. Append-only: the item's state is these rows applied in order over what the record shows, and
    each row names the audit row written for it, so a check-off can be proved afterwards."""

    __tablename__ = "transition_item_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("transition_episodes.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # "check" | "note" | "reassign" | "waive" | "reopen"
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the note, or the reason for a waiver
    owner_role: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the new owner of a reassignment
    user_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    audit_id: Mapped[str] = mapped_column(String(64))


class TransitionSummaryTable(Base):
    """What the worklist shows of one episode, stored so the worklist is one sorted, limited query.

    Why stored: building a checklist reads the patient's records (tens of milliseconds); a worklist of 10,000
    episodes cannot build them all per request. A row is computed for an as-of date and stays valid for later dates
    until ``valid_until`` (the first date after it on which a record of the patient is dated, e.g. a booked visit:
    only such a date can change what is done), unless marked ``stale`` (the patient's records changed, or a person
    acted on an item). Overdue counts are derived from ``open_dues`` at query time, so they follow the date."""

    __tablename__ = "transition_summaries"

    episode_id: Mapped[str] = mapped_column(ForeignKey("transition_episodes.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    discharge_date: Mapped[date] = mapped_column(Date)
    episode_status: Mapped[str] = mapped_column(String(16))  # "open" | "cancelled"
    complete: Mapped[bool] = mapped_column(Boolean)  # every required item done, waived or not applicable
    next_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_item: Mapped[str | None] = mapped_column(String(80), nullable=True)
    next_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    open_dues: Mapped[list] = mapped_column(JSON, default=list)  # ISO due dates of the items still to do
    open_items: Mapped[int] = mapped_column(Integer)
    complexity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    facility: Mapped[str | None] = mapped_column(Text, nullable=True)
    encounter_ids: Mapped[list] = mapped_column(JSON, default=list)
    missing: Mapped[list] = mapped_column(JSON, default=list)
    computed_as_of: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_transition_summaries_worklist", "episode_status", "complete", "next_due"),)


class TransitionSyncTable(Base):
    """The ingest ledger as the episodes last saw it (document count and newest ingest time): when it moves, the
    patients of the documents ingested since are synced again before a worklist is read. One row."""

    __tablename__ = "transition_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)
    latest: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
