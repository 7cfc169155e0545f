"""Write and verify the hash chain.

Each row's hash is sha256(previous hash + canonical JSON of the row). Canonical JSON (sorted keys,
no whitespace, UTF-8) makes the hash independent of the database's JSON formatting. A head file in
the data dir records the latest row, so deleting rows from the end of the chain is caught too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.audit.tables import AuditRow

GENESIS = "0" * 64
_RETRIES = 20
# Threads of one process append one at a time: with a dozen request threads racing for the same head, optimistic
# retries alone let a thread lose twenty times in a row on a loaded machine (seen in the test suite) and fail its
# request. The retries remain for other processes (API workers, the ADT listener) writing the same log.
_APPEND_LOCKS: dict[str, threading.Lock] = {}
_APPEND_LOCKS_GUARD = threading.Lock()


def _append_lock(engine: Engine) -> threading.Lock:
    key = engine.url.render_as_string(hide_password=True)
    with _APPEND_LOCKS_GUARD:
        return _APPEND_LOCKS.setdefault(key, threading.Lock())


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_body(audit_id: str, created_at: str, event: str, user: str, role: str | None,
             patient_id: str | None, payload: dict, prev_hash: str) -> dict[str, Any]:
    return {
        "audit_id": audit_id,
        "created_at": created_at,
        "event": event,
        "user": user,
        "role": role,
        "patient_id": patient_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, engine: Engine, head_file: Path | None = None) -> None:
        self.engine = engine
        self.head_file = head_file

    def _head(self, session: Session) -> AuditRow | None:
        return session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()

    def append(self, event: str, user: str, role: str | None, patient_id: str | None, payload: dict) -> str:
        """Append one row and return its audit id. Raises if the row cannot be written."""
        payload = json.loads(canonical_json(payload))  # exactly what will be read back
        with _append_lock(self.engine):
            return self._append(event, user, role, patient_id, payload)

    def _append(self, event: str, user: str, role: str | None, patient_id: str | None, payload: dict) -> str:
        for _attempt in range(_RETRIES):
            audit_id = str(uuid.uuid4())
            created_at = datetime.now(UTC).isoformat(timespec="microseconds")
            try:
                with Session(self.engine) as session, session.begin():
                    head = self._head(session)
                    prev_hash = head.hash if head else GENESIS
                    body = row_body(audit_id, created_at, event, user, role, patient_id, payload, prev_hash)
                    row = AuditRow(
                        audit_id=audit_id,
                        created_at=created_at,
                        event=event,
                        user=user,
                        role=role,
                        patient_id=patient_id,
                        payload=payload,
                        prev_hash=prev_hash,
                        hash=chain_hash(prev_hash, body),
                    )
                    session.add(row)
                    session.flush()
                    seq, digest = row.seq, row.hash
            except IntegrityError:
                continue  # another writer extended the chain first; re-read the head and retry
            self._write_head(seq, digest)
            return audit_id
        raise RuntimeError("could not append to the audit log: the chain head kept moving")

    def _write_head(self, seq: int, digest: str) -> None:
        if self.head_file is None:
            return
        self.head_file.parent.mkdir(parents=True, exist_ok=True)
        # Requests are served by threads and workers at once: the compare and the replace happen under an
        # exclusive lock (flock is per open file, so it serializes threads of one process as well as workers),
        # or a slower writer could move the head back, or rename a temporary file another thread just renamed.
        lock_path = self.head_file.with_name(self.head_file.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self._read_head()
            if current and current[0] >= seq:
                return
            tmp = self.head_file.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(f"{seq} {digest}\n", encoding="ascii")
            os.replace(tmp, self.head_file)

    def _read_head(self) -> tuple[int, str] | None:
        if self.head_file is None or not self.head_file.exists():
            return None
        seq, digest = self.head_file.read_text(encoding="ascii").split()
        return int(seq), digest

    def rows(self) -> list[AuditRow]:
        with Session(self.engine) as session:
            rows = list(session.scalars(select(AuditRow).order_by(AuditRow.seq)))
            session.expunge_all()
            return rows

    def get(self, audit_id: str) -> AuditRow | None:
        with Session(self.engine) as session:
            row = session.scalars(select(AuditRow).where(AuditRow.audit_id == audit_id)).first()
            if row is not None:
                session.expunge(row)
            return row

    def verify(self) -> VerifyResult:
        prev_hash = GENESIS
        count = 0
        last: AuditRow | None = None
        for row in self.rows():
            count += 1
            body = row_body(row.audit_id, row.created_at, row.event, row.user, row.role, row.patient_id,
                            row.payload, row.prev_hash)
            if row.prev_hash != prev_hash:
                return VerifyResult(False, count, row.seq, "previous-hash link broken (a row before it was "
                                    "altered, removed or inserted)")
            if chain_hash(prev_hash, body) != row.hash:
                return VerifyResult(False, count, row.seq, "row content does not match its hash (row altered)")
            prev_hash = row.hash
            last = row
        head = self._read_head()
        if head is not None:
            head_seq, head_hash = head
            if last is None or last.seq < head_seq:
                return VerifyResult(False, count, head_seq, "rows at the end of the log are missing (truncated)")
            if last.seq == head_seq and last.hash != head_hash:
                return VerifyResult(False, count, head_seq, "last row does not match the recorded head")
        return VerifyResult(True, count, None, None)


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    broken_seq: int | None
    reason: str | None


def audit_log_for(ctx: Any) -> AuditLog:
    return AuditLog(ctx.engine, ctx.settings.resolved_data_dir / "audit.head")
