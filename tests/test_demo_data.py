"""The demo panel: byte-for-byte determinism, planted flags, and every bundle readable by the FHIR connector."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.demo.generator import REFERENCE_DATE, generate, luhn_check_digit, npi_is_valid
from assistant.records.model import Coverage, DocumentSection, Encounter, Medication, Observation
from connectors import cclf, fhir

MBI_RE = re.compile(
    r"^[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]"
    r"[AC-HJKMNP-RT-Y]{2}[0-9]{2}$"
)
N = 120


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    generate(N, 11, out)
    return out, json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def parsed(panel: tuple[Path, dict]) -> dict[str, object]:
    out, manifest = panel
    return {
        row["file"]: fhir.parse(out / row["file"], (out / row["file"]).read_bytes()) for row in manifest["patients"]
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path, panel: tuple[Path, dict]) -> None:
    out, _ = panel
    again = tmp_path / "again"
    generate(N, 11, again)
    assert _digests(again) == _digests(out)
    other = tmp_path / "other"
    generate(N, 12, other)
    assert _digests(other).keys() == _digests(out).keys()
    assert _digests(other)["patient-0001.json"] != _digests(out)["patient-0001.json"]


def test_every_bundle_parses_cleanly(panel: tuple[Path, dict], parsed: dict) -> None:
    _, manifest = panel
    assert len(manifest["patients"]) == N
    for row in manifest["patients"]:
        doc = parsed[row["file"]]
        assert doc.warnings == [], doc.warnings[:3]
        assert len(doc.patients) == 1 and doc.patients[0].key == row["key"]
        assert all(r.patient_key in (row["key"], None) for r in doc.records)
        assert doc.patients[0].language == row["language"]


def test_identifiers_are_valid(panel: tuple[Path, dict], parsed: dict) -> None:
    _, manifest = panel
    for row in manifest["patients"]:
        patient = parsed[row["file"]].patients[0]
        mbis = [i.value for i in patient.identifiers if i.system == "mbi"]
        if row["duplicate_of"] is None:
            assert mbis == [row["mbi"]] and MBI_RE.match(row["mbi"])
            assert any(i.system == "mrn" for i in patient.identifiers)
        pcps = [r for r in parsed[row["file"]].records if r.kind == "practitioner" and r.role == "pcp"]
        assert len(pcps) == 1 and npi_is_valid(pcps[0].npi) and pcps[0].patient_key == row["key"]
    assert luhn_check_digit("80840" + "123456789") == 3  # the CMS worked example: NPI 1234567893


def test_planted_flags(panel: tuple[Path, dict], parsed: dict) -> None:
    _, manifest = panel
    rows = manifest["patients"]
    people = [r for r in rows if r["duplicate_of"] is None]
    assert manifest["reference_date"] == REFERENCE_DATE.isoformat()
    assert sum(r["dual"] for r in people) == round(len(people) * 0.2)
    assert sum(r["homebound"] for r in people) == round(len(people) * 0.08)
    assert sum(r["inactive"] for r in people) == round(len(people) * 0.05)
    languages = Counter(r["language"] for r in people)
    assert 0.78 <= languages["en"] / len(people) <= 0.9
    assert {"es", "zh", "vi", "tl", "ko", "ru", "ar", "ht"} <= set(languages)
    assert all(1930 <= int(r["birth_date"][:4]) <= 1960 for r in rows)

    keys = {r["key"]: r for r in rows}
    duplicates = [r for r in rows if r["duplicate_of"]]
    assert len(duplicates) == round(N * 0.02)
    for dup in duplicates:
        original = keys[dup["duplicate_of"]]
        a = parsed[original["file"]].patients[0]
        b = parsed[dup["file"]].patients[0]
        assert a.birth_date == b.birth_date and a.family == b.family
        assert a.given != b.given  # nickname or no middle initial
        a_mrn = next(i for i in a.identifiers if i.system == "mrn")
        b_mrn = next(i for i in b.identifiers if i.system == "mrn")
        assert a_mrn.assigner != b_mrn.assigner

    for row in people:
        doc = parsed[row["file"]]
        coverages = [r for r in doc.records if isinstance(r, Coverage)]
        medicare = next(c for c in coverages if c.payer == "medicare")
        assert (medicare.dual_status is not None) == row["dual"]
        assert bool(medicare.homebound) == row["homebound"]
        dated = [r.start for r in doc.records if isinstance(r, Encounter)]
        dated += [r.effective for r in doc.records if isinstance(r, Observation)]
        latest = max(d for d in dated if d).date()
        if row["inactive"]:
            assert (REFERENCE_DATE - latest).days > 365 and row["recent_discharge"] is None
        else:
            assert (REFERENCE_DATE - latest).days <= 90


def test_recent_discharges_have_summaries_with_med_changes(panel: tuple[Path, dict], parsed: dict) -> None:
    out, manifest = panel
    discharged = [r for r in manifest["patients"] if r["recent_discharge"]]
    assert any(r["recent_discharge"]["class"] == "inpatient" for r in discharged)
    changes = Counter(c["change"] for r in discharged for c in r["recent_discharge"]["medication_changes"])
    assert changes["NEW"] and changes["STOPPED"] and changes["CHANGED"]
    high_a1c = high_bp = 0
    for row in discharged:
        info = row["recent_discharge"]
        doc = parsed[row["file"]]
        encounter = next(r for r in doc.records if isinstance(r, Encounter) and r.id == info["encounter_id"])
        assert encounter.encounter_class == info["class"] and encounter.discharge_disposition
        assert 0 < (REFERENCE_DATE - encounter.end.date()).days <= 30
        sections = [s for s in doc.records if isinstance(s, DocumentSection) and s.document_id == info["document_id"]]
        titles = [s.title for s in sections]
        for wanted in ("Hospital Course", "Discharge Diagnoses", "Discharge Medications", "Pending Results",
                       "Follow-up", "Home Health/DME", "Patient Education", "Red Flags"):  # fmt: skip
            assert wanted in titles
        raw = json.loads((out / row["file"]).read_text())
        note = next(e["resource"] for e in raw["entry"] if e["resource"]["id"] == info["document_id"])
        decoded = base64.b64decode(note["content"][0]["attachment"]["data"]).decode("utf-8")
        for section in sections:
            assert decoded[section.provenance.start : section.provenance.end] == section.text
        meds = next(s for s in sections if s.title == "Discharge Medications").text
        for change in info["medication_changes"]:
            assert f"({change['change']}" in meds
        new_requests = [r for r in doc.records if isinstance(r, Medication) and r.encounter_id == encounter.id]
        assert len(new_requests) == sum(c["change"] != "CONTINUE" for c in info["medication_changes"])
    for doc in parsed.values():
        for obs in doc.records:
            if isinstance(obs, Observation) and obs.code.code == "4548-4" and obs.value > 9:
                high_a1c += 1
            if isinstance(obs, Observation) and obs.code.code == "85354-9":
                high_bp += any(c.code.code == "8480-6" and c.value >= 140 for c in obs.components)
    assert high_a1c > 0 and high_bp > 0


def test_device_readings_reference_devices(panel: tuple[Path, dict], parsed: dict) -> None:
    _, manifest = panel
    rpm = [r for r in manifest["patients"] if r["rpm"]]
    assert rpm
    for row in rpm:
        readings = [o for o in parsed[row["file"]].records if isinstance(o, Observation) and o.device]
        assert {o.device for o in readings} == {"Cellular home scale", "Cellular blood pressure monitor"}
        assert len(readings) == 28


def test_cli_prints_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    result = CliRunner().invoke(app, ["demo-data", "--patients", "12", "--seed", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wrote 12 bundles (11 people, 1 planted duplicates")
    assert len(list(tmp_path.glob("patient-*.json"))) == 12


def test_cclf_files_plant_attribution_mismatches(panel: tuple[Path, dict]) -> None:
    out, manifest = panel
    planted = manifest["cclf"]
    people = [r for r in manifest["patients"] if r["duplicate_of"] is None]
    bundle_mbis = {r["mbi"] for r in people}
    beneficiaries = cclf.parse(out / planted["files"][0], (out / planted["files"][0]).read_bytes())
    cclf8_mbis = {p.key.removeprefix("mbi|") for p in beneficiaries.patients}
    assert len(cclf8_mbis) == planted["beneficiaries"] == len(people) + len(planted["attributed_without_clinical_data"])
    for orphan in planted["attributed_without_clinical_data"]:
        assert orphan["mbi"] in cclf8_mbis and orphan["mbi"] not in bundle_mbis
    crosswalk = cclf.parse(out / planted["files"][1], (out / planted["files"][1]).read_bytes())
    links = {tuple(i.value for i in p.identifiers) for p in crosswalk.patients}
    assert planted["mbi_changes"]
    for change in planted["mbi_changes"]:
        assert change["previous_mbi"] in bundle_mbis and change["previous_mbi"] not in cclf8_mbis
        assert change["current_mbi"] in cclf8_mbis
        assert (change["current_mbi"], change["previous_mbi"]) in links
    assert len(cclf8_mbis & bundle_mbis) == len(people) - len(planted["mbi_changes"])
