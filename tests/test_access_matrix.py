"""Every route x every role x patient in or out of the panel x every kind of credential x a role smuggled in.

The matrix is generated from the app's own route table: a route this file has no expectation for, or one
that declares no access rule, fails the test. The expectations are written here from the product's rules
(analysts see aggregates and the roster audit, not notes; admins see all; the care team sees its panel),
not imported from the policy module, so a wrong grant in the code is caught. Everything is real: the app
on a real data dir, real API keys and sessions, OIDC tokens signed with a real key and checked against a
JWKS file, and each refusal is looked up in the audit log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.audit.tables import AuditRow
from assistant.auth.sessions import COOKIE_NAME, SessionStore
from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.index.tables import ChunkRow
from assistant.ingest.pipeline import ingest_paths
from assistant.roles import ROLES
from assistant.services.caller import Caller, PanelScope
from assistant.settings import Settings
from tests.helpers import database_bytes

pytestmark = pytest.mark.slow

ISSUER = "https://idp.matrix.test/realms/aco"
AUDIENCE = "caretrail"
MBI_IN, MBI_OUT = "1EG4TE5MK73", "2QW7RT9PK41"
NOTE = "Patient: mbi|{mbi}\nCare manager note\n\nThe daughter {name} manages the insulin pens every evening.\n"
A03 = ("MSH|^~\\&|EPICADT|GOODHOSP|CARETRAIL|ACO|20261120140500||ADT^A03^ADT_A03|{mbi}|P|2.5.1\r"
       "PID|1||{mbi}^^^CMS^MB\r"
       "PV1|1|I|4W||||||||||||||||V-{mbi}|||||||||||||||||01||||||||20261116080000|20261120140000\r")

# What each role may do, from the product's rules (not from assistant.services.policy).
CARE_TEAM = {"knowledge.ask", "patient.read", "panel.read", "redact"}
# The ACO's own care team drafts and reviews messages to patients; a specialist outside it does not.
OUTREACH = CARE_TEAM | {"outreach.draft", "outreach.review"}
GRANTED: dict[str, set[str]] = {
    "care_manager": OUTREACH,
    "care_coordinator": OUTREACH,
    "clinician": OUTREACH,
    "outreach": OUTREACH,
    "nurse": OUTREACH,
    "community_health_worker": OUTREACH,
    "pharmacist": OUTREACH,
    "specialist": CARE_TEAM,
    "analyst": {"knowledge.ask", "aggregates.read", "roster.audit", "redact"},
    "admin": OUTREACH | {"aggregates.read", "roster.audit", "panels.manage", "keys.manage", "audit.read",
                         "outreach.templates"},
}

# Every route: the access rule it must declare, and whether it reaches one patient (or one user's panel).
EXPECTED_RULES: dict[tuple[str, str], tuple[str, bool]] = {
    ("GET", "/openapi.json"): ("public", False),
    ("GET", "/ui"): ("public", False),
    ("GET", "/"): ("public", False),
    ("GET", "/login"): ("public", False),
    ("GET", "/healthz"): ("public", False),
    ("POST", "/v1/session"): ("public", False),
    ("GET", "/v1/session"): ("authenticated", False),
    ("DELETE", "/v1/session"): ("authenticated", False),
    ("POST", "/v1/ask"): ("knowledge.ask", True),
    ("GET", "/v1/sources/{chunk_id:path}"): ("knowledge.ask", True),
    ("GET", "/v1/patients"): ("panel.read", False),
    ("GET", "/v1/patients/{ref:path}"): ("patient.read", True),
    ("GET", "/v1/stats"): ("aggregates.read", False),
    ("GET", "/v1/roster/audit"): ("roster.audit", False),
    ("POST", "/v1/redact"): ("redact", False),
    ("GET", "/v1/panels/{user}"): ("panel.read", True),
    ("POST", "/v1/panels/{user}"): ("panels.manage", False),
    ("GET", "/v1/transitions"): ("panel.read", False),
    ("GET", "/v1/checklists/{ref:path}"): ("patient.read", True),
    ("POST", "/v1/transitions/{episode_id}/items/{item_id}"): ("patient.read", True),
    ("GET", "/v1/patients/{ref}/guidance"): ("patient.read", True),
    ("POST", "/v1/guidance/{item_id}/status"): ("patient.read", True),
    ("GET", "/v1/worklist"): ("panel.read", False),
    ("GET", "/v1/measures/report"): ("authenticated", False),  # the service shows each role what it may see
    ("POST", "/v1/patients/{ref}/outreach"): ("outreach.draft", True),
    ("GET", "/v1/outreach/drafts/{draft_id}"): ("outreach.draft", False),
    ("POST", "/v1/outreach/drafts/{draft_id}"): ("outreach.review", False),
    ("GET", "/v1/outreach/drafts/{draft_id}/letter.pdf"): ("outreach.draft", False),
    ("POST", "/v1/outreach/replies"): ("outreach.draft", True),
    ("GET", "/cds-services"): ("public", False),
    ("POST", "/cds-services/{service_id}"): ("cds_hooks", True),
    ("POST", "/cds-services/{service_id}/feedback"): ("cds_hooks", False),
    ("GET", "/smart/launch"): ("public", False),
    ("GET", "/smart/login"): ("public", False),
    ("GET", "/smart/callback"): ("state_bound", False),
    ("POST", "/v1/conversations"): ("knowledge.ask", True),
    ("GET", "/v1/conversations"): ("knowledge.ask", False),
    ("GET", "/v1/conversations/{conversation_id}"): ("knowledge.ask", True),
    ("POST", "/v1/conversations/{conversation_id}/messages"): ("knowledge.ask", True),
}
# The matrix trusts no EHR: a SMART launch from its `iss` is refused (400) whoever asks; a callback without the
# launch cookie of the browser that started it is refused (400). CDS Hooks calls take an EHR's signed JWT (tested
# in test_cds_hooks.py) or one of our API keys, never a session or an OIDC token; feedback on a card that was never
# returned is 404 after the role check.
PUBLIC_REFUSED = {("GET", "/smart/launch"): 400, ("GET", "/smart/login"): 400}
MATRIX_EHR = "https://ehr.matrix.test/fhir"
# The matrix's patients have no first name and its settings no organization name: a draft the caller may make is
# refused for the missing fact (422), after the access checks. No draft has the id "od-none" (404).
UNPROCESSABLE = {("POST", "/v1/patients/{ref}/outreach")}
NO_SUCH_DRAFT = {("GET", "/v1/outreach/drafts/{draft_id}"), ("POST", "/v1/outreach/drafts/{draft_id}"),
                 ("GET", "/v1/outreach/drafts/{draft_id}/letter.pdf")}
FRAMEWORK_PUBLIC = {"/openapi.json", "/ui"}
BAD_CREDENTIALS = ("none", "garbage-key", "revoked-key", "expired-token", "wrong-audience", "ended-session")
GOOD_CREDENTIALS = ("api_key", "oidc", "session")
SMUGGLED = ("plain", "body", "query", "headers")


@dataclass
class World:
    client: TestClient
    ctx: Any
    signing_key: RSAKey
    keys: dict[str, str]  # role -> active key secret
    revoked: dict[str, str]  # role -> revoked key secret
    chunk: dict[str, str]  # "in"/"out" -> a chunk id of that patient's note
    ended_cookie: str


def _token(key: RSAKey, role: str, audience: str = AUDIENCE, lifetime: int = 300) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": audience, "sub": f"{role}-user", "caretrail_role": role, "iat": now - 10,
              "exp": now + lifetime}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("matrix")
    signing_key = RSAKey.generate_key(2048, parameters={"kid": "matrix-1"})
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps({"keys": [signing_key.as_dict(private=False)]}), encoding="utf-8")
    settings = Settings(data_dir=root / "data", oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=jwks,
                        rate_limit="100000/minute", auth_failure_limit="100000/minute")
    ctx = open_context(settings)
    ingest_knowledge(ctx.knowledge_deps)  # guidance cites sentences across the whole knowledge base
    notes = root / "notes"
    notes.mkdir()
    (notes / "in.txt").write_text(NOTE.format(mbi=MBI_IN, name="Rosalind"), encoding="utf-8")
    (notes / "out.txt").write_text(NOTE.format(mbi=MBI_OUT, name="Philippa"), encoding="utf-8")
    summary = ingest_paths(ctx.ingest_deps, [notes])
    assert summary.errors == [] and summary.documents == 2
    discharges = root / "adt"  # a discharge for each patient, so each has a checklist
    discharges.mkdir()
    for mbi in (MBI_IN, MBI_OUT):
        (discharges / f"{mbi}.hl7").write_text(A03.format(mbi=mbi), encoding="utf-8")
    assert ingest_paths(ctx.ingest_deps, [discharges]).errors == []
    inside = ctx.patients.resolve_patient(MBI_IN).id
    outside = ctx.patients.resolve_patient(MBI_OUT).id
    chunk = {}
    with Session(ctx.engine) as session:
        for relation, patient_id in (("in", inside), ("out", outside)):
            query = select(ChunkRow.chunk_id).where(ChunkRow.patient_id == patient_id)
            chunk[relation] = session.scalars(query).first()
    keys, revoked = {}, {}
    for role in ROLES:
        ctx.patients.assign_panel(f"{role}-user", [inside])
        keys[role], _ = ctx.keys.create(f"key-{role}", role, f"{role}-user", PanelScope())
        revoked[role], _ = ctx.keys.create(f"old-{role}", role, f"{role}-user", PanelScope())
        ctx.keys.revoke(f"old-{role}")
    expired_sessions = SessionStore(ctx.engine, timedelta(minutes=-1))
    ended_cookie, _ = expired_sessions.start(Caller("care_manager-user", "care_manager", "api_key",
                                                    credential="key-care_manager"))
    app = create_app(settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app, base_url="https://testserver") as client:
        yield World(client, ctx, signing_key, keys, revoked, chunk, ended_cookie)


def _declared_rule(route: Any) -> str | None:
    if not hasattr(route, "dependant"):  # the framework's own: the OpenAPI document and the static mount
        return "public" if route.path in FRAMEWORK_PUBLIC else None
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        rule = getattr(dependant.call, "policy", None)
        if rule is not None:
            return rule
        stack.extend(dependant.dependencies)
    return None


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    rule: str | None


def _routes(world: World) -> list[RouteInfo]:
    """The app's own route table, routers flattened (FastAPI's public ``iter_route_contexts``)."""
    found = []
    for route in iter_route_contexts(world.client.app.routes):  # type: ignore[attr-defined]
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            found.append(RouteInfo(method, route.path, _declared_rule(route)))
    return found


def test_every_route_declares_the_rule_this_matrix_expects(world: World) -> None:
    seen = set()
    for route in _routes(world):
        key = (route.method, route.path)
        seen.add(key)
        assert key in EXPECTED_RULES, f"new route {key}: add it to the access matrix with its rule"
        assert route.rule == EXPECTED_RULES[key][0], f"{key} declares {route.rule!r}"
    assert seen == set(EXPECTED_RULES), f"routes gone from the app: {set(EXPECTED_RULES) - seen}"


@dataclass
class Call:
    method: str
    url: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def _example(world: World, method: str, path: str, role: str, relation: str) -> Call:
    """A valid request for this route; ``relation`` picks the patient (or user) in or out of the panel."""
    mbi = MBI_IN if relation == "in" else MBI_OUT
    examples: dict[tuple[str, str], Callable[[], Call]] = {
        ("GET", "/"): lambda: Call("GET", "/"),
        ("GET", "/login"): lambda: Call("GET", "/login"),
        ("GET", "/healthz"): lambda: Call("GET", "/healthz"),
        ("POST", "/v1/session"): lambda: Call("POST", "/v1/session", {}),
        ("GET", "/v1/session"): lambda: Call("GET", "/v1/session"),
        ("DELETE", "/v1/session"): lambda: Call("DELETE", "/v1/session"),
        ("POST", "/v1/ask"): lambda: Call("POST", "/v1/ask", {"question": "Who manages the insulin pens?",
                                                              "patient_id": mbi}),
        ("GET", "/v1/sources/{chunk_id:path}"): lambda: Call("GET", f"/v1/sources/{world.chunk[relation]}"),
        ("GET", "/v1/patients"): lambda: Call("GET", "/v1/patients"),
        ("GET", "/v1/patients/{ref:path}"): lambda: Call("GET", f"/v1/patients/{mbi}"),
        ("GET", "/v1/stats"): lambda: Call("GET", "/v1/stats"),
        ("GET", "/v1/roster/audit"): lambda: Call("GET", "/v1/roster/audit"),
        ("POST", "/v1/redact"): lambda: Call("POST", "/v1/redact", {"text": "Call Eleanor Whitfield on 03/04/1941."}),
        ("GET", "/v1/panels/{user}"): lambda: Call(
            "GET", f"/v1/panels/{role}-user" if relation == "in" else "/v1/panels/someone-else"),
        ("POST", "/v1/panels/{user}"): lambda: Call("POST", "/v1/panels/matrix-target", {"patients": [mbi]}),
        ("GET", "/v1/transitions"): lambda: Call("GET", "/v1/transitions?status=all&as_of=2026-11-23"),
        ("GET", "/v1/checklists/{ref:path}"): lambda: Call("GET", f"/v1/checklists/{mbi}?as_of=2026-11-23"),
        ("POST", "/v1/transitions/{episode_id}/items/{item_id}"): lambda: Call(
            "POST", f"/v1/transitions/{_episode_id(world, mbi)}/items/tcm-contact",
            {"action": "note", "text": "matrix note", "as_of": "2026-11-23"}),
        ("GET", "/v1/patients/{ref}/guidance"): lambda: Call("GET", f"/v1/patients/{mbi}/guidance?as_of=2026-11-23"),
        ("GET", "/v1/worklist"): lambda: Call(
            "GET", "/v1/worklist?as_of=2026-11-23" + ("" if relation == "in" else "&user=someone-else")),
        # No item has this id: an allowed caller gets 404 after the panel check, a refused one 403 before it.
        ("POST", "/v1/guidance/{item_id}/status"): lambda: Call("POST", "/v1/guidance/g-none/status",
                                                                {"patient": mbi, "status": "completed"}),
        ("GET", "/v1/measures/report"): lambda: Call("GET", "/v1/measures/report?as_of=2026-11-23"),
        ("POST", "/v1/patients/{ref}/outreach"): lambda: Call("POST", f"/v1/patients/{mbi}/outreach",
                                                              {"purpose": "care_team_intro", "as_of": "2026-11-23"}),
        ("GET", "/v1/outreach/drafts/{draft_id}"): lambda: Call("GET", "/v1/outreach/drafts/od-none"),
        ("POST", "/v1/outreach/drafts/{draft_id}"): lambda: Call("POST", "/v1/outreach/drafts/od-none",
                                                                 {"action": "approve"}),
        ("GET", "/v1/outreach/drafts/{draft_id}/letter.pdf"): lambda: Call("GET",
                                                                           "/v1/outreach/drafts/od-none/letter.pdf"),
        ("POST", "/v1/outreach/replies"): lambda: Call("POST", "/v1/outreach/replies",
                                                       {"patient": mbi, "text": "thanks, see you then"}),
        ("GET", "/cds-services"): lambda: Call("GET", "/cds-services"),
        ("POST", "/cds-services/{service_id}"): lambda: Call("POST", "/cds-services/caretrail-guidance", {
            "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/matrix", "patientId": f"matrix-{relation}"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": f"matrix-{relation}",
                                     "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": mbi}]},
                         "encounters": None, "conditions": None, "observations": None, "medications": None}}),
        ("POST", "/cds-services/{service_id}/feedback"): lambda: Call(
            "POST", "/cds-services/caretrail-guidance/feedback",
            {"feedback": [{"card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb", "outcome": "overridden",
                           "outcomeTimestamp": "2020-12-11T00:00:00Z"}]}),
        ("GET", "/smart/launch"): lambda: Call("GET", f"/smart/launch?iss={MATRIX_EHR}&launch=xyz123"),
        ("GET", "/smart/login"): lambda: Call("GET", f"/smart/login?iss={MATRIX_EHR}"),
        ("GET", "/smart/callback"): lambda: Call("GET", "/smart/callback?code=abc&state=98wrghuwuogerg97"),
        ("POST", "/v1/conversations"): lambda: Call("POST", "/v1/conversations", {"patient_id": mbi}),
        ("GET", "/v1/conversations"): lambda: Call("GET", "/v1/conversations"),
        ("GET", "/v1/conversations/{conversation_id}"): lambda: Call(
            "GET", f"/v1/conversations/{_conversation_id(world, role, mbi)}"),
        ("POST", "/v1/conversations/{conversation_id}/messages"): lambda: Call(
            "POST", f"/v1/conversations/{_conversation_id(world, role, mbi)}/messages",
            {"text": "When must the TCM interactive contact happen after discharge?", "as_of": "2026-11-23"}),
    }
    return examples[(method, path)]()


def _episode_id(world: World, mbi: str) -> str:
    """The transition episode the patient's A03 opened (an item action names the episode, not the patient)."""
    from assistant.transitions import episodes

    patient = world.ctx.patients.resolve_patient(mbi)
    episodes.sync(world.ctx.engine, {patient.id})
    return episodes.list_episodes(world.ctx.engine, {patient.id})[0].id


def _conversation_id(world: World, role: str, mbi: str) -> str:
    """The role's user's own conversation about the patient, stored as if the patient had been on their panel when
    it started (out of the panel now: each turn and each read checks the panel again)."""
    from assistant.chat import store

    conversation_id = f"cv-matrix-{role}-{mbi}"
    if store.get(world.ctx.engine, conversation_id) is None:
        patient_id = world.ctx.patients.resolve_patient(mbi).id
        store.create(world.ctx.engine, conversation_id, f"{role}-user", role, role, patient_id)
    return conversation_id


def _expected(method: str, path: str, role: str, relation: str, credential: str, how: str = "plain") -> int:
    rule, reaches_one = EXPECTED_RULES[(method, path)]
    if (method, path) == ("POST", "/v1/session"):  # the sign-in reads only the key or token it is sent
        return 200 if credential in GOOD_CREDENTIALS else (400 if credential in ("none", "ended-session") else 401)
    if rule == "public":
        return PUBLIC_REFUSED.get((method, path), 200)
    if rule == "state_bound":
        return 400
    if rule == "cds_hooks":
        if credential != "api_key":
            return 401
        if "patient.read" not in GRANTED[role]:
            return 403
        if not reaches_one:
            return 404
        return 200 if relation == "in" or role == "admin" else 403
    if credential not in GOOD_CREDENTIALS:
        return 401
    if (method, path) == ("DELETE", "/v1/session") and credential != "session":
        return 400
    if rule == "authenticated":
        return 200
    if path == "/v1/panels/{user}":
        if relation == "out":
            rule = "panels.manage"  # another user's panel
    elif path == "/v1/worklist":
        if relation == "out" or how in ("query", "body"):  # ?user= names another user's panel
            rule = "panels.manage"
    elif reaches_one and "patient.read" not in GRANTED[role]:
        return 403  # a patient's answer or source span is a read of their chart
    if rule not in GRANTED[role]:
        return 403
    if reaches_one and relation == "out" and role != "admin":
        return 403
    if (method, path) == ("POST", "/v1/guidance/{item_id}/status") or (method, path) in NO_SUCH_DRAFT:
        return 404
    if (method, path) in UNPROCESSABLE:
        return 422
    return 200


def _sign_in(world: World, role: str) -> tuple[str, str]:
    response = world.client.post("/v1/session", json={"api_key": world.keys[role]})
    assert response.status_code == 200, response.text
    cookie = response.cookies[COOKIE_NAME]
    world.client.cookies.clear()
    return cookie, response.json()["csrf_token"]


def _credential_headers(world: World, role: str, credential: str, call: Call) -> dict[str, str]:
    if (call.method, call.url.split("?")[0]) == ("POST", "/v1/session"):
        secret = {"api_key": world.keys[role], "garbage-key": "ctk_not-a-key", "revoked-key": world.revoked[role]}
        if credential in secret:
            call.body = {"api_key": secret[credential]}
            return {}
        if credential == "session":
            call.body = {"api_key": world.keys[role]}
            return {}
    bearer = {
        "garbage-key": "ctk_not-a-key",
        "revoked-key": world.revoked[role],
        "api_key": world.keys[role],
        "expired-token": _token(world.signing_key, role, lifetime=-120),
        "wrong-audience": _token(world.signing_key, role, audience="another-app"),
        "oidc": _token(world.signing_key, role),
    }
    if credential in bearer:
        return {"Authorization": f"Bearer {bearer[credential]}"}
    if credential == "ended-session":
        return {"Cookie": f"{COOKIE_NAME}={world.ended_cookie}"}
    if credential == "session":
        cookie, csrf = _sign_in(world, role)
        return {"Cookie": f"{COOKIE_NAME}={cookie}", "X-CSRF-Token": csrf}
    return {}


def _smuggle(call: Call, how: str) -> Call:
    """Claim the admin role (and another user) in the body, the query or the identity headers."""
    if how == "body" and call.body is not None:
        call.body = {**call.body, "role": "admin", "user": "admin-user"}
    elif how in ("query", "body"):
        call.url += ("&" if "?" in call.url else "?") + "role=admin&user=admin-user"
    elif how == "headers":
        call.headers = {**(call.headers or {}), "X-Caretrail-User": "admin-user", "X-Caretrail-Role": "admin"}
    return call


def _audit_rows(world: World) -> int:
    with Session(world.ctx.engine) as session:
        return session.scalar(select(func.count()).select_from(AuditRow)) or 0


def _cases(world: World) -> list[tuple[RouteInfo, str, str, str, str]]:
    """(route, role, relation, credential, smuggling) for every route we call; bad credentials are tried plain
    and with identity headers (headers from an untrusted client must not turn a refusal into access)."""
    cases = []
    for route in _routes(world):
        if route.path in FRAMEWORK_PUBLIC:
            continue  # the framework's own; checked above to be public
        for role in ROLES:
            for relation in ("in", "out"):
                for credential in BAD_CREDENTIALS + GOOD_CREDENTIALS:
                    for how in SMUGGLED if credential in GOOD_CREDENTIALS else ("plain", "headers"):
                        cases.append((route, role, relation, credential, how))
    return cases


def test_matrix_refuses_every_forbidden_request_and_serves_every_allowed_one(world: World) -> None:
    wrong: list[str] = []
    counts = {"allowed": 0, "refused": 0}
    for route, role, relation, credential, how in _cases(world):
        call = _smuggle(_example(world, route.method, route.path, role, relation), how)
        headers = {**(call.headers or {}), **_credential_headers(world, role, credential, call)}
        before = _audit_rows(world)
        response = world.client.request(call.method, call.url, json=call.body, headers=headers)
        world.client.cookies.clear()
        want = _expected(route.method, route.path, role, relation, credential, how)
        label = f"{route.method} {route.path} role={role} {relation} {credential} {how}"
        if response.status_code != want:
            wrong.append(f"{label}: got {response.status_code}, want {want}: {response.text[:120]}")
        elif want in (401, 403) and _audit_rows(world) <= before:
            wrong.append(f"{label}: refused without an audit row")
        counts["allowed" if want < 300 else "refused"] += 1
    assert not wrong, f"{len(wrong)} wrong of {sum(counts.values())}:\n" + "\n".join(wrong[:40])
    assert counts["allowed"] > 300 and counts["refused"] > 1000, counts


def test_reads_of_phi_are_audited_with_the_caller_and_how_they_signed_in(world: World) -> None:
    headers = {"Authorization": f"Bearer {_token(world.signing_key, 'clinician')}"}
    opened = world.client.get(f"/v1/sources/{world.chunk['in']}", headers=headers)
    assert opened.status_code == 200
    from assistant.audit.log import audit_log_for

    audit_row = audit_log_for(world.ctx).get(opened.json()["audit_id"])
    assert audit_row is not None and audit_row.event == "source.open"
    assert audit_row.user == "clinician-user" and audit_row.role == "clinician"
    assert audit_row.payload["caller"]["auth"] == "oidc" and audit_row.payload["caller"]["credential"] == ISSUER
    assert audit_row.patient_id == world.ctx.patients.resolve_patient(MBI_IN).id


def test_session_needs_its_csrf_token_for_changes_and_ends_on_sign_out(world: World) -> None:
    cookie, csrf = _sign_in(world, "care_manager")
    jar = {"Cookie": f"{COOKIE_NAME}={cookie}"}
    ask = {"question": "When is the TCM interactive contact due?"}
    assert world.client.post("/v1/ask", json=ask, headers=jar).status_code == 403
    assert world.client.post("/v1/ask", json=ask, headers={**jar, "X-CSRF-Token": "x" * 43}).status_code == 403
    assert world.client.post("/v1/ask", json=ask, headers={**jar, "X-CSRF-Token": csrf}).status_code == 200
    assert world.client.get("/v1/session", headers=jar).json()["csrf_token"] == csrf
    assert world.client.delete("/v1/session", headers={**jar, "X-CSRF-Token": csrf}).status_code == 200
    assert world.client.get("/v1/session", headers=jar).status_code == 401


def test_revoking_a_key_ends_its_sessions_at_once(world: World) -> None:
    secret, _ = world.ctx.keys.create("short-lived", "care_manager", "care_manager-user", PanelScope())
    signed_in = world.client.post("/v1/session", json={"api_key": secret})
    cookie = signed_in.cookies[COOKIE_NAME]
    world.client.cookies.clear()
    jar = {"Cookie": f"{COOKIE_NAME}={cookie}"}
    assert world.client.get("/v1/patients", headers=jar).status_code == 200
    world.ctx.keys.revoke("short-lived")
    assert world.client.get("/v1/patients", headers=jar).status_code == 401
    assert world.client.get("/v1/patients", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_session_cookie_is_secure_httponly_and_samesite(world: World) -> None:
    response = world.client.post("/v1/session", json={"api_key": world.keys["outreach"]})
    world.client.cookies.clear()
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    assert world.keys["outreach"] not in response.text  # the key is never echoed


def test_keys_are_stored_only_as_hashes(world: World) -> None:
    database = database_bytes(Path(world.ctx.settings.resolved_data_dir))
    for secret in world.keys.values():
        assert secret.encode() not in database
