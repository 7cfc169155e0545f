"""The public keys of a trusted EHR (a JWKS file or URL from the settings), cached and reloaded on an unknown kid.

Keys are never taken from the token: a ``jku`` header is accepted only when it names the configured URL, and the
URL itself must be https (see ``trust.check_url``). EHRs rotate keys, so a token naming a kid we do not hold
reloads the set, at most once every ``REFRESH_SECONDS`` whatever the outcome, so that tokens with made-up kids
cannot turn Caretrail into a load generator against the EHR.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from assistant.auth.oidc import InvalidToken

REFRESH_SECONDS = 30.0
TIMEOUT_SECONDS = 5.0
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

_SOURCES: dict[tuple[str | None, str | None], KeySource] = {}
_SOURCES_LOCK = threading.Lock()


class KeySource:
    def __init__(self, jwks_url: str | None, jwks_file: Path | None) -> None:
        if (jwks_url is None) == (jwks_file is None):
            raise ValueError("exactly one of a JWKS URL and a JWKS file")
        self.jwks_url = jwks_url
        self.jwks_file = jwks_file
        self._keys: KeySet | None = None
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str, alg: str) -> Key:
        key = self._find(kid, alg)
        if key is not None:
            return key
        with self._lock:
            key = self._find(kid, alg)
            if key is not None:
                return key
            now = time.monotonic()
            if self._loaded_at is not None and now - self._loaded_at < REFRESH_SECONDS:
                raise InvalidToken("unknown kid" if self._keys is not None else "key set unavailable (retry later)")
            self._loaded_at = now
            try:
                self._keys = KeySet.import_key_set(self._read())
            except (OSError, ValueError, TypeError, KeyError, httpx.HTTPError, JoseError) as exc:
                raise InvalidToken(f"key set unavailable ({type(exc).__name__})") from exc
        key = self._find(kid, alg)
        if key is None:
            raise InvalidToken("unknown kid")
        return key

    def _find(self, kid: str, alg: str) -> Key | None:
        keys = self._keys
        if keys is None:
            return None
        try:
            return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
        except JoseError:
            return None

    def _read(self) -> Any:
        if self.jwks_file is not None:
            data = json.loads(self.jwks_file.read_bytes())
        else:
            assert self.jwks_url is not None
            response = httpx.get(self.jwks_url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
            data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("not a JWKS document")
        return data


def unverified(token: str) -> tuple[jws.CompactSignature, dict[str, Any], dict[str, Any]]:
    """The parts of a compact JWS, read but not yet trusted: (signature object, header, claims)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidToken("not a compact JWS")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidToken("malformed token") from exc
    header = obj.protected
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    return obj, header, claims


def check_signature(obj: jws.CompactSignature, header: dict[str, Any], source: KeySource) -> None:
    """The signature verifies with the key its ``kid`` names in ``source``, with an asymmetric algorithm only
    (``none`` and HMAC are refused: verifying an HMAC with a public key is the classic forgery)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise InvalidToken("algorithm not allowed (asymmetric signatures only)")
    if "crit" in header:
        raise InvalidToken("unsupported critical header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("missing kid")
    key = source.key(kid, alg)
    registry = jws.JWSRegistry(algorithms=[alg], strict_check_header=False)
    try:
        valid = jws.validate_compact(obj, key, registry=registry)
    except JoseError as exc:
        raise InvalidToken("bad signature") from exc
    if not valid:
        raise InvalidToken("bad signature")


def source_for(jwks_url: str | None, jwks_file: Path | None) -> KeySource:
    """One cached key set per URL or file (public keys only, so sharing them between contexts is harmless)."""
    cache_key = (jwks_url, str(jwks_file) if jwks_file else None)
    with _SOURCES_LOCK:
        if cache_key not in _SOURCES:
            _SOURCES[cache_key] = KeySource(jwks_url, jwks_file)
        return _SOURCES[cache_key]
