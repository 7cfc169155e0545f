"""The CLI as a user runs it: a real subprocess, the JSON contract, exit codes, audit verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.settings import REPO_ROOT

pytestmark = pytest.mark.slow  # a real server, subprocesses or a knowledge index of its own


def _run(args: list[str], data_dir, **extra_env: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(data_dir), **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def data_dir(knowledge_settings, knowledge_ctx):  # type: ignore[no-untyped-def]
    return knowledge_settings.data_dir


def test_ask_json_contract_and_audit_verify(data_dir) -> None:  # type: ignore[no-untyped-def]
    done = _run(["ask", "How soon after discharge is the TCM interactive contact due?", "--json"], data_dir)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) >= {"answer", "sentences", "citations", "abstained", "audit_id"}
    assert not body["abstained"]
    for sentence in body["sentences"]:
        assert sentence["citations"]
    for citation in body["citations"]:
        source = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8-sig")
        assert source[citation["start"] : citation["end"]] == citation["quote"]

    verified = _run(["audit", "verify"], data_dir)
    assert verified.returncode == 0, verified.stderr
    refused = _run(["audit", "export"], data_dir)  # the default operator is a care manager
    assert refused.returncode == 2 and "may not use audit.read" in refused.stderr
    exported = _run(["audit", "export"], data_dir, CARETRAIL_CLI_ROLE="admin")
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    asked = next(row for row in rows if row["audit_id"] == body["audit_id"])
    assert asked["user"] == "test-user" and asked["payload"]["caller"]["auth"] == "cli"
    assert any(row["event"] == "access.denied" and row["payload"]["action"] == "audit.read" for row in rows)


def test_bad_usage_exits_2_with_one_line(data_dir) -> None:  # type: ignore[no-untyped-def]
    done = _run(["ask", "What is TCM?", "--role", "wizard"], data_dir)
    assert done.returncode == 2
    assert "unknown role" in done.stderr
    missing = _run(["ingest", "no/such/path.json"], data_dir)
    assert missing.returncode == 2 and "no such file" in missing.stderr
