"""Small helpers shared by test modules (importable, unlike conftest)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from sqlalchemy import Engine


def copy_data_dir(source: Path, target: Path) -> None:
    """Copy a data dir whose SQLite databases this process has open, without corrupting them.

    Why not ``shutil.copytree``: copying opens and closes caretrail.db, its -wal and -shm files and Chroma's sqlite
    file in this process, and closing any descriptor of a file drops every POSIX lock the process holds on it,
    SQLite's included (sqlite.org/howtocorrupt.html, 2.2). With the wal-index lock gone, another process took
    itself for the last user, and a full run once read "database disk image is malformed" from the session's
    knowledge store. ``cp`` in a child process opens and closes them in the child, whose locks are its own."""
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def database_bytes(data_dir: Path) -> bytes:
    """Everything SQLite has written for caretrail.db, its write-ahead log included (recent rows are there until a
    checkpoint), read by a child process for the reason ``copy_data_dir`` gives."""
    files = [str(path) for path in (data_dir / "caretrail.db", data_dir / "caretrail.db-wal") if path.exists()]
    return subprocess.run(["cat", *files], check=True, capture_output=True).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_url() -> str | None:
    """The loopback PostgreSQL server, or None when unreachable (never None under CI=true)."""
    url = os.environ.get("CARETRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return url
    except Exception:
        if os.environ.get("CI") == "true":
            raise
        return None


@contextmanager
def postgres_schema(prefix: str) -> Iterator[tuple[str, Engine]]:
    """A throw-away schema on the loopback PostgreSQL: (SQLAlchemy URL scoped to it, admin engine).

    Skips the calling test when no server is reachable (never under CI=true, see ``postgres_url``)."""
    import uuid

    import pytest
    from sqlalchemy import create_engine, text

    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    psycopg_url = url.replace("postgresql://", "postgresql+psycopg://")
    admin = create_engine(psycopg_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{psycopg_url}?options=-csearch_path%3D{schema}", admin
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def knowledge_context(database: str, knowledge_ctx: Any, data_dir: Path, prefix: str) -> Iterator[Any]:
    """A context holding the indexed knowledge base's sentences, on SQLite or in a throw-away PostgreSQL schema.

    SQLite: a copy of the session's indexed data dir. PostgreSQL: the knowledge chunk rows copied over (what the
    guidance and transition items cite; the vector index is not needed for them)."""
    from sqlalchemy.orm import Session

    from assistant.context import open_context
    from assistant.index.tables import ChunkRow
    from assistant.settings import Settings

    if database == "sqlite":
        copy_data_dir(knowledge_ctx.settings.data_dir, data_dir)
        yield open_context(Settings(data_dir=data_dir))
        return
    with postgres_schema(prefix) as (url, _admin):
        context = open_context(Settings(data_dir=data_dir, database_url=url))
        with Session(knowledge_ctx.engine) as source, Session(context.engine) as target, target.begin():
            for row in source.query(ChunkRow).filter(ChunkRow.collection == "knowledge"):
                target.add(ChunkRow(**{c.name: getattr(row, c.name) for c in ChunkRow.__table__.columns}))
        yield context
        context.engine.dispose()


@contextmanager
def model_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A fake OpenAI-compatible server on a free loopback port, answering with ``handler``; yields its ``/v1`` URL."""
    import threading
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def openai_reply(handler: BaseHTTPRequestHandler, content: str) -> None:
    """Answer an OpenAI-compatible chat-completions request from a test server."""
    payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
