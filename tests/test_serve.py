"""`caretrail serve` as a process: what a client sees on the wire, beyond what the in-process test client shows."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.slow  # a server process and a six-second idle connection

CARETRAIL = str(Path(sys.executable).parent / "caretrail")


def _status(connection: http.client.HTTPConnection) -> int:
    """One request on the same connection; http.client raises RemoteDisconnected if the server has closed it."""
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


def test_an_idle_keep_alive_connection_outlives_a_person_pausing_at_the_panel(tmp_path: Path) -> None:
    """A panel user pauses a few seconds between clicks and the client reuses its connection; uvicorn's default 5 s
    keep-alive closed it under them, and a request sent as it closed failed with a reset."""
    port = free_port()
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(tmp_path / "data")}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([CARETRAIL, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text(errors="replace")[-2000:]
            time.sleep(0.3)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            assert _status(connection) == 200
            time.sleep(6.5)  # longer than uvicorn's default keep-alive
            assert _status(connection) == 200
        finally:
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
