"""SMART App Launch over HTTP: the EHR launch, the standalone launch and the OAuth callback.

The two launch endpoints are public (the EHR's browser arrives without a Caretrail credential); the callback is
public too, but state-bound: it needs the state of a launch this same browser started (its launch cookie). The
session it opens is the side panel's ordinary one (``assistant/auth/sessions.py``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from assistant.api.deps import audit_failure, client_address, get_ctx, public
from assistant.auth.sessions import COOKIE_NAME
from assistant.context import AppContext
from assistant.ehr.trust import public_base
from assistant.errors import BadRequest, TooManyRequests
from assistant.services import smart
from assistant.settings import Settings

router = APIRouter(tags=["smart"])


def _launch_samesite(settings: Settings) -> str:
    """The EHR's authorization server sends the browser back from another site: a Strict cookie would not come
    along, so the launch cookie is Lax (None when the panel is embedded cross-site and sessions are too)."""
    return "none" if settings.session_cookie_samesite == "none" else "lax"


def _redirect_to_ehr(ctx: AppContext, request: Request, iss: str, launch: str | None) -> RedirectResponse:
    if ctx.rate_limits.auth_blocked(client_address(request)):
        raise TooManyRequests("too many failed sign-ins from this address; wait a minute")
    started = smart.start(ctx, iss, launch, public_base(ctx.settings, str(request.base_url)))
    response = RedirectResponse(started.url, status_code=302)
    response.set_cookie(
        smart.LAUNCH_COOKIE,
        started.browser_token,
        max_age=int(smart.LAUNCH_TTL.total_seconds()),
        path="/smart",
        secure=True,
        httponly=True,
        samesite=_launch_samesite(ctx.settings),
    )
    return response


@router.get("/smart/launch", dependencies=[Depends(public)])
def ehr_launch(
    request: Request,
    iss: str = Query(max_length=2000),
    launch: str = Query(max_length=2000),
    ctx: AppContext = Depends(get_ctx),
) -> RedirectResponse:
    """EHR launch: the EHR opens this with its FHIR base URL (``iss``) and a launch id."""
    return _redirect_to_ehr(ctx, request, iss, launch)


@router.get("/smart/login", dependencies=[Depends(public)])
def standalone_launch(
    request: Request, iss: str = Query(max_length=2000), ctx: AppContext = Depends(get_ctx)
) -> RedirectResponse:
    """Standalone launch: sign in at the EHR (which asks for the patient) without starting from the EHR."""
    return _redirect_to_ehr(ctx, request, iss, None)


def state_bound(request: Request, ctx: AppContext = Depends(get_ctx)) -> None:
    """The callback must carry a launch state and the launch cookie of the browser that started it."""
    reason = None
    if not request.query_params.get("state"):
        reason = "the SMART callback has no state"
    elif not request.cookies.get(smart.LAUNCH_COOKIE):
        reason = "this browser did not start a SMART launch (its launch cookie is missing)"
    if reason:
        audit_failure(ctx, request, "auth.failed", reason, None)
        ctx.rate_limits.auth_failure(client_address(request))
        raise BadRequest(reason)


state_bound.policy = "state_bound"  # type: ignore[attr-defined]  # read by the route matrix test


@router.get("/smart/callback", dependencies=[Depends(state_bound)])
def callback(
    request: Request,
    state: str = Query(max_length=500),
    error: str | None = Query(None, max_length=200),
    ctx: AppContext = Depends(get_ctx),
) -> RedirectResponse:
    """The EHR's redirect after sign-in: a side-panel session, then the panel on the launch's patient."""
    finished = smart.finish(
        ctx, state, request.url.query, request.cookies.get(smart.LAUNCH_COOKIE), error, client_address(request)
    )
    target = "/?" + urlencode({"patient": finished.patient_id}) if finished.patient_id else "/"
    response = RedirectResponse(target, status_code=303)
    settings = ctx.settings
    response.set_cookie(
        COOKIE_NAME,
        finished.token,
        max_age=settings.session_ttl_minutes * 60,
        path="/",
        secure=True,
        httponly=True,
        samesite=settings.session_cookie_samesite,
    )
    response.delete_cookie(
        smart.LAUNCH_COOKIE, path="/smart", secure=True, httponly=True, samesite=_launch_samesite(settings)
    )
    return response
