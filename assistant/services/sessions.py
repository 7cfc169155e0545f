"""Signing in to and out of the side panel; both are audited."""

from __future__ import annotations

from assistant.auth.sessions import SignedIn
from assistant.context import AppContext
from assistant.services.access import audit
from assistant.services.caller import Caller


def sign_in(ctx: AppContext, caller: Caller) -> tuple[str, SignedIn, str]:
    """Open a session for a caller who just proved who they are: (cookie token, session, audit id)."""
    token, signed_in = ctx.authenticator.start_session(caller)
    audit_id = audit(ctx, caller, "session.start", None, {"expires_at": signed_in.expires_at.isoformat()})
    return token, signed_in, audit_id


def sign_out(ctx: AppContext, caller: Caller, token: str) -> str:
    ctx.authenticator.end_session(token)
    return audit(ctx, caller, "session.end", None, {})
