"""API keys for services and scripts: created once, shown once, stored only as a hash, revocable.

A key is ``ctk_`` + 43 characters of URL-safe randomness (256 bits). The prefix lets a secret scanner and
the authenticator tell a key from an OIDC token; the stored sha256 is useless to whoever copies the
database. Keys are looked up by that hash, so verification costs one indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.auth.tables import ApiKeyTable, SessionTable
from assistant.errors import BadRequest, Conflict, NotFound
from assistant.services.caller import PanelScope

KEY_PREFIX = "ctk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ApiKey:
    name: str
    prefix: str
    role: str
    user: str
    panel: PanelScope
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _key(row: ApiKeyTable) -> ApiKey:
    return ApiKey(row.name, row.prefix, row.role, row.user_id, PanelScope.from_json(row.panel), row.created_at,
                  row.revoked_at)


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, role: str, user: str, panel: PanelScope) -> tuple[str, ApiKey]:
        """Return (secret, key). The secret exists only in this return value."""
        if not _NAME.match(name):
            raise BadRequest(f"key name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyTable(name=name, key_hash=hash_secret(secret), prefix=secret[:10], role=role, user_id=user,
                          panel=panel.to_json(), created_at=datetime.now(UTC), revoked_at=None)
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise Conflict(f"a key named {name!r} already exists (revoked keys keep their name)") from None
        return secret, _key(row)

    def verify(self, secret: str) -> ApiKey | None:
        """The active key this secret belongs to, or None."""
        if not secret.startswith(KEY_PREFIX):
            return None
        with Session(self.engine) as session:
            row = session.scalars(select(ApiKeyTable).where(ApiKeyTable.key_hash == hash_secret(secret))).first()
            if row is None or row.revoked_at is not None:
                return None
            return _key(row)

    def get(self, name: str) -> ApiKey | None:
        with Session(self.engine) as session:
            row = session.get(ApiKeyTable, name)
            return _key(row) if row else None

    def list(self) -> list[ApiKey]:
        with Session(self.engine) as session:
            return [_key(row) for row in session.scalars(select(ApiKeyTable).order_by(ApiKeyTable.name))]

    def revoke(self, name: str) -> ApiKey:
        """Revoke the key and end every session signed in with it, in one transaction."""
        now = datetime.now(UTC)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            row = session.get(ApiKeyTable, name)
            if row is None:
                raise NotFound(f"no key named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = now
            session.execute(
                update(SessionTable).where(SessionTable.key_name == name, SessionTable.ended_at.is_(None))
                .values(ended_at=now)
            )
            session.flush()
            return _key(row)
