"""The OAuth side of a SMART launch, with the ``fhirclient`` package (SMART Health IT's Python client).

What fhirclient does here: the authorization request (``response_type=code``, ``client_id``, ``redirect_uri``,
``scope``, ``aud`` = the FHIR base URL, ``state``, ``launch`` for an EHR launch, and PKCE with S256), then, on the
callback, the state check and the code exchange with the PKCE verifier (and HTTP Basic client authentication for
a confidential client); it returns the token response, whose ``patient`` is the launch context. Its scope logic
adds ``launch`` (EHR launch) or ``launch/patient`` (standalone launch) to what we ask: ``openid fhirUser
patient/*.read``.

What it does not do, and Caretrail does around it: discovery from ``.well-known/smart-configuration`` (fhirclient
reads the older CapabilityStatement extension, so the endpoints found by ``discovery.py`` are handed to it as its
saved state), https checks, a timeout on its HTTP session (``requests`` has none by default), and the ID token,
which it ignores: ``id_token.py`` verifies it. fhirclient's state (verifier, endpoints) is kept server-side in
``smart_launches`` without the client secret, which is taken from the settings again at the callback.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import requests
from fhirclient.client import FHIRClient

from assistant.ehr.trust import base
from assistant.errors import Unauthenticated
from assistant.settings import EhrSystem

SCOPE = "openid fhirUser patient/*.read"
TIMEOUT_SECONDS = 10.0


class _TimeoutSession(requests.Session):
    """fhirclient's HTTP session, with a timeout and without redirects (the code must go to the token endpoint)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


@dataclass(frozen=True)
class Authorization:
    url: str  # where to send the browser
    state: str  # the OAuth state the callback must bring back
    client_state: dict[str, Any]  # fhirclient's state to resume from at the callback (no secret in it)


def _client_state(system: EhrSystem, discovery: dict[str, Any], redirect_uri: str, launch: str | None) -> dict:
    fhir_base = base(system.fhir_base_url)
    auth = {
        "app_id": system.smart_client_id,
        "aud": fhir_base,
        "redirect_uri": redirect_uri,
        "authorize_uri": discovery["authorization_endpoint"],
        "token_uri": discovery["token_endpoint"],
    }
    return {
        "app_id": system.smart_client_id,
        "scope": SCOPE,
        "redirect": redirect_uri,
        "launch_token": launch,
        "server": {"base_uri": fhir_base + "/", "auth_type": "oauth2", "auth": auth},
    }


def _without_secret(state: dict[str, Any]) -> dict[str, Any]:
    kept = copy.deepcopy(state)
    kept.pop("app_secret", None)
    (kept.get("server") or {}).get("auth", {}).pop("app_secret", None)
    return kept


def authorize(system: EhrSystem, discovery: dict[str, Any], redirect_uri: str, launch: str | None) -> Authorization:
    client = FHIRClient(state=_client_state(system, discovery, redirect_uri, launch))
    url = client.authorize_url
    state = client.server.auth.auth_state
    return Authorization(url, state, _without_secret(client.state))


def exchange(system: EhrSystem, client_state: dict[str, Any], callback_query: str) -> dict[str, Any]:
    """The token response (``access_token``, ``patient``, ``id_token``, ``scope``...) for the callback's code."""
    state = copy.deepcopy(client_state)
    if system.smart_client_secret is not None:
        secret = system.smart_client_secret.get_secret_value()
        state["app_secret"] = secret
        state["server"]["auth"]["app_secret"] = secret
    client = FHIRClient(state=state)
    client.server.session = _TimeoutSession()
    redirect = state["server"]["auth"]["redirect_uri"]
    try:
        client.handle_callback(f"{redirect}?{callback_query}")
    except Exception as exc:  # noqa: BLE001 - fhirclient raises bare Exception (bad state, refused code, HTTP errors)
        raise Unauthenticated(f"the EHR did not exchange the authorization code ({type(exc).__name__})") from None
    token = client.server.auth.access_token
    if not token:
        raise Unauthenticated("the EHR's token response has no access_token")
    return {**(client.launch_context or {}), "access_token": token}
