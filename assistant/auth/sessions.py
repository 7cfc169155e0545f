"""Server-side sessions for the side panel: the cookie holds a random handle, the row holds the caller.

Why server-side: signing out, revoking the key a session was opened with, or an expiry ends the session
at once, on every worker. Each session has its own CSRF token, which the panel sends back in a header on
every request that changes something; a page on another site can make the browser send the cookie but
cannot read the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from assistant.auth.apikeys import hash_secret
from assistant.auth.tables import ApiKeyTable, SessionTable
from assistant.services.caller import Caller, PanelScope

COOKIE_NAME = "caretrail_session"


@dataclass(frozen=True)
class SignedIn:
    caller: Caller
    csrf_token: str
    expires_at: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite returns naive datetimes


class SessionStore:
    def __init__(self, engine: Engine, ttl: timedelta) -> None:
        self.engine = engine
        self.ttl = ttl

    def start(self, caller: Caller) -> tuple[str, SignedIn]:
        """Open a session for a caller who just proved who they are; returns (cookie token, session)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = SessionTable(
            token_hash=hash_secret(token), user_id=caller.user, role=caller.role, auth=caller.auth,
            credential=caller.credential, key_name=caller.credential if caller.auth == "api_key" else None,
            panel=caller.panel.to_json(), csrf_token=csrf, created_at=now, expires_at=now + self.ttl,
        )
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
        return token, self._signed_in(row, caller.client)

    def lookup(self, token: str, client: str | None) -> SignedIn | None:
        """The live session for this cookie: not ended, not expired, and its key (if any) not revoked."""
        with Session(self.engine) as session:
            row = session.get(SessionTable, hash_secret(token))
            if row is None or row.ended_at is not None or _aware(row.expires_at) <= datetime.now(UTC):
                return None
            if row.key_name is not None:
                key = session.get(ApiKeyTable, row.key_name)
                if key is None or key.revoked_at is not None:
                    return None
            return self._signed_in(row, client)

    def end(self, token: str) -> None:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.execute(
                update(SessionTable).where(SessionTable.token_hash == hash_secret(token)).values(
                    ended_at=datetime.now(UTC)
                )
            )

    @staticmethod
    def _signed_in(row: SessionTable, client: str | None) -> SignedIn:
        caller = Caller(user=row.user_id, role=row.role, auth="session", panel=PanelScope.from_json(row.panel),
                        credential=row.credential, client=client)
        return SignedIn(caller, row.csrf_token, _aware(row.expires_at))
