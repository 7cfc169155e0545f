"""A SMART App Launch 2.x: from the EHR's launch (or a standalone sign-in) to a side-panel session on the patient.

1. ``start``: ``iss`` must be a trusted EHR with a SMART client registration (deny by default); its
   ``.well-known/smart-configuration`` gives the endpoints; the browser goes to the authorization endpoint with
   PKCE (S256), ``state``, ``aud`` = ``iss`` and scope ``launch openid fhirUser patient/*.read`` (standalone:
   ``launch/patient`` instead of ``launch``). The launch is stored server-side under the state's hash and bound to
   the browser by a random cookie, for ten minutes, once.
2. ``finish`` (the callback): the state must name a live, unused launch started by this same browser (otherwise
   an attacker could log a victim into the attacker's account); the code is exchanged with the PKCE verifier;
   the ID token must verify (``assistant/smart/id_token.py``); its ``fhirUser`` must be a Caretrail user with a
   role in the settings (``assistant/ehr/trust.py``), else refused. When the token names a ``patient``, that
   patient's records are fetched from the EHR's FHIR server with the access token and brought into the store
   (only if the user may see them), and the panel check must pass. Only then is a session opened for the user,
   audited (``session.start`` and ``smart.launch``), and the browser sent to the panel on the patient.
Every refusal is audited: ``auth.failed`` before the user is known, ``access.denied`` after.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from assistant.audit.log import audit_log_for
from assistant.auth.sessions import SignedIn
from assistant.context import AppContext
from assistant.ehr.prefetch import PATIENT_VIEW, gather
from assistant.ehr.tables import SmartLaunchTable
from assistant.ehr.trust import (
    FHIR_ID,
    base,
    caretrail_user,
    check_url,
    relative_reference,
    role_of,
    system_for_fhir_server,
    system_named,
)
from assistant.errors import BadRequest, PermissionDenied, Unauthenticated
from assistant.services import sessions
from assistant.services.access import audit
from assistant.services.caller import Caller
from assistant.services.ehr_records import bring_in
from assistant.settings import EhrSystem
from assistant.smart import client as oauth
from assistant.smart import id_token
from assistant.smart.discovery import discover

LAUNCH_COOKIE = "caretrail_smart_launch"
LAUNCH_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/smart/callback"


@dataclass(frozen=True)
class Started:
    url: str  # the EHR's authorization endpoint, with the request
    browser_token: str  # the launch cookie's value


@dataclass(frozen=True)
class Finished:
    token: str  # the session cookie's value
    signed_in: SignedIn
    patient_id: str | None  # Caretrail's id of the launch's patient
    audit_id: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start(ctx: AppContext, iss: str, launch: str | None, public: str) -> Started:
    """The authorization request for an EHR launch (``launch`` given) or a standalone launch (None)."""
    system = system_for_fhir_server(ctx.settings, iss)
    if system is None or not system.smart_client_id:
        raise BadRequest(f"iss {iss[:120]!r} is not a trusted EHR for SMART launches (CARETRAIL_EHR_SYSTEMS)")
    if launch is not None and not launch.strip():
        raise BadRequest("launch is empty")
    discovery = discover(ctx.settings, system.fhir_base_url)
    authorization = oauth.authorize(system, discovery, public + CALLBACK_PATH, launch)
    browser = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with Session(ctx.engine) as session, session.begin():
        session.execute(delete(SmartLaunchTable).where(SmartLaunchTable.expires_at < now))  # nothing to resume
        session.add(
            SmartLaunchTable(
                state_hash=_hash(authorization.state),
                browser_hash=_hash(browser),
                ehr=system.name,
                kind="ehr" if launch is not None else "standalone",
                discovery=discovery,
                client_state=authorization.client_state,
                created_at=now,
                expires_at=now + LAUNCH_TTL,
            )
        )
    return Started(authorization.url, browser)


def _failed(ctx: AppContext, reason: str, address: str | None, ehr: str | None) -> None:
    audit_log_for(ctx).append(
        "auth.failed",
        "anonymous",
        None,
        None,
        {"reason": reason, "method": "GET", "path": CALLBACK_PATH, "client": address, "ehr": ehr},
    )


def _claim_launch(ctx: AppContext, state: str, browser_token: str | None) -> SmartLaunchTable:
    """The launch this state belongs to, marked used; BadRequest when it is unknown, used, expired or was started
    in another browser."""
    now = datetime.now(UTC)
    with Session(ctx.engine, expire_on_commit=False) as session, session.begin():
        row = session.get(SmartLaunchTable, _hash(state))
        if row is None:
            raise BadRequest("unknown SMART launch state: start the launch again from the EHR")
        claimed = session.execute(
            update(SmartLaunchTable)
            .where(SmartLaunchTable.state_hash == row.state_hash, SmartLaunchTable.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            raise BadRequest("this SMART launch was already used: start it again from the EHR")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= now:
        raise BadRequest("this SMART launch expired: start it again from the EHR")
    if not browser_token or not secrets.compare_digest(_hash(browser_token), row.browser_hash):
        raise BadRequest("this SMART launch was started in another browser")
    return row


def _user_resource(system: EhrSystem, reference: str, access_token: str, ctx: AppContext) -> dict[str, Any] | None:
    """The user's own resource (for the NPI link), read with the launch's token; None when it cannot be read."""
    url = check_url(f"{base(system.fhir_base_url)}/{reference}", ctx.settings, "the fhirUser address")
    try:
        response = httpx.get(
            url,
            timeout=oauth.TIMEOUT_SECONDS,
            follow_redirects=False,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"},
        )
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _caller(ctx: AppContext, system: EhrSystem, fhir_user: str, access_token: str, address: str | None) -> Caller:
    reference = relative_reference(fhir_user, system)
    user = None
    if reference:
        user = system.users.get(reference) or caretrail_user(
            ctx.engine, system, reference, _user_resource(system, reference, access_token, ctx)
        )
    role = role_of(system, user) if user else None
    if user is None or role is None:
        reason = (
            f"the {system.name} user {fhir_user[:120]!r} is not a Caretrail user with a role: map it in "
            "CARETRAIL_EHR_SYSTEMS (users, roles) or link the user's NPI"
        )
        audit_log_for(ctx).append(
            "access.denied",
            f"ehr:{system.name}:{fhir_user[:120]}",
            None,
            None,
            {
                "action": "session.start",
                "reason": reason,
                "caller": {"auth": "smart", "credential": system.name, "client": address},
            },
        )
        raise PermissionDenied(reason)
    return Caller(user=user, role=role, auth="smart", credential=f"smart:{system.name}", client=address)


def finish(
    ctx: AppContext, state: str, callback_query: str, browser_token: str | None, error: str | None, address: str | None
) -> Finished:
    """The session for whoever the EHR says signed in, on the launch's patient; every refusal audited."""
    ehr = None
    try:
        row = _claim_launch(ctx, state, browser_token)
        ehr = row.ehr
        system = system_named(ctx.settings, row.ehr)
        if system is None or not system.smart_client_id:
            raise BadRequest(f"the EHR {row.ehr!r} is no longer trusted for SMART launches")
        if error:
            raise Unauthenticated(f"the EHR refused the authorization: {error[:80]}")
        token = oauth.exchange(system, row.client_state, callback_query)
        fhir_user, claims = id_token.verify(row.discovery, system.smart_client_id, token.get("id_token"))
    except (BadRequest, Unauthenticated) as exc:
        _failed(ctx, str(exc), address, ehr)
        ctx.rate_limits.auth_failure(address or "unknown")
        raise
    caller = _caller(ctx, system, fhir_user, token["access_token"], address)
    patient = token.get("patient")
    patient_id = None
    if patient is not None:
        if not isinstance(patient, str) or not FHIR_ID.match(patient):
            raise BadRequest("the token's patient is not a FHIR id")
        context = {"patientId": patient, "userId": relative_reference(fhir_user, system)}
        data = gather(PATIENT_VIEW, context, None, base(system.fhir_base_url), token["access_token"])
        patient_id = bring_in(ctx, caller, system.name, patient, data).patient.id
    cookie, signed_in, _ = sessions.sign_in(ctx, caller)
    audit_id = audit(
        ctx,
        caller,
        "smart.launch",
        patient_id,
        {
            "ehr": system.name,
            "kind": row.kind,
            "fhir_user": fhir_user,
            "ehr_patient": patient,
            "encounter": token.get("encounter"),
            "scope": token.get("scope"),
            "sub": claims.get("sub"),
        },
    )
    return Finished(cookie, signed_in, patient_id, audit_id)
