"""A small fake EHR for the CDS Hooks and SMART tests: an authorization server and a FHIR endpoint on loopback.

It speaks the specifications' shapes: ``.well-known/smart-configuration`` and the token response of SMART App
Launch 2.x (authorization code with PKCE S256, ``launch`` for an EHR launch, a patient picker for a standalone
launch, an OpenID Connect ID token with ``fhirUser``), a JWKS, FHIR reads and searches (searchset Bundles, with
``next`` pages) that need a bearer token it issued, and the signed JWT a CDS Client sends with every CDS Hooks
call. It checks what a real authorization server checks, and records every request so tests can see what
Caretrail sent (and that it sent nothing it should not have).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.context import open_context
from assistant.settings import EhrSystem, Settings
from tests.helpers import free_port

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chart(
    patient_id: str, practitioner_id: str, npi: str, mbi: str, today: date, prefix: str = ""
) -> list[dict[str, Any]]:
    """One patient's chart: a heart-failure stay discharged home yesterday, hypertension with a high reading,
    a loop diuretic; the patient's PCP is the practitioner (with an NPI). ``prefix`` keeps the resource ids of
    two charts apart."""
    admitted, discharged, visit = today - timedelta(days=5), today - timedelta(days=1), today - timedelta(days=60)
    subject = {"reference": f"Patient/{patient_id}"}
    active = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}
    return [
        {"resourceType": "Patient", "id": patient_id, "active": True, "gender": "male", "birthDate": "1945-12-23",
         "name": [{"use": "official", "family": "Watts", "given": ["Wade"]}],
         "identifier": [{"system": MBI_SYSTEM, "value": mbi}],
         "generalPractitioner": [{"reference": f"Practitioner/{practitioner_id}"}]},
        {"resourceType": "Practitioner", "id": practitioner_id, "identifier": [{"system": NPI_SYSTEM, "value": npi}],
         "name": [{"family": "Example", "given": ["Pat"], "prefix": ["Dr."]}]},
        {"resourceType": "Encounter", "id": f"{prefix}office-1", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}], "subject": subject,
         "period": {"start": f"{visit}T09:00:00-05:00", "end": f"{visit}T09:30:00-05:00"}},
        {"resourceType": "Encounter", "id": f"{prefix}89284", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}, "subject": subject,
         "period": {"start": f"{admitted}T08:00:00-05:00", "end": f"{discharged}T14:00:00-05:00"},
         "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9"}]}],
         "hospitalization": {"dischargeDisposition": {"coding": [{"code": "01"}]}}},
        {"resourceType": "Condition", "id": f"{prefix}hf", "subject": subject, "clinicalStatus": active,
         "onsetDateTime": str(admitted), "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                              "code": "I50.9"}]}},
        {"resourceType": "Condition", "id": f"{prefix}htn", "subject": subject, "clinicalStatus": active,
         "onsetDateTime": "2015-01-01", "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000"}]}},
        {"resourceType": "Observation", "id": f"{prefix}bp1", "status": "final", "subject": subject,
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                   "code": "vital-signs"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
         "effectiveDateTime": str(visit),
         "component": [
             {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
              "valueQuantity": {"value": 158, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                "code": "mm[Hg]"}},
             {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
              "valueQuantity": {"value": 96, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                "code": "mm[Hg]"}}]},
        {"resourceType": "MedicationRequest", "id": f"{prefix}rx1", "status": "active", "intent": "order",
         "subject": subject, "authoredOn": str(discharged),
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                   "code": "310429", "display": "furosemide 20 MG Oral Tablet"}]},
         "dosageInstruction": [{"text": "20 mg by mouth every morning"}]},
    ]  # fmt: skip


@dataclass
class Issued:
    code_challenge: str
    client_id: str
    redirect_uri: str
    scope: str
    patient: str | None
    encounter: str | None
    used: bool = False


@dataclass
class FakeEhr:
    """State of the fake EHR; ``url`` is set once it serves."""

    client_id: str = "caretrail-app"
    user: str = "Practitioner/example"  # who is signed in at the EHR
    standalone_patient: str = "1288992"  # what the patient picker chooses in a standalone launch
    url: str = ""
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    launches: dict[str, dict[str, str]] = field(default_factory=dict)  # launch id -> context
    codes: dict[str, Issued] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 1  # one resource a page, so that searches have next links
    signing_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "ehr-rs-1"}))
    hooks_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-384", parameters={"kid": "example-kid"}))
    id_token_key: RSAKey | None = None  # set to sign ID tokens with a key not in the JWKS

    @property
    def fhir(self) -> str:
        return f"{self.url}/fhir"

    @property
    def issuer(self) -> str:
        return self.url + "/"

    def add(self, *resources: dict[str, Any]) -> None:
        for resource in resources:
            self.resources[(resource["resourceType"], resource["id"])] = resource

    def access_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    def hook_jwt(self, aud: str, **changes: Any) -> str:
        """The JWT a CDS Client signs for one call (ES384 with kid and jku, as in the specification's example)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "client_id",
            "aud": aud,
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "tenant": "2ddd6c3a-8e9a-44c6-a305-52111ad302a2",
        }
        claims.update({k: v for k, v in changes.items() if v is not None})
        for name in [k for k, v in changes.items() if v is None]:
            claims.pop(name, None)
        header = {"alg": "ES384", "typ": "JWT", "kid": self.hooks_key.kid, "jku": f"{self.url}/jwks"}
        return jwt.encode(header, claims, self.hooks_key, algorithms=["ES384"])

    def patient_search(self, patient_id: str | None, include: str | None) -> dict[str, Any]:
        """``Patient?_id=X[&_include=Patient:general-practitioner]``: the patient and, asked, their PCPs."""
        patient = self.resources.get(("Patient", patient_id or ""))
        entries = []
        if patient is not None:
            entries.append({"resource": patient, "search": {"mode": "match"}})
            if include == "Patient:general-practitioner":
                for link in patient.get("generalPractitioner") or []:
                    kind, _, ident = link["reference"].partition("/")
                    if (kind, ident) in self.resources:
                        entries.append({"resource": self.resources[(kind, ident)], "search": {"mode": "include"}})
        return {"resourceType": "Bundle", "type": "searchset", "total": 1 if patient else 0, "entry": entries}

    def requests_to(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def app(self) -> FastAPI:
        app = FastAPI()
        owner = self

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            owner.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "authorization": request.headers.get("authorization"),
                }
            )
            return await call_next(request)

        @app.get("/fhir/.well-known/smart-configuration")
        def smart_configuration() -> dict[str, Any]:
            return {
                "issuer": owner.issuer, "jwks_uri": f"{owner.url}/jwks",
                "authorization_endpoint": f"{owner.url}/oauth/authorize", "token_endpoint": f"{owner.url}/oauth/token",
                "grant_types_supported": ["authorization_code"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "patient/*.read",
                                     "patient/*.rs", "offline_access"],
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "capabilities": ["launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
                                 "context-ehr-patient", "context-standalone-patient", "sso-openid-connect",
                                 "permission-patient", "permission-v1"],
            }  # fmt: skip

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {
                "keys": [
                    owner.signing_key.as_dict(private=False, use="sig", alg="RS256"),
                    owner.hooks_key.as_dict(private=False, use="sig", alg="ES384"),
                ]
            }

        @app.get("/oauth/authorize")
        def authorize(request: Request) -> Any:
            q = request.query_params
            wrong = _authorize_errors(owner, q)
            if wrong:
                return JSONResponse({"error": "invalid_request", "error_description": wrong}, status_code=400)
            scopes = q["scope"].split()
            if "launch" in scopes:
                context = owner.launches.get(q["launch"])
                if context is None:
                    return JSONResponse({"error": "invalid_request", "error_description": "unknown launch"}, 400)
            else:
                context = {"patient": owner.standalone_patient}  # the patient picker's choice
            code = secrets.token_urlsafe(16)
            owner.codes[code] = Issued(
                q["code_challenge"],
                q["client_id"],
                q["redirect_uri"],
                q["scope"],
                context.get("patient"),
                context.get("encounter"),
            )
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        @app.post("/oauth/token")
        async def token(request: Request) -> Any:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            grant_type, code, redirect_uri = form.get("grant_type"), form.get("code", ""), form.get("redirect_uri")
            code_verifier, client_id = form.get("code_verifier", ""), form.get("client_id", "")
            issued = owner.codes.get(code)
            if grant_type != "authorization_code" or issued is None or issued.used:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            issued.used = True
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
            if challenge.decode() != issued.code_challenge:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE check failed"}, 400)
            if redirect_uri != issued.redirect_uri or client_id != issued.client_id:
                return JSONResponse({"error": "invalid_grant", "error_description": "redirect or client"}, 400)
            now = int(time.time())
            claims = {
                "iss": owner.issuer,
                "sub": owner.user.replace("/", "-"),
                "aud": owner.client_id,
                "iat": now,
                "exp": now + 300,
                "fhirUser": f"{owner.fhir}/{owner.user}",
            }
            key = owner.id_token_key or owner.signing_key
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])
            body = {
                "access_token": owner.access_token(),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": issued.scope,
                "id_token": id_token,
                "need_patient_banner": False,
            }
            if issued.patient:
                body["patient"] = issued.patient
            if issued.encounter:
                body["encounter"] = issued.encounter
            return body

        @app.get("/fhir/{resource_type}/{resource_id}")
        def read(resource_type: str, resource_id: str, request: Request) -> Any:
            if not _authorized(owner, request):
                return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
            found = owner.resources.get((resource_type, resource_id))
            if found is None:
                return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)
            return found

        @app.get("/fhir/{resource_type}")
        def search(resource_type: str, request: Request) -> Any:
            if not _authorized(owner, request):
                return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
            if resource_type == "Patient":
                return owner.patient_search(request.query_params.get("_id"), request.query_params.get("_include"))
            patient = request.query_params.get("patient")
            offset = int(request.query_params.get("_offset", "0"))
            matches = [
                r
                for (t, _), r in sorted(owner.resources.items())
                if t == resource_type and (r.get("subject") or {}).get("reference") == f"Patient/{patient}"
            ]
            page = matches[offset : offset + owner.page_size]
            bundle: dict[str, Any] = {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(matches),
                "entry": [
                    {"fullUrl": f"{owner.fhir}/{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                    for r in page
                ],
            }
            if offset + owner.page_size < len(matches):
                query = urlencode({"patient": patient, "_offset": offset + owner.page_size})
                bundle["link"] = [{"relation": "next", "url": f"{owner.fhir}/{resource_type}?{query}"}]
            return bundle

        return app


@dataclass
class World:
    """The fake EHR and Caretrail, each on its own loopback port, and an HTTP client (no redirects followed)."""

    ehr: FakeEhr
    ctx: Any
    url: str
    http: httpx.Client


@contextmanager
def running(data_dir: Path, stock: Callable[[FakeEhr], EhrSystem], prepare: Callable[[Any], None]) -> Iterator[World]:
    """Start the fake EHR, let ``stock`` fill it and say how Caretrail trusts it, open Caretrail's context on
    ``data_dir`` (``prepare`` sets up users and knowledge), and serve Caretrail."""
    ehr = FakeEhr()
    with serve(ehr.app()) as ehr_url:
        ehr.url = ehr_url
        settings = Settings(
            data_dir=data_dir,
            ehr_systems=[stock(ehr)],
            ehr_allow_loopback_http=True,
            rate_limit="100000/minute",
            auth_failure_limit="100000/minute",
        )
        ctx = open_context(settings)
        prepare(ctx)
        app = create_app(settings)
        app.dependency_overrides[get_ctx] = lambda: ctx
        with serve(app) as url, httpx.Client(base_url=url, timeout=60, follow_redirects=False) as http:
            yield World(ehr, ctx, url, http)


def _authorize_errors(ehr: FakeEhr, q: Any) -> str | None:
    """What a SMART 2.x authorization server would refuse in the authorization request."""
    for name in (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "aud",
        "code_challenge",
        "code_challenge_method",
    ):
        if not q.get(name):
            return f"missing {name}"
    if q["response_type"] != "code" or q["client_id"] != ehr.client_id:
        return "wrong response_type or client_id"
    if q["code_challenge_method"] != "S256":
        return "PKCE must use S256"
    if q["aud"].rstrip("/") != ehr.fhir:
        return "aud is not this FHIR server"
    scopes = q["scope"].split()
    if "launch" in scopes and not q.get("launch"):
        return "launch scope without a launch parameter"
    return None


def _authorized(ehr: FakeEhr, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return header.startswith("Bearer ") and header[7:] in ehr.tokens
