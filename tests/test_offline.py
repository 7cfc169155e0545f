"""Nothing may download weights or lists at run time: the package closes the doors before anything loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant.settings import REPO_ROOT, Settings, default_embedder_path


def test_network_is_closed_to_all_but_loopback_in_this_suite(request: pytest.FixtureRequest) -> None:
    allowed = request.config.getoption("--allow-hosts")
    assert allowed and set(allowed.split(",")) <= {"127.0.0.1", "::1", "localhost"}


def test_importing_the_package_sets_offline_switches() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = "import os, assistant; print(os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["1", "1"]


def test_models_come_from_installed_wheels() -> None:
    path = default_embedder_path()
    assert (path / "config.json").exists() or (path / "modules.json").exists()
    assert "site-packages" in str(path)
    assert Settings().resolved_embedder_path == path
