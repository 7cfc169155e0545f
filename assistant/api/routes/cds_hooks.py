"""CDS Hooks 2.0 over HTTP: discovery (public), the services and their feedback endpoint.

Service calls and feedback take no session and no OIDC token: an EHR's signed JWT (``Authorization: Bearer``, its
audience the URL being called) or one of our API keys. A missing or bad credential is 401, audited and counted
against the address like any failed sign-in. Everything else is decided in ``assistant/services/cds_hooks.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from assistant.api.deps import audit_failure, client_address, get_ctx, public
from assistant.auth.apikeys import KEY_PREFIX
from assistant.auth.oidc import InvalidToken
from assistant.context import AppContext
from assistant.ehr.hook_jwt import verify_hook_jwt
from assistant.ehr.trust import public_base
from assistant.errors import TooManyRequests, Unauthenticated
from assistant.services import cds_hooks
from assistant.services.cds_hooks import HookCredential

router = APIRouter(tags=["cds-hooks"])


class FhirAuthorization(BaseModel):
    access_token: str = Field(min_length=1, max_length=8192)
    token_type: str = Field(pattern="^[Bb]earer$")
    expires_in: int | None = None
    scope: str | None = Field(default=None, max_length=4000)
    subject: str | None = Field(default=None, max_length=500)


class HookRequest(BaseModel):
    hook: str = Field(max_length=100)
    hookInstance: str = Field(min_length=1, max_length=200)  # noqa: N815 (the specification's field name)
    fhirServer: str | None = Field(default=None, max_length=2000)  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Feedback(BaseModel):
    feedback: list[dict[str, Any]] = Field(max_length=100)


def _credential(request: Request, ctx: AppContext) -> HookCredential:
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise Unauthenticated("CDS Hooks calls need Authorization: Bearer <the EHR's signed JWT or an API key>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("use Authorization: Bearer <the EHR's signed JWT or an API key>")
    client = client_address(request)
    if token.startswith(KEY_PREFIX):
        return HookCredential(caller=ctx.authenticator.from_bearer(token, client), address=client)
    called = public_base(ctx.settings, str(request.base_url)) + request.url.path
    audiences = [called]
    if called.endswith("/feedback"):  # the service's own URL is accepted as the audience of its feedback too
        audiences.append(called.removesuffix("/feedback"))
    try:
        verified = verify_hook_jwt(ctx.settings, ctx.engine, token, audiences)
    except InvalidToken as exc:
        raise Unauthenticated(f"invalid CDS Hooks JWT: {exc}") from None
    return HookCredential(client=verified, address=client)


def hook_credential(request: Request, ctx: AppContext = Depends(get_ctx)) -> HookCredential:
    """The EHR's verified JWT or our API key, or 401 (audited, and rate-limited per client address)."""
    client = client_address(request)
    if ctx.rate_limits.auth_blocked(client):
        raise TooManyRequests("too many failed sign-ins from this address; wait a minute")
    try:
        credential = _credential(request, ctx)
    except Unauthenticated as exc:
        audit_failure(ctx, request, "auth.failed", str(exc), None)
        ctx.rate_limits.auth_failure(client)
        raise
    who = credential.caller.user if credential.caller else credential.client.system.name  # type: ignore[union-attr]
    ctx.rate_limits.caller(f"cds_hooks:{who}")
    return credential


hook_credential.policy = "cds_hooks"  # type: ignore[attr-defined]  # read by the route matrix test


@router.get("/cds-services", dependencies=[Depends(public)])
def discovery() -> dict[str, Any]:
    """The CDS services, their hooks and prefetch templates."""
    return cds_hooks.discovery()


@router.post("/cds-services/{service_id}")
def call_service(
    service_id: str,
    body: HookRequest,
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    credential: HookCredential = Depends(hook_credential),
) -> dict[str, Any]:
    return cds_hooks.call(
        ctx, credential, service_id, body.model_dump(), public_base(ctx.settings, str(request.base_url))
    )


@router.post("/cds-services/{service_id}/feedback")
def feedback(
    service_id: str,
    body: Feedback,
    ctx: AppContext = Depends(get_ctx),
    credential: HookCredential = Depends(hook_credential),
) -> dict[str, Any]:
    return cds_hooks.feedback(ctx, credential, service_id, body.feedback)
