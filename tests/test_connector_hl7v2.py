"""HL7 v2 ADT connector on the UCLH and Microsoft sample feeds and on messages we made."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import hl7_values, hl7v2
from connectors.errors import ParseError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ADT = SHARED / "hl7v2_adt"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hl7v2"

needs_shared = pytest.mark.skipif(not ADT.is_dir(), reason="../shared/data/hl7v2_adt is not present")


def _parse(path: Path):
    return hl7v2.parse(path, path.read_bytes())


def _samples() -> list[Path]:
    if not ADT.is_dir():
        return []
    return [p for p in sorted(ADT.rglob("*")) if p.is_file() and p.name != "LICENSE"]


@needs_shared
@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(ADT)))
def test_every_sample_message_parses(path: Path) -> None:
    data = path.read_bytes()
    assert hl7v2.sniff(path, data[:4096])
    document = _parse(path)
    assert len(document.patients) == 1 and document.patients[0].identifiers
    text = data.decode("utf-8-sig")
    pid = document.patients[0].provenance
    assert text[pid.start : pid.end].startswith("PID|")  # offsets open the exact segment
    events = {r.type.code for r in document.records if r.kind == "encounter"}
    assert events <= set(hl7v2.ENCOUNTER_EVENTS)
    if not events:
        assert any("not supported" in w for w in document.warnings)


@needs_shared
def test_uclh_discharge_sequence_gives_admit_and_discharge_times() -> None:
    folder = ADT / "UCLH-DHCT_emap" / "Adt" / "Location" / "Moves"
    admit = next(r for r in _parse(folder / "02_A01.txt").records if r.kind == "encounter")
    discharge = next(r for r in _parse(folder / "08_A03.txt").records if r.kind == "encounter")
    assert admit.id == discharge.id == "123412341234"  # PV1-19 visit number ties the stay together
    assert admit.encounter_class == "emergency" and admit.end is None  # PV1-2 is E in this feed
    assert discharge.start.isoformat() == "2013-02-11T10:00:52"
    assert discharge.end.isoformat() == "2013-02-11T17:00:52"
    patient = _parse(folder / "08_A03.txt").patients[0]
    assert patient.key == "mrn|MRENTR|40800000"
    assert [i.key for i in patient.identifiers][1] == "hl7v2-hn|NHS|9999999999"


@needs_shared
def test_microsoft_a01_identifiers_diagnosis_and_demographics() -> None:
    document = _parse(ADT / "microsoft_FHIR-Converter" / "ADT-A01-01.hl7")
    patient = document.patients[0]
    assert patient.key == "mrn|test1|PATID1234"
    assert ("ssn", "123456789") in [(i.system, i.value) for i in patient.identifiers]
    assert patient.family == "EVERYMAN" and patient.given[0] == "ADAM"
    assert patient.sex == "male" and patient.language == "ar"
    assert patient.address.city.strip() == "Ann Arbor" and patient.address.state == "MI"
    condition = next(r for r in document.records if r.kind == "condition")
    assert (condition.code.system, condition.code.code) == ("snomed", "422504002")
    assert condition.provenance.locator == "DG1-3 (line 16)"


def test_own_a01_with_crlf_separators_and_medicare_id() -> None:
    document = _parse(FIXTURES / "a01_crlf.hl7")
    patient = document.patients[0]
    assert [i.key for i in patient.identifiers] == ["mbi|1EG4TE5MK73", "mrn|GOODHOSP|MRN-4411", "ssn|123-45-6789"]
    assert patient.phone == "(217) 5550100" and str(patient.birth_date) == "1948-02-11"
    encounter, condition = document.records
    assert encounter.patient_key == "mbi|1EG4TE5MK73" and encounter.id == "V-9001"
    assert encounter.facility == "GOODHOSP / 4W / 412 / B"
    assert encounter.start.isoformat() == "2026-02-25T08:30:00"
    assert condition.code.code == "I50.23" and condition.code.system == "icd10"
    assert condition.encounter_id == "V-9001"


def test_two_messages_with_cr_separators_make_one_stay() -> None:
    document = _parse(FIXTURES / "a01_a03_cr.hl7")
    encounters = [r for r in document.records if r.kind == "encounter"]
    assert [e.type.code for e in encounters] == ["A01", "A03"]
    assert {e.id for e in encounters} == {"V-9001"}
    assert encounters[1].discharge_disposition == "03 skilled nursing facility"
    assert encounters[1].provenance.locator == "PV1 (line 8)"


def test_message_without_pid_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        _parse(FIXTURES / "missing_pid.hl7")
    assert "missing_pid.hl7" in str(caught.value)
    assert "no PID segment" in caught.value.message


def test_bad_admit_date_names_the_field() -> None:
    with pytest.raises(ParseError) as caught:
        _parse(FIXTURES / "bad_pv1_44.hl7")
    assert caught.value.position == "PV1-44 (line 4)"
    assert "2026-02-25 08:30" in caught.value.message


def test_bad_message_in_a_batch_is_a_warning_not_a_loss(tmp_path: Path) -> None:
    path = tmp_path / "batch.hl7"
    path.write_bytes((FIXTURES / "a01_crlf.hl7").read_bytes() + (FIXTURES / "bad_pv1_44.hl7").read_bytes())
    document = _parse(path)
    assert len(document.patients) == 1
    assert any("PV1-44 (line 9)" in w for w in document.warnings)


def test_unsupported_trigger_reads_the_patient_only() -> None:
    text = (FIXTURES / "a01_crlf.hl7").read_text().replace("ADT^A01^ADT_A01", "ADT^A02^ADT_A02")
    parsed = hl7v2.parse_message(text)
    assert parsed.records == [] and parsed.patient.key == "mbi|1EG4TE5MK73"
    assert "not supported" in parsed.warnings[0]


def test_text_before_msh_and_binary_and_latin1(tmp_path: Path) -> None:
    garbage = tmp_path / "x.hl7"
    garbage.write_bytes(b"hello\nMSH|^~\\&|A\n")
    with pytest.raises(ParseError) as caught:
        _parse(garbage)
    assert caught.value.position == "line 1"
    binary = tmp_path / "y.hl7"
    binary.write_bytes(b"MSH|\x00\x01\x02")
    assert not hl7v2.sniff(binary, binary.read_bytes())
    with pytest.raises(ParseError, match="binary"):
        _parse(binary)
    latin1 = tmp_path / "z.hl7"
    latin1.write_bytes((FIXTURES / "a01_crlf.hl7").read_text().replace("Rosa", "Jos\u00e9").encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        _parse(latin1)
    assert caught.value.position.startswith("line 3, column ")


def test_parse_ts_is_strict() -> None:
    assert hl7_values.parse_ts("20260225").isoformat() == "2026-02-25T00:00:00"
    assert hl7_values.parse_ts("202602250830-0500").isoformat() == "2026-02-25T08:30:00-05:00"
    assert hl7_values.parse_ts("") is None
    for bad in ("2013021110005", "20261301", "2026-02-25"):
        with pytest.raises(ValueError):
            hl7_values.parse_ts(bad)
