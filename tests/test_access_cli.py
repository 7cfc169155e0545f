"""The CLI front door through the same service layer as the API: keys, panels (assigned, imported, derived from
the records by NPI), the local operator's access, and the audit of each, on SQLite and on the loopback PostgreSQL.

Records come in through the real FHIR connector; keys and sessions are real rows; nothing of ours is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.audit.log import audit_log_for
from assistant.cli import app as cli
from assistant.context import open_context
from assistant.ingest.pipeline import ingest_paths
from assistant.services.caller import PanelScope
from assistant.settings import Settings
from tests.helpers import postgres_schema

PCP_NPI = "1234567893"
OTHER_NPI = "1245319599"


def _bundle(patient_id: str, mbi: str, family: str, practitioner_npi: str) -> dict[str, Any]:
    """A FHIR bundle whose Patient names its primary care practitioner (Patient.generalPractitioner)."""
    practitioner = f"pr-{patient_id}"
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {
                "resourceType": "Patient", "id": patient_id, "name": [{"family": family, "given": ["Ada"]}],
                "birthDate": "1946-05-01", "gender": "female",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-mbi", "value": mbi}],
                "generalPractitioner": [{"reference": f"Practitioner/{practitioner}"}],
            }},
            {"resource": {
                "resourceType": "Practitioner", "id": practitioner, "name": [{"family": "Okafor", "given": ["Ngozi"]}],
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": practitioner_npi}],
            }},
        ],
    }


@pytest.fixture(params=["sqlite", "postgres"])
def data_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for the CLI: a fresh data dir, and a fresh PostgreSQL schema for the postgres run."""
    env = {"CARETRAIL_DATA_DIR": str(tmp_path / "data"), "CARETRAIL_CLI_USER": "ops", "CARETRAIL_CLI_ROLE": "admin"}
    records = tmp_path / "records"
    records.mkdir()
    for name, mbi, family, npi in (("p-ada", "1EG4TE5MK73", "Lovelace", PCP_NPI),
                                   ("p-bea", "2QW7RT9PK41", "Brandt", OTHER_NPI)):
        (records / f"{name}.json").write_text(json.dumps(_bundle(name, mbi, family, npi)), encoding="utf-8")
    if request.param == "postgres":
        with postgres_schema("access") as (url, _admin):
            yield {**env, "CARETRAIL_DATABASE_URL": url, "RECORDS": str(records)}
        return
    yield {**env, "RECORDS": str(records)}


def _settings(env: dict[str, str]) -> Settings:
    return Settings(data_dir=Path(env["CARETRAIL_DATA_DIR"]), database_url=env.get("CARETRAIL_DATABASE_URL"))


def _cli(env: dict[str, str], *args: str, **overrides: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env={**env, **overrides})
    return result


@pytest.fixture
def ctx(data_env: dict[str, str]):  # type: ignore[no-untyped-def]
    context = open_context(_settings(data_env))
    summary = ingest_paths(context.ingest_deps, [Path(data_env["RECORDS"])])
    assert summary.errors == [] and summary.documents == 2
    return context


def test_keys_are_created_once_listed_without_secrets_and_revoked(ctx, data_env) -> None:  # type: ignore[no-untyped-def]
    created = _cli(data_env, "keys", "create", "--name", "ehr-proxy", "--role", "care_manager", "--user", "nurse1",
                   "--json")
    assert created.exit_code == 0, created.output
    secret = json.loads(created.stdout)["secret"]
    assert secret.startswith("ctk_") and ctx.keys.verify(secret).user == "nurse1"
    listed = _cli(data_env, "keys", "list", "--json")
    assert listed.exit_code == 0 and secret not in listed.stdout
    assert json.loads(listed.stdout)["keys"][0]["name"] == "ehr-proxy"
    again = _cli(data_env, "keys", "create", "--name", "ehr-proxy", "--role", "care_manager")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert _cli(data_env, "keys", "revoke", "ehr-proxy").exit_code == 0
    assert ctx.keys.verify(secret) is None
    # Only an admin manages keys; the refusal is audited.
    refused = _cli(data_env, "keys", "list", CARETRAIL_CLI_ROLE="care_manager")
    assert refused.exit_code == 2 and "may not use keys.manage" in refused.stderr
    events = [row.event for row in audit_log_for(ctx).rows()]
    assert events.count("key.create") == 1 and "key.revoke" in events and "access.denied" in events


def test_a_user_assigns_their_own_records_then_asks_about_them_from_the_cli(ctx, data_env) -> None:  # type: ignore[no-untyped-def]
    nurse = {"CARETRAIL_CLI_USER": "nurse1", "CARETRAIL_CLI_ROLE": "care_manager"}
    refused = _cli(data_env, "panel", "list", "ops", **nurse)
    assert refused.exit_code == 2 and "panels.manage" in refused.stderr
    assigned = _cli(data_env, "panel", "assign", "nurse1", "1EG4TE5MK73")
    assert assigned.exit_code == 0, assigned.output
    own = _cli(data_env, "panel", "list", "nurse1", "--json", **nurse)
    assert own.exit_code == 0, own.output
    assert [(p["mbi"], p["source"]) for p in json.loads(own.stdout)["patients"]] == [("1EG4TE5MK73", "assigned")]
    unknown = _cli(data_env, "panel", "assign", "nurse1", "9ZZ9ZZ9ZZ99")
    assert unknown.exit_code == 2 and "no patient matches" in unknown.stderr


def test_panel_import_is_all_or_nothing_and_names_the_bad_line(ctx, data_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "panel.csv"
    bad.write_text("user,patient\nnurse2,1EG4TE5MK73\nnurse2,9ZZ9ZZ9ZZ99\n", encoding="utf-8")
    refused = _cli(data_env, "panel", "import", str(bad))
    assert refused.exit_code == 2 and f"{bad}:3:" in refused.stderr
    assert ctx.patients.assigned_patient_ids("nurse2") == set()
    good = tmp_path / "fixed.csv"
    good.write_text("nurse2,1EG4TE5MK73\nnurse3,fhir|p-bea\n", encoding="utf-8")
    done = _cli(data_env, "panel", "import", str(good))
    assert done.exit_code == 0, done.output
    assert len(ctx.patients.assigned_patient_ids("nurse2")) == 1
    assert len(ctx.patients.assigned_patient_ids("nurse3")) == 1


def test_panels_derived_from_the_records_by_npi_reach_the_api(ctx, data_env) -> None:  # type: ignore[no-untyped-def]
    ada = ctx.patients.resolve_patient("1EG4TE5MK73").id
    bea = ctx.patients.resolve_patient("2QW7RT9PK41").id
    linked = _cli(data_env, "panel", "link-npi", "dr.okafor", PCP_NPI)
    assert linked.exit_code == 0, linked.output
    assert ctx.patients.derived_patient_ids("dr.okafor") == {ada}
    listed = json.loads(_cli(data_env, "panel", "list", "dr.okafor", "--json").stdout)
    assert [(p["patient_id"], p["source"]) for p in listed["patients"]] == [(ada, "npi")]
    assert _cli(data_env, "panel", "link-npi", "dr.okafor", "12345").exit_code == 2

    secret, _ = ctx.keys.create("okafor", "clinician", "dr.okafor", PanelScope())
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as client:
        assert client.get(f"/v1/patients/{ada}").status_code == 200
        assert client.get(f"/v1/patients/{bea}").status_code == 403
        panel = client.get("/v1/patients").json()["patients"]
        assert [p["id"] for p in panel] == [ada]


def test_keys_scoped_to_listed_patients_or_all(ctx, data_env) -> None:  # type: ignore[no-untyped-def]
    ada = ctx.patients.resolve_patient("1EG4TE5MK73").id
    bea = ctx.patients.resolve_patient("2QW7RT9PK41").id
    listed = json.loads(_cli(data_env, "keys", "create", "--name", "batch-one", "--role", "care_coordinator",
                             "--panel", "1EG4TE5MK73", "--json").stdout)
    everyone = json.loads(_cli(data_env, "keys", "create", "--name", "batch-all", "--role", "care_coordinator",
                               "--panel", "all", "--json").stdout)
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app) as client:
        one = {"Authorization": f"Bearer {listed['secret']}"}
        assert client.get(f"/v1/patients/{ada}", headers=one).status_code == 200
        assert client.get(f"/v1/patients/{bea}", headers=one).status_code == 403
        every = {"Authorization": f"Bearer {everyone['secret']}"}
        assert client.get(f"/v1/patients/{bea}", headers=every).status_code == 200
        # A care-team key scoped to all patients still cannot run the roster audit: the role decides that.
        assert client.get("/v1/roster/audit", headers=every).status_code == 403
