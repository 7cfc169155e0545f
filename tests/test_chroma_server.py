"""The same code path against Chroma in client/server mode: a real `chroma run` on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.index.vectors import KNOWLEDGE
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import Settings
from tests.helpers import free_port

pytestmark = pytest.mark.slow  # starts a Chroma server (and uses PostgreSQL): about 2 minutes

READER = Caller("reader", "care_manager", "cli")
STEWARD = Caller("steward", "admin", "cli")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma server did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_http_mode_gives_the_same_answers_as_embedded(chroma_server, knowledge_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, chroma_mode="http", chroma_port=chroma_server)
    ctx = open_context(settings)
    report = ingest_knowledge(ctx.knowledge_deps)
    assert report.errors == [] and report.added >= 14
    assert ctx.vectors.count(KNOWLEDGE) == knowledge_ctx.vectors.count(KNOWLEDGE)
    assert ingest_knowledge(ctx.knowledge_deps).unchanged == report.added
    for question in ("What does STEADI stand for?", "How many beneficiaries must a standard LEAD ACO align?"):
        remote = ask(ctx, READER, question)
        local = ask(knowledge_ctx, READER, question)
        assert remote["answer"] == local["answer"]
        assert [c["sha256"] for c in remote["citations"]] == [c["sha256"] for c in local["citations"]]


def test_scale_stack_postgres_and_chroma_server(chroma_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The beyond-one-machine configuration: state and audit in PostgreSQL, vectors in a Chroma server."""
    from sqlalchemy import text

    from assistant.audit.log import audit_log_for
    from assistant.ingest.pipeline import ingest_paths
    from tests.helpers import postgres_schema

    with postgres_schema("stack") as (scoped, admin):
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "note.txt").write_text(
            "Patient: mbi|1EG4TE5MK73\nCare manager note\n\nThe son drives the patient to dialysis on Mondays.\n",
            encoding="utf-8",
        )
        ctx = open_context(Settings(data_dir=tmp_path / "data", database_url=scoped, chroma_mode="http",
                                    chroma_port=chroma_server))
        assert ingest_knowledge(ctx.knowledge_deps).errors == []
        summary = ingest_paths(ctx.ingest_deps, [notes])
        assert summary.errors == [] and summary.documents == 1
        assert ingest_paths(ctx.ingest_deps, [notes]).skipped_unchanged == 1
        result = ask(ctx, STEWARD, "Who drives the patient to dialysis?", patient_ref="1EG4TE5MK73")
        assert "son drives the patient" in result["answer"]
        assert ask(ctx, READER, "What does STEADI stand for?")["citations"]
        assert audit_log_for(ctx).verify().ok
        schema = scoped.rsplit("%3D", 1)[1]
        with admin.begin() as connection:
            count = connection.execute(text(f"SELECT count(*) FROM {schema}.audit_log")).scalar()
        assert count == 2
