"""Small helpers shared by test modules (importable, unlike conftest)."""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_url() -> str | None:
    """The loopback PostgreSQL server, or None when unreachable (never None under CI=true)."""
    url = os.environ.get("CARETRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return url
    except Exception:
        if os.environ.get("CI") == "true":
            raise
        return None
