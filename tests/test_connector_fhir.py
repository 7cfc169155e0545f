"""FHIR connector on real Synthea bundles, bulk NDJSON, US Core / FHIR R4 examples and broken files."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.records.model import Condition, Coverage, DocumentSection, Encounter, Medication, Observation
from connectors import fhir, registry
from connectors.errors import ParseError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SYNTHEA = SHARED / "synthea_fhir_r4" / "smart-on-fhir_generated-sample-data"
BULK = SHARED / "synthea_fhir_r4" / "smart-on-fhir_sample-bulk-fhir-datasets_10-patients_subset"
US_CORE = SHARED / "fhir_r4_uscore_examples" / "HL7_US-Core"
MS_CORE = SHARED / "fhir_r4_uscore_examples" / "microsoft_fhir-server_R4_core_examples"
FIXTURES = Path(__file__).parent / "fixtures" / "fhir"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared sample data not present")


def _parse(path: Path):
    data = path.read_bytes()
    assert fhir.sniff(path, data[:4096]), path
    return fhir.parse(path, data)


def _synthea_files() -> list[Path]:
    return sorted((SYNTHEA / "R4_SYNTHEA").glob("*.json"))[:6] if SHARED.is_dir() else []


@needs_shared
@pytest.mark.parametrize("path", _synthea_files(), ids=lambda p: p.name[:20])
def test_synthea_bundle_counts_and_locators(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    resources = [e["resource"] for e in raw["entry"]]
    by_type = Counter(r["resourceType"] for r in resources)
    doc = _parse(path)

    assert doc.format == "fhir" and doc.warnings == []
    assert len(doc.patients) == 1
    patient = doc.patients[0]
    patient_resource = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient.key == f"fhir|{patient_resource['id']}"
    assert patient.birth_date.isoformat() == patient_resource["birthDate"]
    assert any(i.system == "ssn" for i in patient.identifiers)
    assert any(i.system == "mrn" and i.assigner == "http://hospital.smarthealthit.org" for i in patient.identifiers)

    kinds = Counter(r.kind for r in doc.records)
    assert kinds["encounter"] == by_type["Encounter"]
    assert kinds["condition"] == by_type["Condition"]
    assert kinds["observation"] == by_type["Observation"]
    assert kinds["medication"] == by_type["MedicationRequest"]
    assert kinds["procedure"] == by_type["Procedure"]
    assert "claim" not in kinds

    # Every urn:uuid subject resolved through fullUrl to the one patient.
    assert {r.patient_key for r in doc.records if r.patient_key} == {patient.key}
    ids = {r["id"]: r for r in resources}
    for record in doc.records:
        kind, rid = record.provenance.locator.split("/", 1)
        assert ids[rid]["resourceType"] == kind
        assert record.provenance.source_sha256 == doc.source_sha256

    # Encounter classes and codes against the raw bundle and the dataset's own index.
    index = {row["file"]: row for row in json.loads((SYNTHEA / "selection_index.json").read_text())}[path.name]
    encounters = [r for r in doc.records if isinstance(r, Encounter)]
    assert sum(e.encounter_class == "inpatient" for e in encounters) == index["inpatient_encounters"]
    assert sum(e.encounter_class == "emergency" for e in encounters) == index["emergency_encounters"]
    observations = [r for r in doc.records if isinstance(r, Observation)]
    assert sum(o.code.code == "4548-4" for o in observations) == index["hba1c_obs"]
    panels = [o for o in observations if o.code.code == "55284-4"]
    assert len(panels) == index["bp_panels"]
    assert all({c.code.code for c in p.components} == {"8480-6", "8462-4"} for p in panels)
    assert all(
        c.provenance.locator.startswith(p.provenance.locator + ".component[") for p in panels for c in p.components
    )
    encounter_ids = {e.id for e in encounters}
    assert all(o.encounter_id in encounter_ids for o in observations if o.encounter_id)
    meds = [r for r in doc.records if isinstance(r, Medication)]
    assert all(m.code.system == "rxnorm" for m in meds)
    assert sum(1 for r in doc.records if isinstance(r, Condition) and r.code.system == "snomed") == by_type["Condition"]


@needs_shared
def test_largest_synthea_bundle_is_fast() -> None:
    path = max((SYNTHEA / "R4_SYNTHEA").glob("*.json"), key=lambda p: p.stat().st_size)
    data = path.read_bytes()
    fhir.parse(path, data)  # warm the model classes
    started = time.perf_counter()
    doc = fhir.parse(path, data)
    elapsed = time.perf_counter() - started
    assert len(data) > 900_000 and len(doc.records) > 400
    assert elapsed < 1.0, f"{len(data)} bytes took {elapsed:.3f}s"


@needs_shared
def test_bulk_ndjson_subset() -> None:
    patients = _parse(BULK / "Patient.000.ndjson")
    assert patients.format == "fhir-ndjson"
    keys = {p.key for p in patients.patients}
    assert len(keys) == 3

    lines = (BULK / "Encounter.000.ndjson").read_text().splitlines()
    encounters = _parse(BULK / "Encounter.000.ndjson")
    assert len(encounters.records) == len(lines)
    assert {r.patient_key for r in encounters.records} <= keys
    first = json.loads(lines[0])
    assert encounters.records[0].provenance.locator == f"Encounter/{first['id']}"
    assert encounters.records[0].facility == first["serviceProvider"]["display"]

    notes = _parse(BULK / "DocumentReference.000.ndjson")
    sections = [r for r in notes.records if isinstance(r, DocumentSection)]
    raw = {json.loads(line)["id"]: json.loads(line) for line in (BULK / "DocumentReference.000.ndjson").open()}
    assert {s.document_id for s in sections} == set(raw)
    titles = Counter(s.title for s in sections)
    assert titles["Chief Complaint"] > 0 and titles["Medications"] > 0
    for section in sections[:200]:
        doc_id, _, content = section.provenance.locator.partition("#")
        assert content == "content[0]" and doc_id == f"DocumentReference/{section.document_id}"
        decoded = base64.b64decode(raw[section.document_id]["content"][0]["attachment"]["data"]).decode("utf-8")
        assert decoded[section.provenance.start : section.provenance.end] == section.text

    assert not fhir.sniff(BULK / "log.ndjson", (BULK / "log.ndjson").read_bytes()[:4096])
    with pytest.raises(ParseError, match="no resourceType") as err:
        fhir.parse(BULK / "log.ndjson", (BULK / "log.ndjson").read_bytes())
    assert err.value.position == "line 1"


@needs_shared
def test_us_core_examples_one_resource_per_file() -> None:
    outcomes = {}
    for path in sorted(US_CORE.glob("*.json")):
        outcomes[path.name] = _parse(path)
    patient = outcomes["patient-example.json"].patients[0]
    assert patient.key == "fhir|example"
    assert patient.language == "es"
    assert any(i.system == "mrn" and i.value == "1032702" for i in patient.identifiers)
    assert outcomes["patient-deceased-example.json"].patients[0].deceased

    encounter = outcomes["encounter-1036.json"].records[0]
    assert encounter.encounter_class == "inpatient" and encounter.discharge_disposition == "home"
    assert encounter.patient_key == "fhir|example"

    bp = outcomes["blood-pressure.json"].records[0]
    assert bp.code.code == "85354-9" and {c.code.code for c in bp.components} == {"8480-6", "8462-4"}
    weight = outcomes["weight.json"].records[0]
    assert weight.value == pytest.approx(20.09414) and weight.unit == "kg" and weight.device is None
    absent = outcomes["bp-data-absent.json"].records[0]
    assert absent.value is None

    coverage = outcomes["coverage-example.json"].records[0]
    assert isinstance(coverage, Coverage) and coverage.payer == "PPO"  # neither Medicare nor Medicaid: source text

    contained = outcomes["medicationrequest-contained-oral-axid.json"].records[0]
    coded = outcomes["medicationrequest-coded-oral-axid.json"].records[0]
    assert (contained.code.system, contained.code.code) == ("rxnorm", "582620")  # resolved from "#med2"
    assert (coded.code.system, coded.code.code) == ("rxnorm", "476872")

    summary = outcomes["documentreference-discharge-summary.json"].records
    assert len(summary) == 1 and summary[0].document_type == "discharge_summary"
    assert summary[0].text.startswith("No activity restriction")
    pdf = outcomes["DocumentReference-adi-dnr.json"]
    assert pdf.records == [] and "application/pdf" in pdf.warnings[0]


@needs_shared
def test_microsoft_examples_with_bom_and_a_bad_resource() -> None:
    bom_files = [p for p in MS_CORE.glob("*.json") if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert len(bom_files) >= 5
    for path in bom_files:
        doc = _parse(path)  # a BOM is not an error
        assert doc.warnings == [] or path.name == "Observation-For-Patient-f001.json"
        assert doc.patients or doc.records or path.name == "CarePlan.json"  # CarePlan is not mapped
    assert _parse(MS_CORE / "Patient-f001.json").patients[0].key == "fhir|f001"
    encounter = _parse(MS_CORE / "Encounter-For-Patient-f001.json").records[0]
    assert encounter.discharge_disposition == "home"  # SNOMED 306689006
    observation = _parse(MS_CORE / "Observation-For-Patient-f001.json")
    # interpretation is an object where R4 wants a list: a warning, and the value is still read.
    assert len(observation.records) == 1 and observation.records[0].value is not None
    assert len(observation.warnings) == 1 and "interpretation" in observation.warnings[0]
    assert "Observation/f001" in observation.warnings[0]


def test_malformed_json_names_line_and_column() -> None:
    path = FIXTURES / "malformed.json"
    with pytest.raises(ParseError) as err:
        fhir.parse(path, path.read_bytes())
    assert err.value.position == "line 5, column 3"
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_bad_ndjson_line_is_named() -> None:
    path = FIXTURES / "ndjson_bad_line.ndjson"
    with pytest.raises(ParseError) as err:
        fhir.parse(path, path.read_bytes())
    assert err.value.position is not None and err.value.position.startswith("line 3,")


def test_latin1_bytes_are_rejected_with_position() -> None:
    path = FIXTURES / "latin1_patient.json"
    with pytest.raises(ParseError) as err:
        fhir.parse(path, path.read_bytes())
    assert "UTF-8" in err.value.message and err.value.position.startswith("line 4")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not fhir.sniff(path, path.read_bytes())
    with pytest.raises(ParseError, match="binary"):
        fhir.parse(path, path.read_bytes())


def test_dual_homebound_identifiers_and_bad_resource_warning() -> None:
    path = FIXTURES / "dual_homebound_bundle.json"
    assert registry.detect(path, path.read_bytes()[:4096]) is fhir
    doc = fhir.parse(path, path.read_bytes())
    patient = doc.patients[0]
    keys = [i.key for i in patient.identifiers]
    assert keys == [
        "fhir|7d0e1c2a-0000-4000-8000-000000000001",
        "mbi|1EG4TE5MK73",
        "mrn|https://clinic.example.org/mrn|C-2211",
        "ssn|999123456",
    ]
    assert patient.language == "ht"
    coverages = {c.payer: c for c in doc.records if isinstance(c, Coverage)}
    assert set(coverages) == {"medicare", "medicaid"}
    assert coverages["medicare"].dual_status == "unknown" and coverages["medicare"].homebound is True
    assert coverages["medicaid"].homebound is None
    assert any("Observation/no-subject" in w and "skipped" in w for w in doc.warnings)
