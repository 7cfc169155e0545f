"""CDS Hooks 2.0 end to end: Caretrail on loopback, called by a fake EHR's signed JWTs, with requests shaped like the
specification's examples, answered from prefetch and by fetching from the EHR's FHIR server with its token.

Real components throughout: the real knowledge base (cards cite it), the real ingest pipeline and guidance and
transitions engines, real keys and signatures, real HTTP servers; the audit log is read back to check each step.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.task import Task
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.audit.tables import AuditRow
from assistant.citations.verify import check_citation
from assistant.ehr.cards import summary
from assistant.ehr.prefetch import PATIENT_VIEW, PreconditionFailed, gather
from assistant.ehr.records import bundle_path
from assistant.ehr.trust import check_url
from assistant.errors import BadRequest
from assistant.guidance.tables import GuidanceStatusTable
from assistant.index.knowledge import ingest_knowledge
from assistant.records.tables import DocumentTable
from assistant.services.caller import PanelScope
from assistant.settings import EhrSystem, Settings
from tests.fake_ehr import FakeEhr, World, chart, running
from tests.helpers_auth import bearer

PATIENT, OTHER = "1288992", "other-7"
NPI, OTHER_NPI = "1234567893", "1098765432"
MBI, OTHER_MBI = "1EG4TE5MK73", "2QW7RT9PK41"
USER = "Practitioner/example"


def _stock(ehr: FakeEhr) -> EhrSystem:
    today = date.today()
    ehr.add(*chart(PATIENT, "example", NPI, MBI, today))
    ehr.add(*chart(OTHER, "someone-else", OTHER_NPI, OTHER_MBI, today, prefix="o-"))
    return EhrSystem(
        name="fake-ehr",
        fhir_base_url=ehr.fhir,
        cds_issuer=ehr.issuer,
        cds_jwks_url=f"{ehr.url}/jwks",
        users={USER: "dr-example", "Practitioner/no-role": "no-role-user"},
        roles={"dr-example": "care_coordinator", "npi-nurse": "nurse"},
    )


def _prepare(ctx: Any) -> None:
    report = ingest_knowledge(ctx.knowledge_deps)  # cards cite the protocols
    assert not report.errors, report.errors
    ctx.patients.link_npi("dr-example", NPI)  # the EHR user is the patient's PCP: the patient is on their panel


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running(tmp_path_factory.mktemp("cds-hooks"), _stock, _prepare) as started:
        yield started


def _searchset(ehr: FakeEhr, resource_type: str, patient: str) -> dict[str, Any]:
    matches = [
        r
        for (t, _), r in sorted(ehr.resources.items())
        if t == resource_type and r.get("subject", {}).get("reference") == f"Patient/{patient}"
    ]
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in reversed(matches)]}


def prefetch(
    ehr: FakeEhr, patient: str = PATIENT, practitioner: str = "example", encounter: str | None = None
) -> dict[str, Any]:
    """What the EHR sends for our templates (searches in another order than the fetch pages, on purpose)."""
    found = {
        "patient": ehr.patient_search(patient, "Patient:general-practitioner"),
        "user": ehr.resources[("Practitioner", practitioner)],
        "encounters": _searchset(ehr, "Encounter", patient),
        "conditions": _searchset(ehr, "Condition", patient),
        "observations": _searchset(ehr, "Observation", patient),
        "medications": _searchset(ehr, "MedicationRequest", patient),
    }
    if encounter:
        found["encounter"] = ehr.resources[("Encounter", encounter)]
    return found


def hook_request(
    hook: str, prefetched: dict[str, Any] | None, patient: str = PATIENT, user: str = USER, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "context": {"userId": user, "patientId": patient, "encounterId": "89284"},
    }
    if prefetched is not None:
        body["prefetch"] = prefetched
    body.update(extra)
    return body


def call(world: World, service: str, body: dict[str, Any], token: str | None = None, **claims: Any) -> httpx.Response:
    path = f"/cds-services/{service}"
    token = token or world.ehr.hook_jwt(world.url + path, **claims)
    return world.http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def audit_rows(world: World, event: str) -> list[AuditRow]:
    with Session(world.ctx.engine) as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.event == event).order_by(AuditRow.seq)))


def documents_for(world: World, patient: str) -> list[str]:
    path = str(bundle_path(world.ctx.settings.resolved_data_dir, "fake-ehr", patient))
    with Session(world.ctx.engine) as session:
        return list(session.scalars(select(DocumentTable.document_id).where(DocumentTable.source_path == path)))


# ---------------------------------------------------------------------------------------------- no server needed


def test_summaries_stay_under_140_characters_and_cut_at_a_word() -> None:
    text = "Call the patient within two business days of discharge " * 4
    cut = summary(text)
    assert len(cut) < 140 and cut.endswith("…") and text.startswith(cut[:-1]) and cut[-2] != " "
    assert summary("Short enough.") == "Short enough."


def test_only_https_addresses_are_contacted_and_http_only_on_loopback_in_tests(tmp_path: Path) -> None:
    strict = Settings(data_dir=tmp_path)
    loose = Settings(data_dir=tmp_path, ehr_allow_loopback_http=True)
    assert check_url("https://ehr.example.org/fhir", strict, "fhirServer")
    for url, settings in (
        ("http://127.0.0.1:8080/fhir", strict),
        ("http://ehr.example.org/fhir", loose),
        ("ftp://ehr.example.org/fhir", loose),
        ("https:///fhir", loose),
        ("", loose),
    ):
        with pytest.raises(BadRequest, match="not an https"):
            check_url(url, settings, "fhirServer")
    assert check_url("http://127.0.0.1:8080/fhir", loose, "fhirServer")
    assert check_url("http://[::1]:8080/fhir", loose, "fhirServer")


def test_prefetch_is_read_as_the_specification_sends_it_and_missing_data_is_a_412() -> None:
    patient = {"resourceType": "Patient", "gender": "male", "birthDate": "1974-12-25", "id": "123"}
    a1c = {
        "resourceType": "Observation",
        "id": "a1c",
        "subject": {"reference": "Patient/123"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}]},
    }
    sent = {
        "patient": patient,
        "user": "123",
        "encounters": None,
        "conditions": None,
        "medications": None,
        "observations": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": a1c}, {"resource": {"resourceType": "OperationOutcome"}}],
        },
    }
    data = gather(PATIENT_VIEW, {"patientId": "123", "userId": "Practitioner/example"}, sent, None, None)
    assert [r["id"] for r in data.resources] == ["123", "a1c"]
    assert data.sources["user"] == "ignored" and data.sources["encounters"] == "null" and data.user is None
    with pytest.raises(PreconditionFailed, match="observations was not prefetched"):
        gather(PATIENT_VIEW, {"patientId": "123"}, {k: v for k, v in sent.items() if k != "observations"}, None, None)
    with pytest.raises(BadRequest, match="not a FHIR resource"):
        gather(PATIENT_VIEW, {"patientId": "123"}, {**sent, "conditions": "nothing"}, None, None)


# ---------------------------------------------------------------------------------------------- with the servers


@pytest.mark.slow
def test_discovery_lists_both_services_with_their_prefetch_templates(world: World) -> None:
    response = world.http.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "encounter-discharge"}
    for service in services.values():
        assert set(service) == {"hook", "title", "description", "id", "prefetch"}
        assert service["prefetch"]["patient"] == (
            "Patient?_id={{context.patientId}}&_include=Patient:general-practitioner"
        )
        assert service["prefetch"]["user"] == "{{context.userId}}"
        assert service["prefetch"]["observations"].startswith("Observation?patient={{context.patientId}}")
        assert service["prefetch"]["medications"].startswith("MedicationRequest?patient={{context.patientId}}")
        assert service["prefetch"]["encounters"].startswith("Encounter?patient={{context.patientId}}")
    assert services["caretrail-discharge"]["prefetch"]["encounter"] == "Encounter/{{context.encounterId}}"


@pytest.mark.slow
def test_patient_view_from_prefetch_gives_cited_cards_for_the_users_role(world: World) -> None:
    world.ehr.requests.clear()
    response = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr)))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards, "a heart-failure discharge yesterday gives the care coordinator TCM and follow-up steps"
    assert world.ehr.requests_to("/fhir") == [], "everything was prefetched: nothing is fetched"
    rules = set()
    with Session(world.ctx.engine) as session:
        for card in cards:
            assert 0 < len(card["summary"]) < 140
            assert card["indicator"] in ("info", "warning", "critical")
            assert card["source"]["label"]
            item = card["extension"]["org.caretrail.guidance"]
            assert item["owner_role"] == "care_coordinator"
            rules.add(item["rule"])
            citations = card["extension"]["org.caretrail.citations"]
            assert citations, "every card rests on cited protocol text"
            for citation in citations:
                assert check_citation(session, citation).ok, citation
                assert citation["quote"] in card["detail"]
                source = (world.ctx.settings.knowledge_dir / Path(citation["source_uri"]).name).read_text("utf-8")
                assert source[citation["start"] : citation["end"]] == citation["quote"]
            smart = [link for link in card["links"] if link["type"] == "smart"]
            assert smart and smart[0]["url"] == f"{world.url}/smart/launch"
            assert json.loads(smart[0]["appContext"])["patient"] == PATIENT
            spans = [link for link in card["links"] if link["type"] == "absolute"]
            assert spans and all(link["url"].startswith(f"{world.url}/v1/sources/") for link in spans)
    assert "tcm" in rules
    # the link opens exactly the cited characters, for a signed-in user who may see them
    citation = cards[0]["extension"]["org.caretrail.citations"][0]
    link = next(link for link in cards[0]["links"] if link["type"] == "absolute")
    opened = world.http.get(link["url"], headers=bearer(world.ctx, "care_coordinator", "dr-example"))
    assert opened.status_code == 200
    body = opened.json()
    assert body["text"][body["highlight"]["start"] : body["highlight"]["end"]] == citation["quote"]
    row = audit_rows(world, "cds_hooks.call")[-1]
    assert row.user == "dr-example" and row.role == "care_coordinator"
    assert row.payload["caller"]["auth"] == "ehr" and row.payload["token"]["iss"] == world.ehr.issuer
    assert [c[0] for c in row.payload["cards"]] == [c["uuid"] for c in cards]
    assert row.payload["data"]["patient"] == "prefetch" and row.payload["records_ingested"] is True
    assert audit_rows(world, "guidance")[-1].patient_id == row.patient_id  # the read of the chart, audited too


@pytest.mark.slow
def test_identical_prefetch_is_not_ingested_again_and_a_change_replaces_the_previous_version(world: World) -> None:
    first = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr)))
    assert first.status_code == 200
    before = documents_for(world, PATIENT)
    assert len(before) == 1
    stray = prefetch(world.ehr)  # an observation of another patient among this one's: dropped, not stored
    stray["observations"]["entry"].append({"resource": world.ehr.resources[("Observation", "o-bp1")]})
    again = call(world, "caretrail-guidance", hook_request("patient-view", stray))
    assert again.status_code == 200
    row = audit_rows(world, "cds_hooks.call")[-1]
    assert row.payload["records_ingested"] is False and row.payload["dropped_resources"] == 1
    assert documents_for(world, PATIENT) == before
    changed = prefetch(world.ehr)
    reading = json.loads(json.dumps(world.ehr.resources[("Observation", "bp1")]))
    reading["id"], reading["effectiveDateTime"] = "bp2", str(date.today() - timedelta(days=2))
    changed["observations"]["entry"].append({"resource": reading})
    third = call(world, "caretrail-guidance", hook_request("patient-view", changed))
    assert third.status_code == 200
    assert audit_rows(world, "cds_hooks.call")[-1].payload["records_ingested"] is True
    after = documents_for(world, PATIENT)
    assert len(after) == 1 and after != before, "the EHR's latest view replaced the earlier one"
    back = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr)))
    assert back.status_code == 200 and documents_for(world, PATIENT) == before


@pytest.mark.slow
def test_fetching_from_the_fhir_server_with_the_ehrs_token_gives_the_same_records_and_cards(world: World) -> None:
    from_prefetch = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr)))
    token = world.ehr.access_token()
    world.ehr.requests.clear()
    body = hook_request(
        "patient-view",
        None,
        fhirServer=world.ehr.fhir,
        fhirAuthorization={
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/Patient.read patient/Observation.read",
            "subject": "cds-service4",
        },
    )
    fetched = call(world, "caretrail-guidance", body)
    assert fetched.status_code == 200, fetched.text
    seen = world.ehr.requests_to("/fhir")
    assert seen and all(r["authorization"] == f"Bearer {token}" for r in seen)
    assert any(r["query"].get("_offset") for r in seen), "search result pages were followed"
    assert {r["path"] for r in seen} >= {
        "/fhir/Patient",
        "/fhir/Practitioner/example",
        "/fhir/Encounter",
        "/fhir/Observation",
        "/fhir/MedicationRequest",
        "/fhir/Condition",
    }
    row = audit_rows(world, "cds_hooks.call")[-1]
    assert row.payload["data"]["observations"] == "fetched" and row.payload["fhir_requests"] == len(seen)
    assert row.payload["records_ingested"] is False, "the same records, fetched, hash the same as prefetched"
    summaries = sorted(c["summary"] for c in fetched.json()["cards"])
    assert summaries == sorted(c["summary"] for c in from_prefetch.json()["cards"])


@pytest.mark.slow
def test_encounter_discharge_card_suggests_creating_the_checklist_tasks(world: World) -> None:
    body = hook_request("encounter-discharge", prefetch(world.ehr, encounter="89284"))
    response = call(world, "caretrail-discharge", body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert len(card["summary"]) < 140 and card["indicator"] in ("warning", "critical")
    assert card["selectionBehavior"] == "any" and card["suggestions"]
    checklist = card["extension"]["org.caretrail.checklist"]
    open_items = {i["id"] for i in checklist["items"] if i["status"] in ("open", "overdue", "needs_input")}
    created, knowledge = set(), 0
    with Session(world.ctx.engine) as session:
        for suggestion in card["suggestions"]:
            (action,) = suggestion["actions"]
            assert action["type"] == "create" and action["description"]
            task = Task.model_validate(action["resource"]).model_dump(mode="json", exclude_none=True)
            assert task["for"]["reference"] == f"Patient/{PATIENT}"
            assert task["encounter"]["reference"] == "Encounter/89284"
            assert "basedOn" not in task
            created.add(task["identifier"][0]["value"])
            for value in (i["valueString"] for i in task["input"] if i["type"]["text"] == "citation"):
                cited = json.loads(value)
                assert cited in card["extension"]["org.caretrail.citations"], "the card carries it unchanged"
                if cited.get("type") == "knowledge":
                    assert check_citation(session, cited).ok
                    knowledge += 1
    assert created == open_items and knowledge > 0
    assert audit_rows(world, "transitions.checklist")[-1].payload["encounter_id"] == "89284"
    no_stay = hook_request("encounter-discharge", prefetch(world.ehr, encounter="office-1"))
    no_stay["context"]["encounterId"] = "office-1"
    assert call(world, "caretrail-discharge", no_stay).json() == {"cards": []}


@pytest.mark.slow
def test_feedback_records_acceptance_and_override_on_the_guidance_item(world: World) -> None:
    cards = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr))).json()["cards"]
    accepted, overridden = cards[0], cards[-1]
    assert accepted["uuid"] != overridden["uuid"]
    path = "/cds-services/caretrail-guidance/feedback"
    headers = {"Authorization": f"Bearer {world.ehr.hook_jwt(world.url + path)}"}
    body = {
        "feedback": [
            {
                "card": accepted["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": accepted["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            }
        ]
    }
    response = world.http.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["feedback"][0]["applied"] == "guidance item accepted"
    item = accepted["extension"]["org.caretrail.guidance"]["id"]
    with Session(world.ctx.engine) as session:
        assert session.get(GuidanceStatusTable, item).status == "accepted"
    row = audit_rows(world, "cds_hooks.feedback")[-1]
    assert row.user == "dr-example" and row.payload["card"] == accepted["uuid"] and row.payload["outcome"] == "accepted"
    override = {
        "feedback": [
            {
                "card": overridden["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "already-done",
                        "system": "urn:caretrail:cds-override-reason",
                        "display": "Already done or scheduled",
                    },
                    "userComment": "Called her this morning.",
                },
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            }
        ]
    }
    headers = {"Authorization": f"Bearer {world.ehr.hook_jwt(world.url + path)}"}
    assert world.http.post(path, json=override, headers=headers).json()["feedback"][0]["applied"] == (
        "guidance item dismissed"
    )
    gone = overridden["extension"]["org.caretrail.guidance"]["id"]
    with Session(world.ctx.engine) as session:
        decision = session.get(GuidanceStatusTable, gone)
    assert decision.status == "dismissed" and decision.reason == "Already done or scheduled: Called her this morning."
    again = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr))).json()["cards"]
    assert gone not in {c["extension"]["org.caretrail.guidance"]["id"] for c in again}
    for wrong, status in (
        ({"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": "x"}, 404),
        ({"card": accepted["uuid"], "outcome": "accepted", "outcomeTimestamp": "x"}, 400),
        ({"card": accepted["uuid"], "outcome": "liked", "outcomeTimestamp": "x"}, 400),
    ):
        headers = {"Authorization": f"Bearer {world.ehr.hook_jwt(world.url + path)}"}
        assert world.http.post(path, json={"feedback": [wrong]}, headers=headers).status_code == status


def _count(world: World, event: str) -> int:
    with Session(world.ctx.engine) as session:
        return session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.event == event)) or 0


@pytest.mark.slow
def test_bad_or_replayed_tokens_are_refused_and_audited(world: World) -> None:
    body = hook_request("patient-view", prefetch(world.ehr))
    aud = world.url + "/cds-services/caretrail-guidance"
    token = world.ehr.hook_jwt(aud)
    assert call(world, "caretrail-guidance", body, token).status_code == 200
    stranger = ECKey.generate_key("P-384", parameters={"kid": "stranger"})
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "ES384", "kid": "example-kid"},
        {"iss": world.ehr.issuer, "aud": aud, "exp": now + 60, "iat": now, "jti": "x1"},
        stranger,
        algorithms=["ES384"],
    )
    hmac = jwt.encode(
        {"alg": "HS256", "kid": "example-kid"},
        {"iss": world.ehr.issuer, "aud": aud, "exp": now + 60, "iat": now, "jti": "x2"},
        OctKey.import_key(b"k" * 32),
        algorithms=["HS256"],
    )
    cases = {
        "replayed": token,
        "wrong audience": world.ehr.hook_jwt(world.url + "/cds-services/caretrail-discharge"),
        "expired": world.ehr.hook_jwt(aud, exp=now - 300, iat=now - 600),
        "no jti": world.ehr.hook_jwt(aud, jti=None),
        "untrusted issuer": world.ehr.hook_jwt(aud, iss="https://evil.example.org/"),
        "too long-lived": world.ehr.hook_jwt(aud, exp=now + 7200),
        "forged signature": forged,
        "hmac": hmac,
        "not a jwt": "not-a-token",
    }
    for name, bad in cases.items():
        before = _count(world, "auth.failed")
        response = call(world, "caretrail-guidance", body, bad)
        assert response.status_code == 401, (name, response.text)
        assert _count(world, "auth.failed") == before + 1, name
    assert world.http.post("/cds-services/caretrail-guidance", json=body).status_code == 401
    session_like = world.http.post(
        "/cds-services/caretrail-guidance", json=body, headers={"Cookie": "caretrail_session=x"}
    )
    assert session_like.status_code == 401


@pytest.mark.slow
def test_unknown_users_other_panels_and_untrusted_servers_are_refused(world: World) -> None:
    # an EHR user Caretrail does not know, and one it knows without a role
    for user in ("Practitioner/stranger", "Practitioner/no-role"):
        before = _count(world, "access.denied")
        response = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr), user=user))
        assert response.status_code == 403 and "not a Caretrail user" in response.json()["detail"]
        assert _count(world, "access.denied") == before + 1
    # a patient whose PCP is someone else: refused before anything of their records is stored
    other = prefetch(world.ehr, patient=OTHER, practitioner="example")
    response = call(world, "caretrail-guidance", hook_request("patient-view", other, patient=OTHER))
    assert response.status_code == 403
    assert documents_for(world, OTHER) == [] and world.ctx.patients.find_patient_ids(f"fhir|{OTHER}") == []
    assert not bundle_path(world.ctx.settings.resolved_data_dir, "fake-ehr", OTHER).exists()
    # nothing prefetched and no FHIR server to fetch from: 412, as the specification says
    swapped = call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr, patient=OTHER)))
    assert swapped.status_code == 400 and "the context names" in swapped.json()["detail"]
    missing = call(world, "caretrail-guidance", hook_request("patient-view", None))
    assert missing.status_code == 412
    # a fhirServer that is not this EHR's, or not https: refused before any request is made
    token = world.ehr.access_token()
    for server in ("http://127.0.0.1:9/fhir", "http://ehr.example.org/fhir", "https://ehr.example.org/fhir"):
        body = hook_request(
            "patient-view",
            None,
            fhirServer=server,
            fhirAuthorization={
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "cds",
            },
        )
        assert call(world, "caretrail-guidance", body).status_code == 400, server
    # the wrong hook for the service, and a service that does not exist
    assert call(world, "caretrail-discharge", hook_request("patient-view", prefetch(world.ehr))).status_code == 400
    assert call(world, "nope", hook_request("patient-view", prefetch(world.ehr))).status_code == 404


@pytest.mark.slow
def test_our_api_keys_are_accepted_and_checked_against_the_panel(world: World) -> None:
    body = hook_request("patient-view", prefetch(world.ehr))
    path = "/cds-services/caretrail-guidance"
    mine = world.http.post(path, json=body, headers=bearer(world.ctx, "care_coordinator", "dr-example"))
    assert mine.status_code == 200 and mine.json()["cards"]
    assert audit_rows(world, "cds_hooks.call")[-1].payload["caller"]["auth"] == "api_key"
    not_mine = world.http.post(path, json=body, headers=bearer(world.ctx, "care_coordinator", "someone"))
    assert not_mine.status_code == 403
    analyst = world.http.post(path, json=body, headers=bearer(world.ctx, "analyst", "an-analyst"))
    assert analyst.status_code == 403
    listed = bearer(world.ctx, "care_manager", "batch", PanelScope(patient_ids=frozenset({"pt-none"})))
    assert world.http.post(path, json=body, headers=listed).status_code == 403
    digest = hashlib.sha256(b"x").hexdigest()
    assert world.http.post(path, json=body, headers={"Authorization": f"Bearer ctk_{digest}"}).status_code == 401


@pytest.mark.slow
def test_an_ehr_user_known_by_npi_alone_acts_in_the_role_the_settings_give(world: World) -> None:
    nurse = {
        "resourceType": "Practitioner",
        "id": "nurse-1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1629067153"}],
    }
    world.ctx.patients.link_npi("npi-nurse", "1629067153")
    assert call(world, "caretrail-guidance", hook_request("patient-view", prefetch(world.ehr))).status_code == 200
    world.ctx.patients.assign_panel("npi-nurse", world.ctx.patients.find_patient_ids(f"fhir|{PATIENT}"))
    prefetched = {**prefetch(world.ehr), "user": nurse}
    response = call(world, "caretrail-guidance", hook_request("patient-view", prefetched, user="Practitioner/nurse-1"))
    assert response.status_code == 200, response.text
    row = audit_rows(world, "cds_hooks.call")[-1]
    assert (row.user, row.role) == ("npi-nurse", "nurse")
    assert all(c["extension"]["org.caretrail.guidance"]["owner_role"] == "nurse" for c in response.json()["cards"])
