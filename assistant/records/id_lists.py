"""Restricting a query to a list of ids (a panel of patients), the way each database takes such a list best.

PostgreSQL takes the whole list as one array parameter (``id = ANY(:ids)``): a 10,000-patient panel is one bound
value, sent and planned once, instead of a 10,000-placeholder ``IN (...)`` that psycopg must bind and the server
must parse on every call. SQLite has no arrays: the list goes as ``IN (...)`` in chunks that stay under its
32,766 bound-parameter limit, and the caller merges the chunks' results.

Both forms are one code path for the callers: they loop over ``chunks`` and filter with ``among``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Engine, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

IN_LIST_CHUNK = 5000  # ids per IN (...) list where the database has no arrays


def takes_arrays(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def chunks(engine: Engine, ids: Sequence[str], size: int | None = None) -> Iterator[list[str]]:
    """The ids in as few lists as the database allows: one on PostgreSQL, ``size`` (default ``IN_LIST_CHUNK``)
    at a time elsewhere."""
    size = size or IN_LIST_CHUNK
    if takes_arrays(engine):
        if ids:
            yield list(ids)
        return
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def among(engine: Engine, column: ColumnElement, ids: list[str]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``: an array parameter on PostgreSQL, an IN list elsewhere."""
    if takes_arrays(engine):
        return column == any_(bindparam(None, ids, type_=ARRAY(String), unique=True))
    return column.in_(ids)
