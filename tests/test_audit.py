"""The audit log is written before an answer returns, refuses edits, and detects tampering."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from assistant.audit.log import AuditLog, audit_log_for
from assistant.context import open_context
from assistant.db import init_db
from assistant.prompts import load_prompt
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import Settings
from tests.helpers import postgres_schema


@pytest.fixture()
def log(tmp_path) -> AuditLog:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    audit = AuditLog(init_db(url), tmp_path / "audit.head")
    for index in range(5):
        audit.append("ask", f"user{index}", "care_manager", None, {"question": f"q{index}", "n": index})
    return audit


def _raw(tmp_path) -> sqlite3.Connection:  # type: ignore[no-untyped-def]
    connection = sqlite3.connect(tmp_path / "audit.db")
    connection.execute("DROP TRIGGER audit_log_no_update")
    connection.execute("DROP TRIGGER audit_log_no_delete")
    return connection


def test_intact_chain_verifies(log: AuditLog) -> None:
    result = log.verify()
    assert result.ok and result.rows == 5


def test_updates_and_deletes_are_refused_by_the_database(log: AuditLog) -> None:
    with pytest.raises(DatabaseError), log.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET user = 'mallory' WHERE seq = 2"))
    with pytest.raises(DatabaseError), log.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert log.verify().ok


def test_altered_row_is_named(log: AuditLog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    connection = _raw(tmp_path)
    connection.execute("UPDATE audit_log SET payload = json_set(payload, '$.question', 'edited') WHERE seq = 3")
    connection.commit()
    result = log.verify()
    assert not result.ok and result.broken_seq == 3 and "altered" in (result.reason or "")


def test_deleted_row_breaks_the_link(log: AuditLog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    connection = _raw(tmp_path)
    connection.execute("DELETE FROM audit_log WHERE seq = 2")
    connection.commit()
    result = log.verify()
    assert not result.ok and result.broken_seq == 3


def test_truncated_tail_is_detected_by_the_head_file(log: AuditLog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    connection = _raw(tmp_path)
    connection.execute("DELETE FROM audit_log WHERE seq = 5")
    connection.commit()
    result = log.verify()
    assert not result.ok and "truncated" in (result.reason or "")


def test_every_answer_is_audited_before_it_returns(knowledge_ctx) -> None:  # type: ignore[no-untyped-def]
    nurse = Caller("nurse-7", "care_manager", "cli")
    result = ask(knowledge_ctx, nurse, "When must the TCM interactive contact happen after discharge?")
    row = audit_log_for(knowledge_ctx).get(result["audit_id"])
    assert row is not None
    assert row.user == "nurse-7" and row.role == "care_manager" and row.event == "ask"
    assert row.payload["answer"] == result["answer"]
    # The audit names the prompt that actually wrote the answer: the newest composer template on disk.
    newest = load_prompt("answer/composer", prompts_dir=knowledge_ctx.settings.prompts_dir)
    assert row.payload["prompt_version"] == newest.ref == "answer.composer/3"
    assert row.payload["model"].startswith("caretrail-grounded-composer")
    assert row.payload["retrieved"] and all(len(r["sha256"]) == 64 for r in row.payload["retrieved"])
    assert [c["sha256"] for c in row.payload["citations"]] == [c["sha256"] for c in result["citations"]]
    assert audit_log_for(knowledge_ctx).verify().ok


def test_postgres_audit_chain_and_triggers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with postgres_schema("audit") as (scoped, _admin):
        settings = Settings(data_dir=tmp_path, database_url=scoped)
        audit = audit_log_for(open_context(settings))
        for index in range(3):
            audit.append("ask", "pg-user", "care_manager", None, {"i": index, "text": "héllo"})
        assert audit.verify().ok
        with pytest.raises(DatabaseError), audit.engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET \"user\" = 'mallory' WHERE seq = 2"))
        with audit.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
            connection.execute(text("UPDATE audit_log SET \"user\" = 'mallory' WHERE seq = 2"))
        result = audit.verify()
        assert not result.ok and result.broken_seq == 2


def test_appends_from_many_threads_keep_one_chain_and_the_newest_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The API serves requests on threads: every one of them audits. None may fail, the chain must stay one
    chain, and the head file must end on the last row (found by a load test: two threads renamed one temp file)."""
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'audit.db'}"
    audit = AuditLog(init_db(url), tmp_path / "audit.head")

    def write(index: int) -> str:
        return audit.append("ask", f"user{index % 7}", "care_manager", None, {"n": index})

    with ThreadPoolExecutor(max_workers=12) as pool:
        ids = list(pool.map(write, range(120)))
    assert len(set(ids)) == 120
    result = audit.verify()
    assert result.ok and result.rows == 120, result
    last = audit.rows()[-1]
    assert (tmp_path / "audit.head").read_text(encoding="ascii").split() == [str(last.seq), last.hash]
    assert not list(tmp_path.glob("audit.*.tmp"))
