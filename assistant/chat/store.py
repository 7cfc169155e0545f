"""Reading and writing conversations as plain dataclasses (no ORM object leaves this module)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.chat.tables import ChatTurnTable, ConversationTable
from assistant.errors import Conflict


@dataclass(frozen=True)
class Conversation:
    id: str
    user_id: str
    caller_role: str
    role: str
    patient_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Turn:
    seq: int
    text: str
    resolved: str
    intent: str
    routing: dict[str, Any]
    response: dict[str, Any]
    audit_id: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "turn": self.seq,
            "text": self.text,
            "resolved_question": self.resolved,
            "intent": self.intent,
            "routing": self.routing,
            "response": self.response,
            "audit_id": self.audit_id,
            "created_at": self.created_at.isoformat(),
        }


def new_id() -> str:
    return "cv-" + uuid.uuid4().hex


def _conversation(row: ConversationTable) -> Conversation:
    return Conversation(row.id, row.user_id, row.caller_role, row.role, row.patient_id, row.created_at, row.updated_at)


def create(
    engine: Engine, conversation_id: str, user_id: str, caller_role: str, role: str, patient_id: str | None
) -> Conversation:
    now = datetime.now(UTC)
    row = ConversationTable(
        id=conversation_id,
        user_id=user_id,
        caller_role=caller_role,
        role=role,
        patient_id=patient_id,
        created_at=now,
        updated_at=now,
    )
    with Session(engine) as session, session.begin():
        session.add(row)
    return Conversation(conversation_id, user_id, caller_role, role, patient_id, now, now)


def get(engine: Engine, conversation_id: str) -> Conversation | None:
    with Session(engine) as session:
        row = session.get(ConversationTable, conversation_id)
        return _conversation(row) if row is not None else None


def owned_by(engine: Engine, user_id: str, limit: int = 100) -> list[Conversation]:
    """The user's conversations, the most recently used first."""
    with Session(engine) as session:
        query = (
            select(ConversationTable)
            .where(ConversationTable.user_id == user_id)
            .order_by(ConversationTable.updated_at.desc(), ConversationTable.id)
            .limit(limit)
        )
        return [_conversation(row) for row in session.scalars(query)]


def turns(engine: Engine, conversation_id: str) -> list[Turn]:
    with Session(engine) as session:
        query = (
            select(ChatTurnTable).where(ChatTurnTable.conversation_id == conversation_id).order_by(ChatTurnTable.seq)
        )
        return [
            Turn(r.seq, r.text, r.resolved, r.intent, r.routing, r.response, r.audit_id, r.created_at)
            for r in session.scalars(query)
        ]


def next_seq(engine: Engine, conversation_id: str) -> int:
    with Session(engine) as session:
        query = select(func.max(ChatTurnTable.seq)).where(ChatTurnTable.conversation_id == conversation_id)
        return int(session.scalar(query) or 0) + 1


def add_turn(
    engine: Engine,
    conversation_id: str,
    seq: int,
    text: str,
    resolved: str,
    intent: str,
    routing: dict[str, Any],
    response: dict[str, Any],
    audit_id: str,
) -> Turn:
    """Store a turn under the number it was answered as; a second turn answered at the same moment is refused
    (409) rather than renumbered, since its answer may have resolved a follow-up against the wrong turn."""
    now = datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            session.add(
                ChatTurnTable(
                    conversation_id=conversation_id,
                    seq=seq,
                    text=text,
                    resolved=resolved,
                    intent=intent,
                    routing=routing,
                    response=response,
                    audit_id=audit_id,
                    created_at=now,
                )
            )
            conversation = session.get(ConversationTable, conversation_id)
            if conversation is not None:
                conversation.updated_at = now
    except IntegrityError:
        raise Conflict("another message of this conversation was answered at the same time; send it again") from None
    return Turn(seq, text, resolved, intent, routing, response, audit_id, now)
