"""Shared fixtures: a real data dir with the real knowledge base indexed by the real embedder.

Heavy work (loading the model, embedding the knowledge base) happens once per test session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT, Settings

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CARETRAIL_CLI_USER", "test-user")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def knowledge_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Tests send thousands of requests with a few keys from one address: the limits get their own tests.
    return Settings(data_dir=tmp_path_factory.mktemp("knowledge-data"), rate_limit="100000/minute",
                    auth_failure_limit="100000/minute")


@pytest.fixture(scope="session")
def knowledge_ctx(knowledge_settings: Settings):  # type: ignore[no-untyped-def]
    from assistant.context import open_context
    from assistant.index.knowledge import ingest_knowledge

    ctx = open_context(knowledge_settings)
    report = ingest_knowledge(ctx.knowledge_deps)
    assert not report.errors, report.errors
    assert report.added >= 14
    return ctx


@pytest.fixture(scope="module")
def ecqm(shared_data: Path) -> Path:
    """The stewards' eCQM content and MADiE cases in ../shared (skips when they are absent)."""
    from assistant.measures import reference

    root = shared_data / reference.ECQM_SUBDIR
    if not root.is_dir():
        pytest.skip(f"{root} is not present")
    return root


@pytest.fixture(scope="module")
def reference_engine() -> None:
    """Skip without Node or the installed reference engine, except in CI, where its absence is a broken set-up."""
    import shutil

    from assistant.measures import reference

    if reference.is_installed():
        return
    reason = "node is not installed" if shutil.which("node") is None else (
        f"the reference engine is not installed in {reference.TOOLS_DIR}")
    reason += f": {reference.INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
