"""Encrypted-at-rest store for pseudonym mappings and per-patient date offsets.

Why encrypted: the vault is the one place where surrogates (``PERSON_1``) meet the real names, so a copy
of the data dir must not reveal them. Each record is a Fernet token (AES-128-CBC + HMAC-SHA256). The key
comes from ``CARETRAIL_VAULT_KEY``; when none is configured, one is generated on first use into
``<data_dir>/vault.key`` with mode 0600, and a security officer should move it to a secret store.
File names are SHA-256 digests of the session or patient id, so ids do not leak through the listing.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from assistant.settings import Settings, get_settings

MAX_OFFSET_DAYS = 365
MIN_OFFSET_DAYS = 30


class VaultError(RuntimeError):
    pass


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def load_or_create_key(settings: Settings) -> bytes:
    """The configured key, else the data dir's key file, created on first use.

    Every process that builds a model client (each API worker, each CLI call) gets here, so two may race to
    create the file: the key is written in full under a private name and linked into place, which fails if
    another process got there first; the loser then reads the winner's key instead of starting a second one.
    """
    if settings.vault_key is not None:
        return settings.vault_key.get_secret_value().encode("ascii")
    path = settings.resolved_data_dir / "vault.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    tmp = path.with_name(f".vault.key.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        os.link(tmp, path)
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


class Vault:
    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Vault:
        settings = settings or get_settings()
        return cls(settings.resolved_data_dir / "vault", load_or_create_key(settings))

    def _path(self, kind: str, ident: str) -> Path:
        return self.root / kind / f"{_digest(ident)}.bin"

    def _write(self, path: Path, data: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{secrets.token_hex(8)}.tmp")  # two writers never share a half-written file
        tmp.write_bytes(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode("utf-8")))
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    def _read(self, path: Path) -> dict[str, object] | None:
        if not path.exists():
            return None
        try:
            return json.loads(self._fernet.decrypt(path.read_bytes()))
        except InvalidToken as exc:
            raise VaultError(f"vault record {path.name} cannot be decrypted with the configured key") from exc

    def save_mapping(self, session_id: str, mapping: dict[str, object]) -> None:
        self._write(self._path("sessions", session_id), mapping)

    def load_mapping(self, session_id: str) -> dict[str, object] | None:
        return self._read(self._path("sessions", session_id))

    def patient_offset(self, patient_id: str) -> int:
        """The patient's date shift in days: random once, then the same for every later conversation."""
        path = self._path("patients", patient_id)
        record = self._read(path)
        if record is not None:
            return int(record["offset_days"])  # type: ignore[arg-type]
        offset = random_offset()
        self._write(path, {"offset_days": offset})
        return offset


def random_offset() -> int:
    magnitude = MIN_OFFSET_DAYS + secrets.randbelow(MAX_OFFSET_DAYS - MIN_OFFSET_DAYS + 1)
    return -magnitude if secrets.randbelow(2) else magnitude
