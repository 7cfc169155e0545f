"""The transition episode table: one row per patient and discharge.

Why a table and not a query: an episode gathers several sources that describe one discharge (the A03, the
discharge summary, the FHIR Encounter), keeps its id while they arrive in any order, and remembers an A13 that
cancelled it. Rows are rebuilt from the records by ``assistant.transitions.episodes.sync``, so the table never
holds a fact the records do not show; ``opened_at`` is the one thing it adds (when Caretrail first saw it).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text
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
