"""`caretrail measures report` over real ingested patients: counts, rates, gaps named for the care team and hidden
from analysts, a self-contained HTML report, and an audit row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.audit.log import audit_log_for
from assistant.cli import app as cli
from assistant.context import open_context
from assistant.ingest.pipeline import ingest_paths
from assistant.settings import Settings
from tests.test_measures import _bp, _condition, _office_visit, _patient

MEASURE = "ControllingHighBloodPressureFHIR"


def _bundle(patient_id: str, birth: str, systolic: float, diastolic: float) -> dict[str, Any]:
    """A hypertensive patient with an office visit and one 2025 reading; the builders' "p1" becomes ``patient_id``
    (and the birth date differs, so the master patient index keeps the two people apart)."""
    resources = [_patient(birth), _office_visit("visit", "2025-02-03"),
                 _condition("htn", "59621000", "2020-01-01"), _bp("bp", "2025-09-01", systolic, diastolic)]
    text = json.dumps({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": r} for r in resources]}).replace('"p1"', f'"{patient_id}"')
    return json.loads(text.replace("Patient/p1", f"Patient/{patient_id}"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "controlled.json").write_text(json.dumps(_bundle("ctl", "1960-05-01", 128, 78)), encoding="utf-8")
    (folder / "uncontrolled.json").write_text(json.dumps(_bundle("unc", "1958-11-20", 152, 96)), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    ctx = open_context(settings)
    assert ingest_paths(ctx.ingest_deps, [folder]).errors == []
    assert ctx.patients.counts()["patients"] == 2
    ctx.patients.assign_panel("nurse1", [ctx.patients.resolve_patient("fhir|ctl").id,
                                         ctx.patients.resolve_patient("fhir|unc").id])
    return {"CARETRAIL_DATA_DIR": str(tmp_path / "data"), "CARETRAIL_CLI_USER": "nurse1"}


def test_care_team_report_names_the_gap_and_cites_the_reading(env: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["measures", "report", "--as-of", "2025-12-31", "--json", "--html", str(page)],
                              env=env)
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    cms165 = body["measures"][MEASURE]
    assert cms165["counts"] == {"initial-population": 2, "denominator": 2, "denominator-exclusion": 0,
                                "numerator": 1}
    assert cms165["rate"] == 0.5 and cms165["prior_rate"] is None  # no 2024 data: no prior bar
    (gap,) = cms165["gaps"]
    ctx = open_context(Settings(data_dir=Path(env["CARETRAIL_DATA_DIR"])))
    assert gap["patient_id"] == ctx.patients.resolve_patient("fhir|unc").id
    assert "152" in gap["reason"] and gap["evidence"][0]["locator"]
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and "http" not in html.split("<body>")[1]
    row = audit_log_for(ctx).get(body["audit_id"])
    assert row.event == "measures.report" and row.user == "nurse1" and row.payload["gaps_listed"] == 1


def test_analysts_see_counts_but_no_patient(env: dict[str, str]) -> None:
    done = CliRunner().invoke(cli, ["measures", "report", "--as-of", "2025-12-31", "--json"],
                              env={**env, "CARETRAIL_CLI_USER": "qa", "CARETRAIL_CLI_ROLE": "analyst"})
    assert done.exit_code == 0, done.output
    cms165 = json.loads(done.stdout)["measures"][MEASURE]
    assert cms165["counts"]["numerator"] == 1 and "gaps" not in cms165
    other = CliRunner().invoke(cli, ["measures", "report", "--as-of", "2025-12-31", "--json"],
                               env={**env, "CARETRAIL_CLI_USER": "nobody"})  # a care manager with no panel
    assert other.exit_code == 0 and json.loads(other.stdout)["patients"] == 0
