"""Turn a credential into a ``Caller``; front-door agnostic (the API's deps and the tests call it).

Rule order, first match wins, and a credential that is present but wrong is refused outright (never
"fall through" to a weaker method):
1. ``Authorization: Bearer ctk_...``: an API key; role, user and panel scope come from the key.
2. ``Authorization: Bearer <JWT>``: an OIDC access token from the configured issuer; user from the user
   claim, role from the role claim, panel from the user's panel.
3. The session cookie: the caller the session was opened for (CSRF is checked by the API, which knows
   the method).
4. ``X-Caretrail-User`` / ``X-Caretrail-Role`` from a configured trusted proxy address only.
Nothing else, and nothing from a request body or query, makes a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.auth.apikeys import KEY_PREFIX, KeyStore
from assistant.auth.oidc import InvalidToken, OIDCConfig, OIDCVerifier
from assistant.auth.sessions import SessionStore, SignedIn
from assistant.errors import Unauthenticated
from assistant.roles import normalize_role
from assistant.services.caller import Caller
from assistant.settings import Settings

USER_HEADER = "x-caretrail-user"
ROLE_HEADER = "x-caretrail-role"


def cli_caller(settings: Settings) -> Caller:
    """The CLI acts as the configured local operator (a care manager unless configured otherwise)."""
    try:
        role = normalize_role(settings.cli_role)
    except ValueError as exc:
        raise Unauthenticated(f"CARETRAIL_CLI_ROLE: {exc}") from None
    user = settings.cli_user.strip()
    if not user:
        raise Unauthenticated("CARETRAIL_CLI_USER is empty")
    return Caller(user=user, role=role, auth="cli", client="cli")


def _oidc_config(settings: Settings) -> OIDCConfig | None:
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_audience or not (settings.oidc_jwks_file or settings.oidc_jwks_url):
        raise RuntimeError("CARETRAIL_OIDC_ISSUER needs CARETRAIL_OIDC_AUDIENCE and a JWKS file or URL")
    return OIDCConfig(issuer=settings.oidc_issuer, audience=settings.oidc_audience,
                      jwks_file=settings.oidc_jwks_file, jwks_url=settings.oidc_jwks_url)


class Authenticator:
    def __init__(self, settings: Settings, keys: KeyStore, sessions: SessionStore) -> None:
        self.settings = settings
        self.keys = keys
        self.sessions = sessions
        config = _oidc_config(settings)
        self.oidc = OIDCVerifier(config) if config else None

    def from_bearer(self, token: str, client: str | None) -> Caller:
        token = token.strip()
        if not token:
            raise Unauthenticated("empty bearer token")
        if token.startswith(KEY_PREFIX):
            key = self.keys.verify(token)
            if key is None:
                raise Unauthenticated("unknown or revoked API key")
            return Caller(user=key.user, role=key.role, auth="api_key", panel=key.panel, credential=key.name,
                          client=client)
        if self.oidc is None:
            raise Unauthenticated("bearer tokens are not accepted: no OIDC issuer is configured")
        try:
            claims = self.oidc.verify(token)
        except InvalidToken as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        return self._from_claims(claims, client)

    def _from_claims(self, claims: Mapping[str, Any], client: str | None) -> Caller:
        user = claims.get(self.settings.oidc_user_claim)
        if not isinstance(user, str) or not user.strip():
            raise Unauthenticated(f"token has no {self.settings.oidc_user_claim!r} claim")
        raw_role = claims.get(self.settings.oidc_role_claim)
        if isinstance(raw_role, list) and len(raw_role) == 1:
            raw_role = raw_role[0]
        if not isinstance(raw_role, str):
            raise Unauthenticated(f"token has no single {self.settings.oidc_role_claim!r} role claim")
        try:
            role = normalize_role(raw_role)
        except ValueError:
            raise Unauthenticated(f"token names an unknown role {raw_role[:64]!r}") from None
        return Caller(user=user.strip(), role=role, auth="oidc", credential=str(claims.get("iss")), client=client)

    def from_session(self, token: str, client: str | None) -> SignedIn:
        signed_in = self.sessions.lookup(token, client)
        if signed_in is None:
            raise Unauthenticated("the session has ended or expired; sign in again")
        return signed_in

    def from_proxy(self, headers: Mapping[str, str], client: str | None) -> Caller | None:
        """Identity headers, honoured only from a trusted proxy; from anyone else they are ignored."""
        if client is None or client not in self.settings.trusted_proxy_hosts:
            return None
        user = (headers.get(USER_HEADER) or "").strip()
        if not user:
            return None
        try:
            role = normalize_role(headers.get(ROLE_HEADER))
        except ValueError as exc:
            raise Unauthenticated(f"trusted proxy sent {exc}") from None
        return Caller(user=user, role=role, auth="proxy", credential=client, client=client)

    def start_session(self, caller: Caller) -> tuple[str, SignedIn]:
        return self.sessions.start(caller)

    def end_session(self, token: str) -> None:
        self.sessions.end(token)

