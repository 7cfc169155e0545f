"""Conversations and their turns.

Why tables: a conversation is read back by its owner (the side panel reopens it, the CLI continues it), and a
follow-up ("and her BP?") is resolved from the turns before it, so the turns must outlive the request. Each turn
keeps what was typed, what it was resolved to, how it was routed and exactly what was shown, with the audit id of
the row written before it was shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class ConversationTable(Base):
    __tablename__ = "chat_conversations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), index=True)  # the owner: nobody else reads it
    caller_role: Mapped[str] = mapped_column(String(64))  # the role the owner signed in with
    role: Mapped[str] = mapped_column(String(64))  # the view answers are given from (whose next steps)
    patient_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatTurnTable(Base):
    __tablename__ = "chat_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # as typed
    resolved: Mapped[str] = mapped_column(Text)  # after follow-up resolution: what was classified and answered
    intent: Mapped[str] = mapped_column(String(32))
    routing: Mapped[dict] = mapped_column(JSON)  # how the intent was decided and how the follow-up was resolved
    response: Mapped[dict] = mapped_column(JSON)  # exactly what the final event carried
    audit_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_chat_turns_seq"),)
