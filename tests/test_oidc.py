"""OIDCVerifier with real keys and signatures, and a real JWKS server on 127.0.0.1 (or a JWKS file)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, Key, RSAKey

from assistant.auth.oidc import InvalidToken, OIDCConfig, OIDCVerifier

ISSUER = "https://idp.example.test/realms/caretrail"
AUDIENCE = "caretrail-api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def _sign(key: Key, *, alg: str = "RS256", kid: str | None = None, drop: tuple[str, ...] = (), **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "iat": now, "exp": now + 300}
    payload.update(claims)
    for name in drop:
        del payload[name]
    return jwt.encode({"alg": alg, "kid": kid or key.kid}, payload, key, algorithms=[alg])


def _reason(verifier: OIDCVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as info:
        verifier.verify(token)
    return str(info.value)


class JWKSServer:
    """Serves ``self.document`` as JSON on every GET (after ``self.delay`` seconds) and counts the requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.delay = 0.0
        self.hits = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                with owner._lock:
                    owner.hits += 1
                    body = json.dumps(owner.document).encode()
                time.sleep(owner.delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


@pytest.fixture(scope="module")
def new_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})


@pytest.fixture(scope="module")
def stranger_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "stranger"})


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx honours proxy variables; the JWKS server is on loopback.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(rsa_key: RSAKey, ec_key: ECKey) -> Iterator[JWKSServer]:
    srv = JWKSServer(_jwks(rsa_key, ec_key))
    yield srv
    srv.stop()


def _verifier(server: JWKSServer, **options: Any) -> OIDCVerifier:
    return OIDCVerifier(OIDCConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url=server.url, **options))


@pytest.fixture
def verifier(server: JWKSServer) -> OIDCVerifier:
    return _verifier(server)


# --- accepted tokens ---


def test_valid_token_returns_claims_and_jwks_is_fetched_lazily_once(
    server: JWKSServer, verifier: OIDCVerifier, rsa_key: RSAKey
) -> None:
    assert server.hits == 0
    claims = verifier.verify(_sign(rsa_key, email="a@example.test"))
    assert claims["sub"] == "user-123"
    assert claims["iss"] == ISSUER
    assert claims["email"] == "a@example.test"
    assert server.hits == 1
    verifier.verify(_sign(rsa_key))
    assert server.hits == 1


def test_valid_token_from_jwks_file(tmp_path: Path, rsa_key: RSAKey) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(_jwks(rsa_key)))
    verifier = OIDCVerifier(OIDCConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file))
    assert verifier.verify(_sign(rsa_key))["sub"] == "user-123"


def test_valid_es256_token(verifier: OIDCVerifier, ec_key: ECKey) -> None:
    assert verifier.verify(_sign(ec_key, alg="ES256"))["sub"] == "user-123"


def test_audience_list_containing_ours_is_accepted(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    claims = verifier.verify(_sign(rsa_key, aud=["account", AUDIENCE]))
    assert claims["aud"] == ["account", AUDIENCE]


def test_expiry_within_leeway_is_accepted(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    now = int(time.time())
    assert verifier.verify(_sign(rsa_key, iat=now - 600, exp=now - 30))["sub"] == "user-123"


# --- refused claims ---


def test_expired_token(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    now = int(time.time())
    assert _reason(verifier, _sign(rsa_key, iat=now - 7200, exp=now - 3600)) == "token expired"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_token_not_yet_valid(verifier: OIDCVerifier, rsa_key: RSAKey, claim: str) -> None:
    now = int(time.time())
    token = _sign(rsa_key, exp=now + 7200, **{claim: now + 3600})
    assert _reason(verifier, token) == f"invalid claim: {claim}"


def test_wrong_issuer(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    assert _reason(verifier, _sign(rsa_key, iss=ISSUER + "/")) == "invalid claim: iss"


@pytest.mark.parametrize("aud", ["other-api", ["account", "other-api"]])
def test_wrong_audience(verifier: OIDCVerifier, rsa_key: RSAKey, aud: str | list[str]) -> None:
    assert _reason(verifier, _sign(rsa_key, aud=aud)) == "invalid claim: aud"


@pytest.mark.parametrize("claim", ["sub", "exp", "iss", "aud"])
def test_missing_required_claim(verifier: OIDCVerifier, rsa_key: RSAKey, claim: str) -> None:
    assert _reason(verifier, _sign(rsa_key, drop=(claim,))) == f"missing claim: {claim}"


@pytest.mark.parametrize("sub", ["", 42])
def test_sub_must_be_a_non_empty_string(verifier: OIDCVerifier, rsa_key: RSAKey, sub: object) -> None:
    assert _reason(verifier, _sign(rsa_key, sub=sub)) == "invalid claim: sub"


# --- refused signatures, algorithms and shapes ---


def test_tampered_payload(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    header, payload, signature = _sign(rsa_key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    tampered = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    assert _reason(verifier, tampered) == "bad signature"


def test_token_signed_by_a_key_not_in_the_jwks(
    server: JWKSServer, verifier: OIDCVerifier, rsa_key: RSAKey, stranger_key: RSAKey
) -> None:
    assert _reason(verifier, _sign(stranger_key, kid=rsa_key.kid)) == "bad signature"
    assert _reason(verifier, _sign(stranger_key)) == "unknown kid"


def test_alg_none_is_refused(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    good = _sign(rsa_key)
    header = _b64(json.dumps({"alg": "none", "kid": rsa_key.kid, "typ": "JWT"}).encode())
    assert _reason(verifier, f"{header}.{good.split('.')[1]}.") == "algorithm not allowed"


def test_hs256_signed_with_the_rsa_public_key_is_refused_even_if_listed(server: JWKSServer, rsa_key: RSAKey) -> None:
    verifier = _verifier(server, algorithms=("RS256", "HS256"))
    # The attacker's forgery: HMAC keyed with the public key PEM (joserfc itself refuses PEM as an oct key).
    header = _b64(json.dumps({"alg": "HS256", "kid": rsa_key.kid, "typ": "JWT"}).encode())
    payload = _sign(rsa_key).split(".")[1]
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(rsa_key.as_pem(private=False), signing_input, hashlib.sha256).digest()
    assert _reason(verifier, f"{header}.{payload}.{_b64(mac)}") == "algorithm not allowed"
    assert verifier.verify(_sign(rsa_key))["sub"] == "user-123"  # the same verifier accepts the real thing


def test_algorithm_not_in_config_is_refused(server: JWKSServer, ec_key: ECKey) -> None:
    verifier = _verifier(server, algorithms=("RS256",))
    assert _reason(verifier, _sign(ec_key, alg="ES256")) == "algorithm not allowed"


def test_jwe_is_refused(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    token = jwe.encrypt_compact(
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": rsa_key.kid},
        json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "exp": int(time.time()) + 300}),
        rsa_key,
        algorithms=["RSA-OAEP-256", "A256GCM"],
    )
    assert token.count(".") == 4
    assert _reason(verifier, token) == "not a compact JWS"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30.", "WyJhbGciXQ.e30.AA"])
def test_garbage_is_refused(verifier: OIDCVerifier, token: str) -> None:
    assert _reason(verifier, token) in {"not a compact JWS", "malformed token"}


def test_missing_kid_is_refused(verifier: OIDCVerifier, rsa_key: RSAKey) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "exp": now + 300}
    token = jwt.encode({"alg": "RS256"}, claims, rsa_key, algorithms=["RS256"])
    assert _reason(verifier, token) == "missing kid"


# --- JWKS cache, rotation, rate limit, outage ---


def test_key_rotation_is_picked_up_after_one_refetch(server: JWKSServer, rsa_key: RSAKey, new_rsa_key: RSAKey) -> None:
    verifier = _verifier(server, refresh_min_interval_seconds=0.3)
    verifier.verify(_sign(rsa_key))
    assert server.hits == 1
    server.document = _jwks(new_rsa_key)
    new_token = _sign(new_rsa_key)
    assert _reason(verifier, new_token) == "unknown kid"  # within the interval: no refetch yet
    assert server.hits == 1
    time.sleep(0.35)
    assert verifier.verify(new_token)["sub"] == "user-123"
    assert server.hits == 2
    verifier.verify(new_token)
    assert server.hits == 2


def test_concurrent_requests_with_a_new_kid_share_one_refetch(
    server: JWKSServer, rsa_key: RSAKey, new_rsa_key: RSAKey
) -> None:
    verifier = _verifier(server, refresh_min_interval_seconds=0.3)
    verifier.verify(_sign(rsa_key))
    server.document = _jwks(rsa_key, new_rsa_key)
    server.delay = 0.2  # a slow IdP: the other requests queue up behind the one refetch
    time.sleep(0.35)
    new_token = _sign(new_rsa_key)
    with ThreadPoolExecutor(max_workers=8) as pool:
        subjects = list(pool.map(lambda token: verifier.verify(token)["sub"], [new_token] * 16))
    assert subjects == ["user-123"] * 16
    assert server.hits == 2


def test_key_rotation_in_jwks_file(tmp_path: Path, rsa_key: RSAKey, new_rsa_key: RSAKey) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(_jwks(rsa_key)))
    config = OIDCConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file, refresh_min_interval_seconds=0)
    verifier = OIDCVerifier(config)
    verifier.verify(_sign(rsa_key))
    jwks_file.write_text(json.dumps(_jwks(new_rsa_key)))
    assert verifier.verify(_sign(new_rsa_key))["sub"] == "user-123"
    assert _reason(verifier, _sign(rsa_key)) == "unknown kid"  # the retired key is gone


def test_flood_of_unknown_kids_refetches_at_most_once(
    server: JWKSServer, rsa_key: RSAKey, stranger_key: RSAKey
) -> None:
    verifier = _verifier(server, refresh_min_interval_seconds=1.0)
    verifier.verify(_sign(rsa_key))
    assert server.hits == 1
    bogus = [_sign(stranger_key, kid=f"bogus-{i}") for i in range(50)]
    time.sleep(1.05)  # the interval has passed: one refetch is allowed

    def attempt(token: str) -> str:
        try:
            verifier.verify(token)
        except InvalidToken as exc:
            return str(exc)
        return "accepted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        reasons = list(pool.map(attempt, bogus))
    assert reasons == ["unknown kid"] * 50
    assert server.hits == 2
    assert verifier.verify(_sign(rsa_key))["sub"] == "user-123"
    assert server.hits == 2


def test_jwks_server_down_refuses_new_kids_but_keeps_cached_keys(
    server: JWKSServer, rsa_key: RSAKey, new_rsa_key: RSAKey
) -> None:
    verifier = _verifier(server, refresh_min_interval_seconds=0, http_timeout_seconds=2.0)
    verifier.verify(_sign(rsa_key))
    server.stop()
    assert _reason(verifier, _sign(new_rsa_key)).startswith("JWKS unavailable")
    assert verifier.verify(_sign(rsa_key))["sub"] == "user-123"


def test_jwks_unavailable_at_first_use(server: JWKSServer, rsa_key: RSAKey) -> None:
    verifier = _verifier(server, http_timeout_seconds=2.0)
    server.stop()
    assert _reason(verifier, _sign(rsa_key)).startswith("JWKS unavailable")


# --- configuration ---


@pytest.mark.parametrize(
    "sources",
    [{}, {"jwks_file": Path("jwks.json"), "jwks_url": "http://127.0.0.1:1/jwks.json"}],
    ids=["neither", "both"],
)
def test_exactly_one_jwks_source(sources: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        OIDCConfig(issuer=ISSUER, audience=AUDIENCE, **sources)


def test_only_symmetric_algorithms_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        OIDCConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url="http://127.0.0.1:1/", algorithms=("HS256", "none"))
