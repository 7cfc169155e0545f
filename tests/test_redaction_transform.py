"""Redaction, pseudonymization with date shifting, and the encrypted vault, on real detections."""

from __future__ import annotations

import stat
import threading
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from assistant.redaction import dates
from assistant.redaction.transform import PseudonymSession, pseudonymize, redact
from assistant.redaction.vault import Vault, VaultError, load_or_create_key
from assistant.settings import Settings

NOTE = ("Eleanor Whitfield (MBI 1EG4-TE5-MK73) was admitted 03/14/2024 and discharged 03/18/2024. "
        "Ms. Whitfield can be reached at 217-555-0143. Dr. Raj Patel will see her on March 25, 2024.")


def test_redact_uses_typed_placeholders() -> None:
    result = redact(NOTE)
    assert "Whitfield" not in result.text and "1EG4" not in result.text and "555-0143" not in result.text
    assert "[NAME]" in result.text and "[MBI]" in result.text and "[DATE]" in result.text
    assert "[PHONE]" in result.text


def test_pseudonyms_are_consistent_and_dates_keep_intervals() -> None:
    session = PseudonymSession(patient_id="p-1", date_offset_days=40)
    out = pseudonymize(NOTE, session).text
    assert "PERSON_1" in out and "MBI_1" in out and "PHONE_1" in out
    assert "Eleanor" not in out and "1EG4" not in out
    # 03/14 -> 04/23 and 03/18 -> 04/27: still four days apart
    assert "04/23/2024" in out and "04/27/2024" in out and "May 4, 2024" in out
    again = pseudonymize("Call Raj Patel about the MBI 1EG4TE5MK73.", session).text
    assert again.count("MBI_1") == 1
    assert session.reidentify(out) == NOTE


@pytest.mark.parametrize(
    ("original", "shifted"),
    [("03/14/1947", "03/24/1947"), ("14-Mar-1947", "24-Mar-1947"), ("March 14, 1947", "March 24, 1947"),
     ("1947-03-14", "1947-03-24"), ("7/22", "8/1"), ("Dec 28, 2024", "Jan 7, 2025")],
)
def test_date_shift_keeps_the_written_format(original: str, shifted: str) -> None:
    assert dates.shift(original, 10) == shifted


def test_date_parse_rejects_impossible_dates() -> None:
    assert dates.parse("02/30/2024") is None
    assert dates.parse("1947-03-14").value == date(1947, 3, 14)  # type: ignore[union-attr]


def test_vault_is_encrypted_at_rest_and_restores_a_session(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    vault = Vault(tmp_path / "vault", key)
    session = PseudonymSession(patient_id="p-7", vault=vault)
    pseudonymize(NOTE, session)
    stored = list((tmp_path / "vault").rglob("*.bin"))
    assert stored
    for path in stored:
        raw = path.read_bytes()
        assert b"Whitfield" not in raw and b"1EG4" not in raw and b"p-7" not in raw
    restored = PseudonymSession(patient_id="p-7", session_id=session.session_id, vault=vault)
    assert restored.reidentify("PERSON_1 and MBI_1") == "Eleanor Whitfield and 1EG4-TE5-MK73"
    # the same patient keeps the same date offset in a new conversation
    assert PseudonymSession(patient_id="p-7", vault=vault).date_offset_days == session.date_offset_days
    with pytest.raises(VaultError):
        PseudonymSession(session_id=session.session_id, vault=Vault(tmp_path / "vault", Fernet.generate_key()))


def test_vault_key_is_generated_with_0600_when_not_configured(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, vault_key=None)
    vault = Vault.from_settings(settings)
    key_file = tmp_path / "vault.key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Vault.from_settings(settings)._fernet.decrypt(vault._fernet.encrypt(b"x")) == b"x"


def test_processes_racing_to_create_the_key_all_get_the_same_one(tmp_path: Path) -> None:
    """Every API worker builds the guard's vault at start-up; a second key would make the first one's records
    unreadable, and a half-written file would be read as a broken key."""
    settings = Settings(data_dir=tmp_path, vault_key=None)
    start = threading.Barrier(8)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def create() -> None:
        start.wait()
        try:
            keys.append(load_or_create_key(settings))
        except BaseException as exc:  # noqa: BLE001 - collected and reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(keys) == 8
    assert set(keys) == {(tmp_path / "vault.key").read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == ["vault.key"]  # no private copies left behind


def test_vault_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CARETRAIL_VAULT_KEY", key)
    Vault.from_settings(Settings(data_dir=tmp_path))
    assert not (tmp_path / "vault.key").exists()
