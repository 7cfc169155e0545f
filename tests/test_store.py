"""Patient store on SQLite (the default database): the shared store tests plus SQLite-specific checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.records.store import PatientStore
from tests.helpers_store import (  # noqa: F401  (shared tests are collected from this module)
    ALL_MBIS,
    StoreFactory,
    test_kill_9_mid_document_then_rerun_equals_clean_run,
    test_panels_and_access,
    test_resolve_by_every_id_kind,
    test_save_and_read_back,
    test_saving_twice_gives_identical_rows,
    test_stub_then_enrich,
    test_transactional_failure_leaves_nothing,
)

MBI_PATTERN = re.compile(
    r"^[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]"
    r"[AC-HJKMNP-RT-Y]{2}[0-9]{2}$"
)


@pytest.fixture
def store_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    made: list[PatientStore] = []

    def make() -> PatientStore:
        store = PatientStore(f"sqlite:///{tmp_path / f'store{len(made)}.db'}")
        made.append(store)
        return store

    yield make
    for store in made:
        store.engine.dispose()


def test_mbis_are_valid() -> None:
    assert all(MBI_PATTERN.match(mbi) for mbi in ALL_MBIS)
