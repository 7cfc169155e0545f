"""One SQLAlchemy engine and declarative base for state and audit, SQLite by default, Postgres by URL.

Why one module: the same code must run on the embedded default and on a Postgres server, and every
table (patients, documents ledger, audit) shares one metadata so ``create_all`` sets up a fresh store.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
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


def init_db(url: str) -> Engine:
    """Create every table that is registered on ``Base`` (modules with tables must be imported first)."""
    import assistant.tables  # noqa: F401  (registers all tables on Base)

    engine = get_engine(url)
    Base.metadata.create_all(engine)
    return engine
