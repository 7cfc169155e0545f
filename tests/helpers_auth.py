"""Real credentials for tests: API keys created in the context's own key store (hashes only, as in production)."""

from __future__ import annotations

import uuid
from typing import Any

from assistant.services.caller import PanelScope


def bearer(ctx: Any, role: str, user: str, panel: PanelScope | None = None) -> dict[str, str]:
    """Headers that sign a request in as ``user`` in ``role`` with a fresh API key."""
    secret, _ = ctx.keys.create(f"test-{role}-{uuid.uuid4().hex[:8]}", role, user, panel or PanelScope())
    return {"Authorization": f"Bearer {secret}"}
