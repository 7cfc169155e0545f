"""Request-scoped dependencies: the application context, who is asking, and what the route requires.

Every route declares what it needs with ``Depends(requires(Action.X))`` (or ``authenticated`` /
``public``); the route matrix test walks the app's route table and fails on a route that declares none.
The action check here is the coarse one (may this role use this kind of route at all); the per-patient
check happens in the service layer, which both the API and the CLI call.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, Request

from assistant.auth.sessions import COOKIE_NAME
from assistant.context import AppContext, open_context
from assistant.errors import PermissionDenied, TooManyRequests, Unauthenticated
from assistant.services import access
from assistant.services.caller import Caller
from assistant.services.policy import Action

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_ctx() -> AppContext:
    return open_context()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit_failure(ctx: AppContext, request: Request, event: str, reason: str, caller: Caller | None) -> None:
    payload = {"reason": reason, "method": request.method, "path": request.url.path,
               "client": client_address(request)}
    if caller is None:
        from assistant.audit.log import audit_log_for

        audit_log_for(ctx).append(event, "anonymous", None, None, payload)
    else:
        access.audit(ctx, caller, event, None, payload)


def _authenticate(request: Request, ctx: AppContext) -> Caller:
    authn = ctx.authenticator
    client = client_address(request)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthenticated("use Authorization: Bearer <API key or OIDC token>")
        return authn.from_bearer(token, client)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        signed_in = authn.from_session(cookie, client)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), signed_in.csrf_token.encode()):
                audit_failure(ctx, request, "access.denied", "CSRF token missing or wrong", signed_in.caller)
                raise PermissionDenied("CSRF token missing or wrong: send the session's token in X-CSRF-Token")
        return signed_in.caller
    proxied = authn.from_proxy(request.headers, client)
    if proxied is not None:
        return proxied
    raise Unauthenticated("sign in: send an API key or OIDC token as a Bearer token, or open the side panel")


def get_caller(request: Request, ctx: AppContext = Depends(get_ctx)) -> Caller:
    """The authenticated caller, or 401 (audited, and rate-limited per client address)."""
    client = client_address(request)
    if ctx.rate_limits.auth_blocked(client):
        raise TooManyRequests("too many failed sign-ins from this address; wait a minute")
    try:
        caller = _authenticate(request, ctx)
    except Unauthenticated as exc:
        audit_failure(ctx, request, "auth.failed", str(exc), None)
        ctx.rate_limits.auth_failure(client)
        raise
    ctx.rate_limits.caller(f"{caller.auth}:{caller.credential or ''}:{caller.user}")
    request.state.caller = caller
    return caller


def requires(action: Action) -> Callable[..., Caller]:
    """A dependency that authenticates and checks that the caller's role may use ``action`` (audited)."""

    def dependency(caller: Caller = Depends(get_caller), ctx: AppContext = Depends(get_ctx)) -> Caller:
        access.require(ctx, caller, action)
        return caller

    dependency.policy = str(action)  # type: ignore[attr-defined]  # read by the route matrix test
    return dependency


def authenticated(caller: Caller = Depends(get_caller)) -> Caller:
    """Any signed-in caller (their own session, who they are)."""
    return caller


authenticated.policy = "authenticated"  # type: ignore[attr-defined]


def public() -> None:
    """No credentials needed: liveness, the sign-in itself, the static panel."""


public.policy = "public"  # type: ignore[attr-defined]
