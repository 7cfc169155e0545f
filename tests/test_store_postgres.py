"""The shared patient-store tests against a real PostgreSQL server on loopback.

Each store gets its own freshly created database (dropped afterwards) so parallel runs never collide.
The server URL comes from CARETRAIL_TEST_POSTGRES_URL (default: the local test server). When the server
is unreachable the tests skip, except under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import inspect

from assistant.db import get_engine
from assistant.records.store import PatientStore
from tests.helpers_store import (  # noqa: F401  (shared tests are collected from this module)
    StoreFactory,
    fhir_oneil,
    save,
    test_kill_9_mid_document_then_rerun_equals_clean_run,
    test_panels_and_access,
    test_resolve_by_every_id_kind,
    test_save_and_read_back,
    test_saving_twice_gives_identical_rows,
    test_stub_then_enrich,
    test_transactional_failure_leaves_nothing,
)

SERVER_URL = os.environ.get("CARETRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _database_url(name: str) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="module")
def server() -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {SERVER_URL} under CI: {exc}")
        pytest.skip(f"PostgreSQL is unreachable at {SERVER_URL}: {exc}")
    yield conn
    conn.close()


@pytest.fixture
def store_factory(server: psycopg.Connection) -> Iterator[StoreFactory]:
    created: list[tuple[str, str]] = []

    def make() -> PatientStore:
        name = f"caretrail_test_{uuid.uuid4().hex[:12]}"
        server.execute(f'CREATE DATABASE "{name}"')
        url = _database_url(name)
        created.append((name, url))
        return PatientStore(url)

    yield make
    for name, url in created:
        get_engine(url).dispose()
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_runs_on_postgres(store_factory: StoreFactory) -> None:
    store = store_factory()
    assert store.engine.dialect.name == "postgresql"
    tables = set(inspect(store.engine).get_table_names())
    assert {"patients", "patient_identifiers", "documents", "records", "panels", "mpi_links"} <= tables
    pid = save(store, fhir_oneil())["fhir|8f2a3c1e-oneil"]
    assert store.resolve_patient("1eg4-te5-mk73").id == pid  # type: ignore[union-attr]
