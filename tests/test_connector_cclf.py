"""CCLF connector on the CMS BCDA test files and on files written by the demo writer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.demo.cclf_writer import write_cclf1, write_cclf5, write_cclf8, write_cclf9
from connectors import cclf
from connectors.errors import ParseError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BCDA = SHARED / "cms_cclf_bcda" / "CMSgov_bcda-app"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cclf"

needs_shared = pytest.mark.skipif(not BCDA.is_dir(), reason="../shared/data/cms_cclf_bcda is not present")


def _parse(path: Path):
    return cclf.parse(path, path.read_bytes())


def test_layouts_are_contiguous_and_match_cms_record_lengths() -> None:
    for layout in cclf.LAYOUTS.values():
        position = 1
        for item in layout.fields:
            assert item.start == position, f"{layout.file_type} {item.name}"
            position = item.end + 1
    lengths = {name: layout.record_length for name, layout in cclf.LAYOUTS.items()}
    assert lengths == {"CCLF1": 437, "CCLF5": 388, "CCLF8": 549, "CCLF9": 55}


def test_file_names() -> None:
    assert cclf.file_type_of(Path("P.A1234.ACO.ZC8Y19.D190101.T1234567")) == "CCLF8"
    assert cclf.file_type_of(Path("T.BCD.A0001.ZC9Y18.D181120.T1000010")) == "CCLF9"
    assert cclf.file_type_of(Path("P.A1234.ACO.ZC1R20.D210101.T0000001")) == "CCLF1"
    assert cclf.file_type_of(Path("ZC5")) == "CCLF5"
    assert cclf.file_type_of(Path("notes_ZC8Y.txt")) is None
    assert cclf.file_type_of(Path("discharge.xml")) is None


@needs_shared
def test_bcda_cclf8_demographics_and_coverage() -> None:
    path = BCDA / "cclf_archive_valid_A0001_extracted" / "T.BCD.A0001.ZC8Y18.D181120.T1000009"
    assert cclf.sniff(path, path.read_bytes()[:4096])
    document = _parse(path)
    assert len(document.patients) == 7
    first = document.patients[0]
    assert first.key == "mbi|1A69B98CD30"
    assert (first.given, first.family, str(first.birth_date), first.sex) == (
        ["FnameOne", "A"], "LnameOne", "1940-10-27", "male")  # fmt: skip
    assert first.address.city == "CITY1" and first.address.postal_code == "21117-1111"
    assert first.provenance.locator == "line 1"
    coverage = document.records[0]
    assert (coverage.payer, coverage.dual_status_code, coverage.dual_status) == ("medicare", "NA", None)
    assert coverage.medicare_status_code == "10" and coverage.start == date(2016, 8, 1)


@needs_shared
def test_bcda_cclf9_crosswalk_keeps_both_identifiers() -> None:
    path = BCDA / "cclf_archive_valid_A0001_extracted" / "T.BCD.A0001.ZC9Y18.D181120.T1000010"
    document = _parse(path)
    assert len(document.patients) == 6
    mbi_rows = [p for p in document.patients if p.identifiers[0].system == "mbi"]
    assert [i.key for i in mbi_rows[0].identifiers] == ["mbi|1A69B98CD33", "mbi|previous|1A69B98CD32"]
    assert document.patients[0].identifiers[0].system == "hicn"


@needs_shared
def test_bcda_summary_and_stub_files() -> None:
    summary = BCDA / "cclf_synthetic_test_dev" / "ZC0"
    assert cclf.sniff(summary, summary.read_bytes())
    assert "11 CCLF files" in _parse(summary).warnings[0]
    crosswalk = BCDA / "cclf_synthetic_test_dev" / "ZC9"
    assert len(_parse(crosswalk).patients) == 2  # records with trailing blanks trimmed are accepted
    stub = BCDA / "cclf_synthetic_test_dev" / "ZC8"  # MBI-only stubs, not real CCLF8 records
    with pytest.raises(ParseError) as caught:
        _parse(stub)
    assert caught.value.position == "line 1, columns 1-37"
    assert "expected 166-549" in caught.value.message
    assert not cclf.sniff(BCDA / "bluebutton_synthetic_beneficiary_data" / "Patient", b'{"resourceType"')


def test_wrong_length_line_names_the_line() -> None:
    path = FIXTURES / "T.BCD.A9999.ZC8Y26.D260301.T0000001"
    assert cclf.sniff(path, path.read_bytes()[:4096])
    with pytest.raises(ParseError) as caught:
        _parse(path)
    assert caught.value.position == "line 2, columns 1-120"


def test_bad_date_names_line_and_columns(tmp_path: Path) -> None:
    path = write_cclf8(tmp_path / "P.A1234.ACO.ZC8Y26.D260301.T0000001",
                       [{"BENE_MBI_ID": "1EG4TE5MK73", "BENE_DOB": "1948-02-11"}])  # fmt: skip
    text = path.read_text().replace("1948-02-11", "1948-13-11")
    path.write_text(text)
    with pytest.raises(ParseError) as caught:
        _parse(path)
    assert caught.value.position == "line 1, columns 33-42" and "BENE_DOB" in caught.value.message


def test_cclf8_and_cclf9_round_trip(tmp_path: Path) -> None:
    rows = [
        {"BENE_MBI_ID": "1EG4TE5MK73", "BENE_DOB": date(1948, 2, 11), "BENE_SEX_CD": "2", "BENE_MDCR_STUS_CD": "20",
         "BENE_DUAL_STUS_CD": "02", "BENE_1ST_NAME": "ROSA", "BENE_LAST_NAME": "TESTPERSON", "BENE_AGE": "78",
         "BENE_LINE_1_ADR": "12 TEST LANE", "GEO_ZIP_PLC_NAME": "SPRINGFIELD", "GEO_USPS_STATE_CD": "IL",
         "GEO_ZIP5_CD": "62704", "BENE_PART_A_ENRLMT_BGN_DT": "2013-02-01"},
        {"BENE_MBI_ID": "2EG4TE5MK74", "BENE_DOB": "1950-06-30", "BENE_SEX_CD": "1", "BENE_DUAL_STUS_CD": "03"},
    ]  # fmt: skip
    path = write_cclf8(tmp_path / "P.A1234.ACO.ZC8Y26.D260301.T0000001", rows)
    assert {len(line) for line in path.read_text().splitlines()} == {549}
    document = _parse(path)
    rosa, other = document.patients
    assert (rosa.key, rosa.given, rosa.family, rosa.birth_date, rosa.sex) == (
        "mbi|1EG4TE5MK73", ["ROSA"], "TESTPERSON", date(1948, 2, 11), "female")  # fmt: skip
    assert rosa.address.lines == ["12 TEST LANE"] and rosa.address.state == "IL"
    full, partial = document.records
    assert (full.dual_status, full.dual_status_code, full.medicare_status_code) == ("full", "02", "20")
    assert (partial.dual_status, partial.dual_status_code) == ("partial", "03")
    rows = cclf.read_records(str(path), path.read_text(), cclf.CCLF8)
    assert rows[0][1]["BENE_AGE"] == "078" and rows[0][1]["BENE_DOB"] == "1948-02-11"

    xwalk = write_cclf9(tmp_path / "P.A1234.ACO.ZC9Y26.D260301.T0000001", [
        {"HICN_MBI_XREF_IND": "M", "CRNT_NUM": "1EG4TE5MK73", "PRVS_NUM": "9AA0AA0AA00",
         "PRVS_ID_EFCTV_DT": "2019-01-01", "PRVS_ID_OBSLT_DT": "2024-05-01"},
    ])  # fmt: skip
    patient = _parse(xwalk).patients[0]
    assert [i.key for i in patient.identifiers] == ["mbi|1EG4TE5MK73", "mbi|previous|9AA0AA0AA00"]


def test_cclf1_and_cclf5_claims_round_trip(tmp_path: Path) -> None:
    header = {"CUR_CLM_UNIQ_ID": "1000000000001", "PRVDR_OSCAR_NUM": "140010", "BENE_MBI_ID": "1EG4TE5MK73",
              "CLM_TYPE_CD": "60", "CLM_FROM_DT": "2026-02-25", "CLM_THRU_DT": "2026-03-02",
              "PRNCPL_DGNS_CD": "I5023", "ADMTG_DGNS_CD": "R0602", "CLM_PMT_AMT": 12345.67,
              "BENE_PTNT_STUS_CD": "06", "ATNDG_PRVDR_NPI_NUM": "1245319599", "DGNS_PRCDR_ICD_IND": "0",
              "DGNS_DRG_CD": "0292", "CLM_ADMSN_TYPE_CD": "1", "CLM_BILL_FAC_TYPE_CD": "1",
              "CLM_BILL_CLSFCTN_CD": "1", "CLM_BILL_FREQ_CD": "1"}  # fmt: skip
    part_a = write_cclf1(tmp_path / "P.A1234.ACO.ZC1Y26.D260301.T0000001", [header])
    claim = _parse(part_a).records[0]
    assert (claim.id, claim.patient_key, claim.claim_type, claim.file_type) == (
        "1000000000001", "mbi|1EG4TE5MK73", "60", "CCLF1")  # fmt: skip
    assert (claim.from_date, claim.thru_date) == (date(2026, 2, 25), date(2026, 3, 2))
    assert (claim.facility_ccn, claim.provider_npi, claim.amount) == ("140010", "1245319599", 12345.67)
    assert [d.code for d in claim.diagnoses] == ["I5023", "R0602"]
    # Discharged to home health (NUBC 06) after an HF DRG inpatient stay: what a TCM trigger reads.
    assert (claim.drg, claim.discharge_status, claim.admission_type, claim.bill_type) == ("0292", "06", "1", "111")
    line = {"CUR_CLM_UNIQ_ID": "2000000000002", "CLM_LINE_NUM": "1", "BENE_MBI_ID": "1EG4TE5MK73",
            "CLM_TYPE_CD": "71", "CLM_FROM_DT": "2026-03-09", "CLM_THRU_DT": "2026-03-09",
            "CLM_LINE_FROM_DT": "2026-03-09", "CLM_LINE_THRU_DT": "2026-03-09", "CLM_LINE_HCPCS_CD": "99496",
            "CLM_LINE_CVRD_PD_AMT": "250.10", "CLM_LINE_DGNS_CD": "I5023", "CLM_DGNS_1_CD": "I5023",
            "CLM_DGNS_2_CD": "E119", "RNDRG_PRVDR_NPI_NUM": "1234567893", "DGNS_PRCDR_ICD_IND": "0",
            "CLM_POS_CD": "12"}  # fmt: skip
    part_b = write_cclf5(tmp_path / "P.A1234.ACO.ZC5Y26.D260301.T0000001", [line])
    claim = _parse(part_b).records[0]
    assert (claim.id, claim.claim_type, claim.provider_npi, claim.amount) == ("2000000000002-1", "71", "1234567893",
                                                                            250.10)  # fmt: skip
    assert [p.code for p in claim.procedures] == ["99496"]
    assert [d.code for d in claim.diagnoses] == ["I5023", "E119"]
    assert claim.place_of_service == "12" and claim.drg is None  # a home visit, billed on a professional claim


def test_writer_refuses_values_that_do_not_fit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BENE_MBI_ID"):
        write_cclf8(tmp_path / "ZC8", [{"BENE_MBI_ID": "X" * 12}])
    with pytest.raises(ValueError, match="no field"):
        write_cclf8(tmp_path / "ZC8", [{"NOT_A_FIELD": "1"}])


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "P.A1234.ACO.ZC8Y26.D260301.T0000001"
    path.write_bytes(b"PK\x03\x04\x00\x00" + bytes(600))
    assert not cclf.sniff(path, path.read_bytes())
    with pytest.raises(ParseError, match="binary"):
        _parse(path)
