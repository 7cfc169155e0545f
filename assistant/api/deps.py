"""Request-scoped dependencies: the application context and who is asking.

Identity comes from the ``X-Caretrail-User`` / ``X-Caretrail-Role`` headers set by the EHR launch
proxy in front of the service; the service listens on loopback by default so only that proxy (or a
local user) can reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Header, HTTPException

from assistant.context import AppContext, open_context
from assistant.roles import normalize_role


def get_ctx() -> AppContext:
    return open_context()


@dataclass(frozen=True)
class Caller:
    user: str
    role: str


def get_caller(
    x_caretrail_user: str | None = Header(default=None),
    x_caretrail_role: str | None = Header(default=None),
) -> Caller:
    try:
        role = normalize_role(x_caretrail_role)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return Caller(user=(x_caretrail_user or "local").strip() or "local", role=role)
