"""The side panel's session: sign in with an API key (or an OIDC token), see who you are, sign out.

The cookie is Secure, HttpOnly and SameSite (``CARETRAIL_SESSION_COOKIE_SAMESITE``); it holds a random
handle only. The response carries the session's CSRF token, which the panel sends back in
``X-CSRF-Token`` on every request that changes something.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from assistant.api.deps import audit_failure, authenticated, client_address, get_ctx, public
from assistant.auth.sessions import COOKIE_NAME
from assistant.context import AppContext
from assistant.errors import BadRequest, TooManyRequests, Unauthenticated
from assistant.services import sessions
from assistant.services.caller import Caller

router = APIRouter(prefix="/v1", tags=["session"])


class SignIn(BaseModel):
    api_key: str | None = Field(default=None, max_length=200, description="an API key (ctk_...)")


def _session_body(caller: Caller, csrf: str, expires_at: str, audit_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"user": caller.user, "role": caller.role, "panel": caller.panel.describe(),
                            "csrf_token": csrf, "expires_at": expires_at}
    if audit_id:
        body["audit_id"] = audit_id
    return body


@router.post("/session", dependencies=[Depends(public)])
def sign_in(body: SignIn, request: Request, response: Response,
            ctx: AppContext = Depends(get_ctx)) -> dict[str, Any]:
    """Exchange an API key in the body, or a Bearer token, for a session cookie."""
    client = client_address(request)
    if ctx.rate_limits.auth_blocked(client):
        raise TooManyRequests("too many failed sign-ins from this address; wait a minute")
    authorization = request.headers.get("authorization", "")
    secret = body.api_key or (authorization[7:] if authorization.lower().startswith("bearer ") else "")
    if not secret:
        raise BadRequest("send {\"api_key\": \"ctk_...\"} or an Authorization: Bearer token")
    try:
        caller = ctx.authenticator.from_bearer(secret, client)
    except Unauthenticated as exc:
        audit_failure(ctx, request, "auth.failed", str(exc), None)
        ctx.rate_limits.auth_failure(client)
        raise
    token, signed_in, audit_id = sessions.sign_in(ctx, caller)
    settings = ctx.settings
    response.set_cookie(
        COOKIE_NAME, token, max_age=settings.session_ttl_minutes * 60, path="/", secure=True, httponly=True,
        samesite=settings.session_cookie_samesite,
    )
    return _session_body(signed_in.caller, signed_in.csrf_token, signed_in.expires_at.isoformat(), audit_id)


@router.get("/session")
def who_am_i(request: Request, ctx: AppContext = Depends(get_ctx),
             caller: Caller = Depends(authenticated)) -> dict[str, Any]:
    """The signed-in caller and, for a cookie session, its CSRF token (the panel reads it on load)."""
    cookie = request.cookies.get(COOKIE_NAME)
    if caller.auth == "session" and cookie:
        signed_in = ctx.authenticator.from_session(cookie, caller.client)
        return _session_body(caller, signed_in.csrf_token, signed_in.expires_at.isoformat())
    return {"user": caller.user, "role": caller.role, "panel": caller.panel.describe(), "auth": caller.auth}


@router.delete("/session")
def sign_out(request: Request, response: Response, ctx: AppContext = Depends(get_ctx),
             caller: Caller = Depends(authenticated)) -> dict[str, Any]:
    cookie = request.cookies.get(COOKIE_NAME)
    if caller.auth != "session" or not cookie:
        raise BadRequest("no session to end: this request did not come with a session cookie")
    audit_id = sessions.sign_out(ctx, caller, cookie)
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True,
                           samesite=ctx.settings.session_cookie_samesite)
    return {"ended": True, "audit_id": audit_id}
