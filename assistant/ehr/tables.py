"""What the EHR integration remembers: JWT ids already used, the cards it returned, the feedback on them, and the
SMART launches under way.

Why each is stored:
- ``ehr_jwt_ids``: a CDS Hooks JWT is a bearer credential; keeping its ``jti`` until it expires is what makes a
  captured token useless a second time (the specification's replay protection).
- ``cds_cards``: feedback names only a card's uuid; the row says which patient, guidance item or checklist, user
  and EHR the card was for, so feedback is checked against the same panel and applied to the same item.
- ``cds_feedback``: what the EHR's user did with a card (accepted or overridden, with the reason).
- ``smart_launches``: the OAuth ``state`` of a launch, bound to the browser that started it, used once, with the
  PKCE verifier and the endpoints found by discovery; nothing about it travels through the browser but the state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class EhrJwtIdTable(Base):
    __tablename__ = "ehr_jwt_ids"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CdsCardTable(Base):
    __tablename__ = "cds_cards"

    card_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100))
    hook_instance: Mapped[str] = mapped_column(String(200))
    ehr: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the EhrSystem name; None for an API key
    user_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "guidance" | "checklist"
    item_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the guidance item or the episode
    suggestions: Mapped[dict] = mapped_column(JSON)  # suggestion uuid -> what accepting it means
    audit_id: Mapped[str] = mapped_column(String(36))  # the audit row of the response that carried the card
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CdsFeedbackTable(Base):
    __tablename__ = "cds_feedback"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # "accepted" | "overridden"
    accepted_suggestions: Mapped[list] = mapped_column(JSON)
    override_reason: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    outcome_timestamp: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(200))
    audit_id: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmartLaunchTable(Base):
    __tablename__ = "smart_launches"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the OAuth state
    browser_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the cookie that binds it to one browser
    ehr: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # "ehr" | "standalone"
    discovery: Mapped[dict] = mapped_column(JSON)  # the endpoints and keys URL from .well-known/smart-configuration
    client_state: Mapped[dict] = mapped_column(JSON)  # fhirclient's state: PKCE verifier, redirect URI, scope
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
