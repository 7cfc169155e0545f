"""One SQLAlchemy engine and declarative base for state and audit, SQLite by default, Postgres by URL.

Why one module: the same code must run on the embedded default and on a Postgres server, and every
table (patients, documents ledger, audit) shares one metadata so ``create_all`` sets up a fresh store.
"""

from __future__ import annotations

import fcntl
from functools import lru_cache
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _json_dumps(value: object) -> str:
    """JSON columns (record payloads, MPI evidence) are written once per record on ingest; orjson does it about
    ten times faster than the standard library, which was a visible share of storing a panel. Reads keep the
    standard library, which also accepts what older rows may hold."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """Engines are cached per URL: one pool per process per database."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps)
    return engine


# Any constant: the key of the PostgreSQL advisory lock that lets one process at a time create the schema.
_SCHEMA_LOCK_KEY = 0x43415245  # "CARE"


def init_db(url: str) -> Engine:
    """Create every table that is registered on ``Base`` (modules with tables must be imported first).

    One process at a time: ``create_all`` checks which tables exist and then creates the rest, so two processes
    starting on a fresh store (``serve`` workers, ``listen-adt`` beside ``serve``) could both see a table missing
    and the second would fail with "table already exists". PostgreSQL serializes them with an advisory lock held
    by the creating transaction; SQLite with a lock file beside the database."""
    import assistant.tables  # noqa: F401  (registers all tables on Base)

    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            Base.metadata.create_all(connection)
        return engine
    database = engine.url.database
    if not database or database == ":memory:":
        Base.metadata.create_all(engine)
        return engine
    with open(f"{database}.schema-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        Base.metadata.create_all(engine)
    return engine
