"""SMART App Launch 2.x discovery: ``{iss}/.well-known/smart-configuration``.

Only a trusted EHR's FHIR base URL is ever asked (``iss`` comes from the browser and is checked first), with
httpx, no redirects, and every endpoint the document names must itself be https (``trust.check_url``), because
the authorization code and the PKCE verifier go to the token endpoint. A server that lists its PKCE methods
without S256 is refused: SMART 2.x requires S256, and a downgrade to ``plain`` would defeat it.
"""

from __future__ import annotations

from typing import Any

import httpx

from assistant.ehr.trust import base, check_url
from assistant.errors import CaretrailError
from assistant.settings import Settings

TIMEOUT_SECONDS = 5.0


class UpstreamError(CaretrailError):
    """The EHR's discovery or token endpoint did not answer as the specification says."""

    status_code = 502
    exit_code = 1


def discover(settings: Settings, fhir_base_url: str) -> dict[str, Any]:
    """The endpoints Caretrail needs: authorization, token, and the issuer and key set of the ID token."""
    url = check_url(f"{base(fhir_base_url)}/.well-known/smart-configuration", settings, "the SMART configuration")
    try:
        response = httpx.get(
            url, timeout=TIMEOUT_SECONDS, follow_redirects=False, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise UpstreamError(f"the EHR's SMART configuration did not answer ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise UpstreamError(f"the EHR's SMART configuration answered {response.status_code}")
    try:
        config = response.json()
    except ValueError:
        raise UpstreamError("the EHR's SMART configuration is not JSON") from None
    if not isinstance(config, dict):
        raise UpstreamError("the EHR's SMART configuration is not a JSON object")
    found: dict[str, Any] = {}
    for name in ("authorization_endpoint", "token_endpoint"):
        value = config.get(name)
        if not isinstance(value, str):
            raise UpstreamError(f"the EHR's SMART configuration has no {name}")
        found[name] = check_url(value, settings, f"the EHR's {name}")
    methods = config.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise UpstreamError("the EHR does not support PKCE with S256, which SMART App Launch 2.x requires")
    if isinstance(config.get("jwks_uri"), str):
        found["jwks_uri"] = check_url(config["jwks_uri"], settings, "the EHR's jwks_uri")
    if isinstance(config.get("issuer"), str):
        found["issuer"] = config["issuer"]
    capabilities = config.get("capabilities")
    found["capabilities"] = [c for c in capabilities if isinstance(c, str)] if isinstance(capabilities, list) else []
    return found
