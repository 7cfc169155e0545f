"""Verify OIDC bearer tokens (compact JWS access or ID tokens) against the identity provider's JWKS.

The IdP rotates its signing keys, so the JWKS is loaded lazily, cached, and reloaded when a token names a
`kid` we do not hold. Reloads are rate-limited (at most one per `refresh_min_interval_seconds`, failed or not)
so that a flood of tokens with bogus kids cannot hammer the IdP; a failed reload keeps the keys already cached.

Only asymmetric algorithms are accepted: `none` and HS* are refused even if configured, because verifying an
HMAC with a public key as the secret is the classic algorithm-confusion forgery.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import Key, KeySet
from joserfc.jwt import JWTClaimsRegistry

__all__ = ["InvalidToken", "OIDCConfig", "OIDCVerifier"]


class InvalidToken(Exception):
    """A bearer token that must be refused; str(exc) is a short reason safe to log and audit (never the token)."""


def _is_asymmetric(alg: str) -> bool:
    return alg.lower() != "none" and not alg.upper().startswith("HS")


@dataclass(frozen=True)
class OIDCConfig:
    issuer: str
    audience: str
    jwks_file: Path | None = None  # a local JWKS JSON file ({"keys": [...]})
    jwks_url: str | None = None  # or a URL serving one
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: int = 60
    refresh_min_interval_seconds: float = 30.0  # never refetch the JWKS more often than this
    http_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError("exactly one of jwks_file and jwks_url must be set")
        if not self.issuer or not self.audience:
            raise ValueError("issuer and audience must be non-empty")
        if not any(_is_asymmetric(alg) for alg in self.algorithms):
            raise ValueError("algorithms must include at least one asymmetric algorithm")


class OIDCVerifier:
    def __init__(self, config: OIDCConfig) -> None:
        self._config = config
        self._algorithms = frozenset(alg for alg in config.algorithms if _is_asymmetric(alg))
        # Unknown (non-critical) header parameters are ignored, as RFC 7515 says.
        self._registry = jws.JWSRegistry(algorithms=sorted(self._algorithms), strict_check_header=False)
        self._claims = JWTClaimsRegistry(
            leeway=config.leeway_seconds,
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        self._lock = threading.Lock()  # guards _keys
        self._refresh_lock = threading.Lock()  # serialises reloads; guards _fetched_at
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None  # time.monotonic() of the last reload attempt

    def verify(self, token: str) -> dict[str, Any]:
        """Return the validated claims or raise InvalidToken."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise InvalidToken("not a compact JWS")
        try:
            obj = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError) as exc:
            raise InvalidToken("malformed token") from exc
        header = obj.protected
        if not isinstance(header, dict):
            raise InvalidToken("malformed token")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise InvalidToken("algorithm not allowed")
        if "crit" in header:
            raise InvalidToken("unsupported critical header")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing kid")

        key = self._key_for(kid, alg)
        try:
            valid = jws.validate_compact(obj, key, registry=self._registry)
        except JoseError as exc:  # e.g. the key's type does not fit the algorithm
            raise InvalidToken("bad signature") from exc
        if not valid:
            raise InvalidToken("bad signature")

        try:
            claims = json.loads(obj.payload)
        except ValueError as exc:
            raise InvalidToken("malformed claims") from exc
        if not isinstance(claims, dict):
            raise InvalidToken("malformed claims")
        try:
            self._claims.validate(claims)
        except ExpiredTokenError as exc:
            raise InvalidToken("token expired") from exc
        except MissingClaimError as exc:
            raise InvalidToken(f"missing claim: {exc.claim}") from exc
        except ClaimError as exc:
            raise InvalidToken(f"invalid claim: {exc.claim}") from exc
        return claims

    def _lookup(self, kid: str, alg: str) -> Key | None:
        with self._lock:
            keys = self._keys
        if keys is None:
            return None
        try:
            return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
        except JoseError:
            return None

    def _key_for(self, kid: str, alg: str) -> Key:
        key = self._lookup(kid, alg)
        if key is not None:
            return key
        with self._refresh_lock:
            key = self._lookup(kid, alg)  # another thread may have just reloaded
            if key is not None:
                return key
            now = time.monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._config.refresh_min_interval_seconds:
                raise InvalidToken("unknown kid" if self._keys is not None else "JWKS unavailable (retry later)")
            self._fetched_at = now
            try:
                keys = KeySet.import_key_set(self._read_jwks())
            except (OSError, ValueError, TypeError, KeyError, httpx.HTTPError, JoseError) as exc:
                raise InvalidToken(f"JWKS unavailable ({type(exc).__name__})") from exc
            with self._lock:
                self._keys = keys
        key = self._lookup(kid, alg)
        if key is None:
            raise InvalidToken("unknown kid")
        return key

    def _read_jwks(self) -> Any:
        if self._config.jwks_file is not None:
            data = json.loads(self._config.jwks_file.read_bytes())
        else:
            assert self._config.jwks_url is not None
            response = httpx.get(self._config.jwks_url, timeout=self._config.http_timeout_seconds)
            response.raise_for_status()
            data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("not a JWKS document")
        return data
