"""Device readings: FHIR Observations with a device reference and CSV exports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from connectors import devices, fhir, registry
from connectors.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "devices"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_csv_readings_are_coded_and_located() -> None:
    path = FIXTURES / "readings.csv"
    data = path.read_bytes()
    assert registry.detect(path, data[:4096]) is devices
    doc = devices.parse(path, data)
    assert doc.format == "device-csv"
    text = data.decode("utf-8")
    by_id = {r.id: r for r in doc.records}
    assert len(doc.records) == 6

    weight = by_id["r-2"]
    assert (weight.code.code, weight.value, weight.unit) == ("29463-7", 82.9, "kg")
    assert weight.patient_key == "mbi|1EG4TE5MK73" and weight.device == "Cellular scale SN 4411"
    assert weight.effective == datetime(2026, 11, 11, 7, 5)  # wall-clock time kept, offset dropped

    bp = by_id["r-3"]
    assert bp.code.code == "85354-9" and bp.value is None
    assert [(c.code.code, c.value, c.unit) for c in bp.components] == [
        ("8480-6", 152, "mm[Hg]"),
        ("8462-4", 94, "mm[Hg]"),
    ]

    assert by_id["r-4"].patient_key == "mbi|1EG4TE5MK73"  # bare MBI with dashes
    assert (by_id["r-4"].code.code, by_id["r-4"].unit) == ("2339-0", "mg/dL")
    spo2 = by_id["readings.csv:6"]
    assert spo2.patient_key == "mrn|https://clinic.example.org/mrn|C-2211"
    assert (spo2.code.code, spo2.device) == ("59408-5", "Nonin 3230, pulse oximeter")
    assert by_id["readings.csv:7"].code.code == "8867-4" and by_id["readings.csv:7"].unit == "/min"

    for record in doc.records:
        start, end = record.provenance.start, record.provenance.end
        line = int(record.provenance.locator.removeprefix("line "))
        assert text[start:end] == text.splitlines()[line - 1]


def test_bad_row_names_the_line() -> None:
    path = FIXTURES / "bad_row.csv"
    with pytest.raises(ParseError) as err:
        devices.parse(path, path.read_bytes())
    assert err.value.position == "line 3" and "'eighty-two' is not a number" in err.value.message
    assert str(err.value) == f"{path} at line 3: value 'eighty-two' is not a number"


@pytest.mark.parametrize(
    ("body", "position", "fragment"),
    [
        ("patient_id,device,type,timestamp,value\n", "line 1", "missing column(s) unit"),
        (
            "patient_id,device,type,timestamp,value,unit\nmbi|1EG4TE5MK73,x,steps,2026-11-01,5,n\n",
            "line 2",
            "unknown reading type",
        ),
        (
            "patient_id,device,type,timestamp,value,unit\nmbi|1EG4TE5MK73,x,weight,yesterday,5,kg\n",
            "line 2",
            "ISO 8601",
        ),
        ("patient_id,device,type,timestamp,value,unit\nJohn,x,weight,2026-11-01,5,kg\n", "line 2", "not a key"),
        (
            "patient_id,device,type,timestamp,value,unit\nmbi|1EG4TE5MK73,x,weight,2026-11-01,5\n",
            "line 2",
            "expected 6 fields",
        ),
        ("patient_id,device,type,timestamp,value,unit\nmbi|1EG4TE5MK73,x,bp,2026-11-01,150,mmHg\n", "line 2", "142/88"),
    ],
)
def test_other_bad_rows(tmp_path: Path, body: str, position: str, fragment: str) -> None:
    path = tmp_path / "export.csv"
    path.write_text(body)
    with pytest.raises(ParseError) as err:
        devices.parse(path, path.read_bytes())
    assert err.value.position == position and fragment in err.value.message


def test_fhir_observations_with_device_reference() -> None:
    path = FIXTURES / "rpm_bundle.json"
    data = path.read_bytes()
    assert registry.detect(path, data[:4096]) is fhir  # JSON device readings are the FHIR connector's to read
    doc = fhir.parse(path, data)
    assert doc.format == "fhir"
    found = {o.id: o for o in devices.readings(doc)}
    assert set(found) == {"w-1", "bp-1"}  # the clinic weight has no device
    assert found["w-1"].device == "Cellular home scale"  # resolved from the Device resource via fullUrl
    assert found["bp-1"].device == "Omron BP7250"
    assert [c.value for c in found["bp-1"].components] == [148, 91]


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared sample data not present")
def test_us_core_vital_signs_are_not_device_readings() -> None:
    examples = SHARED / "fhir_r4_uscore_examples" / "HL7_US-Core"
    for name in ("weight.json", "blood-pressure.json", "heart-rate.json"):
        path = examples / name
        doc = fhir.parse(path, path.read_bytes())
        assert len(doc.records) == 1 and devices.readings(doc) == []
