"""Who signed in at the EHR: the OpenID Connect ID token of a SMART launch, verified before it is believed.

The token must be signed (asymmetric algorithms only) by a key in the ``jwks_uri`` the EHR's SMART configuration
names, issued by its ``issuer``, for Caretrail's ``client_id``, and not expired; its ``fhirUser`` claim (SMART
2.x; ``profile`` in 1.0) names the user's FHIR resource. Without an issuer and key set in the configuration, no
one can be signed in: an unverifiable token names nobody.
"""

from __future__ import annotations

from typing import Any

from assistant.auth.oidc import InvalidToken
from assistant.ehr.hook_jwt import check_claims, claims_rules
from assistant.ehr.keys import check_signature, source_for, unverified
from assistant.errors import Unauthenticated


def verify(discovery: dict[str, Any], client_id: str, token: Any) -> tuple[str, dict[str, Any]]:
    """(the ``fhirUser`` reference, the claims) of a valid ID token, or Unauthenticated with the reason."""
    if not isinstance(token, str):
        raise Unauthenticated("the EHR sent no id_token: Caretrail asks for openid fhirUser to know who signed in")
    issuer, jwks_uri = discovery.get("issuer"), discovery.get("jwks_uri")
    if not issuer or not jwks_uri:
        raise Unauthenticated("the EHR's SMART configuration names no issuer and jwks_uri to verify the id_token")
    try:
        obj, header, claims = unverified(token)
        check_signature(obj, header, source_for(jwks_uri, None))
        check_claims(claims_rules(issuer, [client_id], "sub", "iat"), claims)
    except InvalidToken as exc:
        raise Unauthenticated(f"invalid id_token: {exc}") from None
    user = claims.get("fhirUser") or claims.get("profile")
    if not isinstance(user, str) or not user:
        raise Unauthenticated("the id_token has no fhirUser claim")
    return user, claims
