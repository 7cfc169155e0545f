"""Several processes opening one fresh store at once all succeed: the schema is created by one of them at a time
(the race once made `listen-adt` and another process fail with "table already exists")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from assistant.db import get_engine, init_db
from assistant.settings import REPO_ROOT
from tests.helpers import postgres_schema

OPEN = "import sys; from assistant.db import init_db; init_db(sys.argv[1]); print('ok')"


def _open_at_once(url: str, processes: int = 6) -> None:
    started = [subprocess.Popen([sys.executable, "-c", OPEN, url], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(processes)]
    outputs = [process.communicate(timeout=300)[0] for process in started]
    assert all(process.returncode == 0 for process in started), outputs


def test_processes_creating_a_sqlite_store_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _open_at_once(url)
    assert "sessions" in inspect(init_db(url)).get_table_names()


def test_processes_creating_a_postgres_schema_at_once_all_succeed() -> None:
    with postgres_schema("schema_init") as (url, _admin):
        _open_at_once(url)
        assert "sessions" in inspect(get_engine(url)).get_table_names()
