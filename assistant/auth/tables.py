"""SQL tables of identity: API keys (hashes only), server-side sessions.

Why hashes only: a stolen database or backup must not hand out working credentials. Keys and session
tokens are 256-bit random strings, so a plain sha256 is enough to make the stored value useless (no
password stretching is needed for secrets nobody chose). Why server-side sessions: a session can be
revoked at once (sign-out, a revoked key) and the cookie carries nothing but a random handle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class ApiKeyTable(Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings so an operator can tell keys apart
    role: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(200))
    panel: Mapped[dict] = mapped_column(JSON)  # {"all": true} | {"patients": [...]} | {} (the user's own panel)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SessionTable(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    auth: Mapped[str] = mapped_column(String(32))  # how the person signed in: "api_key" or "oidc"
    credential: Mapped[str | None] = mapped_column(Text, nullable=True)  # the key's name, or the token's issuer
    key_name: Mapped[str | None] = mapped_column(
        ForeignKey("api_keys.name", ondelete="CASCADE"), nullable=True, index=True
    )
    panel: Mapped[dict] = mapped_column(JSON)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

