"""SMART App Launch 2.x end to end: the EHR launch and the standalone launch against a fake EHR on loopback, driven
the way a browser follows the redirects, ending in the side panel's session on the launched patient.

The fake EHR checks what an authorization server checks (PKCE S256, aud, redirect URI, client id, the launch
id), signs a real ID token, and serves FHIR only to the tokens it issued. Caretrail runs on uvicorn; the browser
is httpx with cookies passed by hand (the cookies are Secure, and the test servers speak plain http on loopback).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.audit.tables import AuditRow
from assistant.auth.sessions import COOKIE_NAME
from assistant.services.smart import LAUNCH_COOKIE
from assistant.settings import EhrSystem
from tests.fake_ehr import FakeEhr, World, chart, running

pytestmark = pytest.mark.slow  # two servers on loopback

PATIENT, OTHER = "1288992", "other-7"
NPI, NURSE_NPI, OTHER_NPI = "1234567893", "1629067153", "1098765432"


def _stock(ehr: FakeEhr) -> EhrSystem:
    today = date.today()
    ehr.add(*chart(PATIENT, "example", NPI, "1EG4TE5MK73", today))
    ehr.add(*chart(OTHER, "someone-else", OTHER_NPI, "2QW7RT9PK41", today, prefix="o-"))
    ehr.add(
        {
            "resourceType": "Practitioner",
            "id": "npi-nurse",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": NURSE_NPI}],
        }
    )
    return EhrSystem(
        name="fake-ehr",
        fhir_base_url=ehr.fhir,
        smart_client_id=ehr.client_id,
        users={"Practitioner/example": "dr-example", "Practitioner/no-role": "nobody"},
        roles={"dr-example": "care_coordinator", "npi-nurse-user": "nurse"},
    )


def _prepare(ctx: Any) -> None:
    ctx.patients.link_npi("dr-example", NPI)
    ctx.patients.link_npi("npi-nurse-user", NURSE_NPI)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running(tmp_path_factory.mktemp("smart"), _stock, _prepare) as started:
        yield started


def _cookie(response: httpx.Response, name: str) -> tuple[str, str]:
    """(value, the whole Set-Cookie line) of one cookie the response sets."""
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(f"{name}="):
            return line.split(";", 1)[0].split("=", 1)[1], line
    raise AssertionError(f"{name} was not set: {response.headers.get_list('set-cookie')}")


@dataclass
class Launched:
    authorize: dict[str, list[str]]  # the authorization request's query
    callback: httpx.Response  # Caretrail's answer to the EHR's redirect
    launch_cookie: str
    callback_url: str


def _launch(world: World, path: str, launch_cookie: str | None = None) -> Launched:
    """Follow the redirects as a browser would: Caretrail -> the EHR's authorize -> Caretrail's callback."""
    started = world.http.get(world.url + path)
    assert started.status_code == 302, started.text
    cookie, line = _cookie(started, LAUNCH_COOKIE)
    assert "HttpOnly" in line and "Secure" in line and "samesite=lax" in line.lower()
    location = started.headers["location"]
    assert location.startswith(f"{world.ehr.url}/oauth/authorize?")
    authorize = parse_qs(urlsplit(location).query)
    at_ehr = world.http.get(location)
    assert at_ehr.status_code == 302, at_ehr.text
    callback_url = at_ehr.headers["location"]
    assert callback_url.startswith(f"{world.url}/smart/callback?")
    jar = {"Cookie": f"{LAUNCH_COOKIE}={launch_cookie or cookie}"}
    return Launched(authorize, world.http.get(callback_url, headers=jar), cookie, callback_url)


def _audit(world: World, event: str) -> list[AuditRow]:
    with Session(world.ctx.engine) as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.event == event).order_by(AuditRow.seq)))


def test_ehr_launch_opens_the_panel_on_the_launched_patient(world: World) -> None:
    world.ehr.user = "Practitioner/example"
    world.ehr.launches["xyz123"] = {"patient": PATIENT, "encounter": "89284"}
    world.ehr.requests.clear()
    launched = _launch(world, f"/smart/launch?iss={world.ehr.fhir}&launch=xyz123")
    request = {k: v[0] for k, v in launched.authorize.items()}
    assert request["response_type"] == "code" and request["client_id"] == world.ehr.client_id
    assert request["redirect_uri"] == f"{world.url}/smart/callback"
    assert request["scope"].split() == ["launch", "openid", "fhirUser", "patient/*.read"]
    assert request["aud"] == world.ehr.fhir and request["launch"] == "xyz123"
    assert request["code_challenge_method"] == "S256" and len(request["code_challenge"]) == 43
    assert len(request["state"]) >= 32
    assert world.ehr.requests_to("/fhir/.well-known/smart-configuration"), "endpoints came from discovery"
    answer = launched.callback
    assert answer.status_code == 303, answer.text
    patient_id = world.ctx.patients.find_patient_ids(f"fhir|{PATIENT}")[0]
    assert answer.headers["location"] == f"/?patient={patient_id}"
    session, line = _cookie(answer, COOKIE_NAME)
    assert "HttpOnly" in line and "Secure" in line and "samesite=strict" in line.lower()
    assert world.ehr.codes and all(issued.used for issued in world.ehr.codes.values())  # PKCE verified at the EHR
    fetched = world.ehr.requests_to("/fhir/Patient") + world.ehr.requests_to("/fhir/Observation")
    assert fetched and all(r["authorization"].removeprefix("Bearer ") in world.ehr.tokens for r in fetched)
    jar = {"Cookie": f"{COOKIE_NAME}={session}"}
    me = world.http.get(f"{world.url}/v1/session", headers=jar)
    assert me.status_code == 200 and me.json()["user"] == "dr-example" and me.json()["role"] == "care_coordinator"
    chart_read = world.http.get(f"{world.url}/v1/patients/{patient_id}", headers=jar)
    assert chart_read.status_code == 200, chart_read.text
    panel = world.http.get(f"{world.url}/?patient={patient_id}", headers=jar)
    assert panel.status_code == 200 and "Caretrail side panel" in panel.text
    row = _audit(world, "smart.launch")[-1]
    assert row.user == "dr-example" and row.patient_id == patient_id
    assert row.payload["kind"] == "ehr" and row.payload["ehr_patient"] == PATIENT
    assert row.payload["fhir_user"] == f"{world.ehr.fhir}/Practitioner/example"
    assert _audit(world, "session.start")[-1].payload["caller"]["auth"] == "smart"
    # the same callback again: the launch was used once
    replay = world.http.get(launched.callback_url, headers={"Cookie": f"{LAUNCH_COOKIE}={launched.launch_cookie}"})
    assert replay.status_code == 400 and "already used" in replay.json()["detail"]


def test_standalone_launch_asks_the_ehr_for_a_patient(world: World) -> None:
    world.ehr.user = "Practitioner/example"
    world.ehr.standalone_patient = PATIENT
    launched = _launch(world, f"/smart/login?iss={world.ehr.fhir}")
    assert "launch" not in launched.authorize
    assert launched.authorize["scope"][0].split() == ["launch/patient", "openid", "fhirUser", "patient/*.read"]
    assert launched.callback.status_code == 303, launched.callback.text
    assert launched.callback.headers["location"].startswith("/?patient=pt-")
    assert _audit(world, "smart.launch")[-1].payload["kind"] == "standalone"


def test_a_user_known_by_npi_alone_signs_in_with_the_role_the_settings_give(world: World) -> None:
    patient_id = world.ctx.patients.find_patient_ids(f"fhir|{PATIENT}")
    if not patient_id:
        test_standalone_launch_asks_the_ehr_for_a_patient(world)
        patient_id = world.ctx.patients.find_patient_ids(f"fhir|{PATIENT}")
    world.ctx.patients.assign_panel("npi-nurse-user", patient_id)
    world.ehr.user = "Practitioner/npi-nurse"
    world.ehr.standalone_patient = PATIENT
    launched = _launch(world, f"/smart/login?iss={world.ehr.fhir}")
    assert launched.callback.status_code == 303, launched.callback.text
    session, _ = _cookie(launched.callback, COOKIE_NAME)
    me = world.http.get(f"{world.url}/v1/session", headers={"Cookie": f"{COOKIE_NAME}={session}"}).json()
    assert me["user"] == "npi-nurse-user" and me["role"] == "nurse"


def _refused(world: World, launched: Launched, status: int, reason: str) -> None:
    assert launched.callback.status_code == status, launched.callback.text
    assert reason in launched.callback.json()["detail"]
    assert COOKIE_NAME not in launched.callback.headers.get("set-cookie", ""), "no session on a refusal"


def test_refusals_are_audited_and_open_no_session(world: World) -> None:
    world.ehr.standalone_patient = PATIENT
    login = f"/smart/login?iss={world.ehr.fhir}"
    # an EHR user Caretrail does not know, and one without a role
    for user in ("Practitioner/stranger", "Practitioner/no-role"):
        world.ehr.user = user
        before = len(_audit(world, "access.denied"))
        _refused(world, _launch(world, login), 403, "not a Caretrail user")
        assert len(_audit(world, "access.denied")) == before + 1
    # a patient who is not on the user's panel: nothing of theirs is stored
    world.ehr.user = "Practitioner/example"
    world.ehr.standalone_patient = OTHER
    _refused(world, _launch(world, login), 403, "not on your panel")
    assert world.ctx.patients.find_patient_ids(f"fhir|{OTHER}") == []
    # an ID token signed with a key the EHR does not publish
    world.ehr.standalone_patient = PATIENT
    world.ehr.id_token_key = RSAKey.generate_key(2048, parameters={"kid": "ehr-rs-1"})
    try:
        before = len(_audit(world, "auth.failed"))
        _refused(world, _launch(world, login), 401, "invalid id_token")
        assert len(_audit(world, "auth.failed")) == before + 1
    finally:
        world.ehr.id_token_key = None
    # another browser's launch cookie (login CSRF), and no cookie at all
    mine = world.http.get(world.url + login)
    theirs, _ = _cookie(world.http.get(world.url + login), LAUNCH_COOKIE)
    callback = world.http.get(mine.headers["location"]).headers["location"]
    crossed = world.http.get(callback, headers={"Cookie": f"{LAUNCH_COOKIE}={theirs}"})
    assert crossed.status_code == 400 and "another browser" in crossed.json()["detail"]
    assert world.http.get(callback).status_code == 400
    # a state Caretrail never issued, and the EHR's own refusal
    unknown = world.http.get(
        f"{world.url}/smart/callback?code=x&state=forged", headers={"Cookie": f"{LAUNCH_COOKIE}=x"}
    )
    assert unknown.status_code == 400 and "unknown SMART launch state" in unknown.json()["detail"]
    started = world.http.get(world.url + login)
    cookie, _ = _cookie(started, LAUNCH_COOKIE)
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    denied = world.http.get(
        f"{world.url}/smart/callback?error=access_denied&state={state}", headers={"Cookie": f"{LAUNCH_COOKIE}={cookie}"}
    )
    assert denied.status_code == 401 and "access_denied" in denied.json()["detail"]


def test_launches_from_untrusted_servers_are_refused_before_anything_is_fetched(world: World) -> None:
    world.ehr.requests.clear()
    for iss in ("https://evil.example.org/fhir", "http://127.0.0.1:9/fhir", world.ehr.url):
        response = world.http.get(f"{world.url}/smart/launch", params={"iss": iss, "launch": "xyz123"})
        assert response.status_code == 400 and "not a trusted EHR" in response.json()["detail"]
        assert "location" not in response.headers
    assert world.ehr.requests == []
