"""The audit table, with database triggers that refuse UPDATE and DELETE.

Why triggers as well as a hash chain: triggers stop accidental or casual edits through the
application's own connection; the chain (verified by ``caretrail audit verify``) detects edits made
by anyone who bypasses them.
"""

from __future__ import annotations

from sqlalchemy import DDL, JSON, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audit_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    patient_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    # Unique: two writers that raced on the same head cannot both extend it; the loser retries.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


_SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
_POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]

for _statement in _SQLITE_TRIGGERS:
    event.listen(AuditRow.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _POSTGRES_TRIGGERS:
    event.listen(AuditRow.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
