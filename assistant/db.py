"""One SQLAlchemy engine and declarative base for state and audit, SQLite by default, Postgres by URL.

Why one module: the same code must run on the embedded default and on a Postgres server, and every
table (patients, documents ledger, audit) shares one metadata so ``create_all`` sets up a fresh store.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """Engines are cached per URL: one pool per process per database."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def init_db(url: str) -> Engine:
    """Create every table that is registered on ``Base`` (modules with tables must be imported first)."""
    import assistant.tables  # noqa: F401  (registers all tables on Base)

    engine = get_engine(url)
    Base.metadata.create_all(engine)
    return engine
