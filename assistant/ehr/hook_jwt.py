"""Verify the JWT a CDS Client (the EHR) sends with every CDS Hooks call, as the specification describes.

The EHR signs a JWT with its private key: header ``alg`` (asymmetric only: ``none`` and HMAC are refused, as the
specification requires), ``kid`` (required), optionally ``jku``; claims ``iss`` (an issuer in the settings, which
also name its key set), ``aud`` (the URL of the endpoint being called), ``exp``, ``iat`` and ``jti`` (all
required); ``sub`` and ``tenant`` are optional and kept for the audit. A ``jti`` is accepted once: it is stored
until the token expires, so a captured token cannot be replayed. A token that would live more than
``MAX_LIFETIME_SECONDS`` from now is refused, which also bounds how long ``jti`` values are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.errors import ClaimError, ExpiredTokenError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.auth.oidc import InvalidToken
from assistant.ehr.keys import check_signature, source_for, unverified
from assistant.ehr.tables import EhrJwtIdTable
from assistant.ehr.trust import check_url, system_for_issuer
from assistant.errors import BadRequest
from assistant.settings import EhrSystem, Settings

LEEWAY_SECONDS = 60
MAX_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class HookClient:
    """A CDS Client whose JWT verified: which EHR it is and what its token said (for the audit)."""

    system: EhrSystem
    claims: dict[str, Any]

    def audit_fields(self) -> dict[str, Any]:
        return {k: self.claims[k] for k in ("iss", "sub", "jti", "tenant") if k in self.claims}


def claims_rules(issuer: str, audiences: list[str], *essential: str) -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "values": audiences},
        exp={"essential": True},
        **{name: {"essential": True} for name in essential},
    )


def check_claims(rules: JWTClaimsRegistry, claims: dict[str, Any]) -> None:
    try:
        rules.validate(claims)
    except ExpiredTokenError as exc:
        raise InvalidToken("token expired") from exc
    except MissingClaimError as exc:
        raise InvalidToken(f"missing claim: {exc.claim}") from exc
    except ClaimError as exc:
        raise InvalidToken(f"invalid claim: {exc.claim}") from exc


def verify_hook_jwt(settings: Settings, engine: Engine, token: str, audiences: list[str]) -> HookClient:
    """The EHR this token comes from, or InvalidToken with a short reason (never the token itself)."""
    obj, header, claims = unverified(token)
    issuer = claims.get("iss")
    system = system_for_issuer(settings, issuer) if isinstance(issuer, str) else None
    if system is None or not isinstance(issuer, str):
        raise InvalidToken("issuer is not a trusted EHR")
    if not (system.cds_jwks_url or system.cds_jwks_file):
        raise InvalidToken("no key set is configured for this issuer")
    jku = header.get("jku")
    if jku is not None and jku != system.cds_jwks_url:
        raise InvalidToken("jku is not the key set configured for this issuer")
    if system.cds_jwks_url:
        try:
            check_url(system.cds_jwks_url, settings, "the key set URL")
        except BadRequest as exc:  # a misconfigured URL refuses the token; it is never fetched
            raise InvalidToken(str(exc)) from None
    check_signature(obj, header, source_for(system.cds_jwks_url, system.cds_jwks_file))
    check_claims(claims_rules(issuer, audiences, "iat", "jti"), claims)
    now = datetime.now(UTC)
    expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
    if expires - now > timedelta(seconds=MAX_LIFETIME_SECONDS):
        raise InvalidToken(f"token lives longer than {MAX_LIFETIME_SECONDS} seconds")
    _use_once(engine, issuer, str(claims["jti"]), expires + timedelta(seconds=LEEWAY_SECONDS), now)
    return HookClient(system, claims)


def _use_once(engine: Engine, issuer: str, jti: str, keep_until: datetime, now: datetime) -> None:
    if len(jti) > 200:
        raise InvalidToken("jti longer than 200 characters")
    try:
        with Session(engine) as session, session.begin():
            session.execute(delete(EhrJwtIdTable).where(EhrJwtIdTable.expires_at < now))
            session.add(EhrJwtIdTable(issuer=issuer, jti=jti, expires_at=keep_until))
    except IntegrityError:
        raise InvalidToken("token already used (jti replayed)") from None
