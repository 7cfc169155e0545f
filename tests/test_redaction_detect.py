"""Detection on the real presidio + spaCy pipeline with our recognizers."""

from __future__ import annotations

import pytest

from assistant.redaction.engine import detect
from assistant.redaction.recognizers.mbi import is_valid_mbi
from assistant.redaction.recognizers.npi import is_valid_npi
from assistant.redaction.registry import recognizer_modules


def _found(text: str, needle: str) -> set[str]:
    """Types of the entities that cover ``needle``."""
    start = text.index(needle)
    end = start + len(needle)
    return {e.type for e in detect(text) if e.start <= start and end <= e.end}


def test_every_safe_harbor_text_type_has_a_recognizer_file() -> None:
    expected = {"mbi", "npi", "ssn", "mrn", "account", "health_plan", "phone", "fax", "email", "url", "ip_address",
                "street_address", "zip_code", "date", "age", "license", "vehicle", "device", "person", "location"}
    assert expected <= set(recognizer_modules())


@pytest.mark.parametrize(
    ("text", "needle", "kind"),
    [
        ("MBI: 1EG4-TE5-MK73 on file", "1EG4-TE5-MK73", "MBI"),
        ("mbi 1eg4te5mk73 verified", "1eg4te5mk73", "MBI"),
        ("MRN: 00482913", "00482913", "MRN"),
        ("Acct # 88231-77", "88231-77", "ACCOUNT"),
        ("NPI 1234567893 signed", "1234567893", "NPI"),
        ("SSN 123-45-6789 on form", "123-45-6789", "SSN"),
        ("Medicaid ID: IL297961499", "IL297961499", "HEALTH_PLAN_ID"),
        ("call (217) 555-0143 today", "(217) 555-0143", "PHONE"),
        ("fax 217-555-0199", "217-555-0199", "FAX"),
        ("email ewhit@gmail.com now", "ewhit@gmail.com", "EMAIL"),
        ("see https://mychart.example.org/visit/123.", "https://mychart.example.org/visit/123", "URL"),
        ("login from 192.168.1.23", "192.168.1.23", "IP_ADDRESS"),
        ("lives at 1420 N. Maple Ave, Apt 3B", "1420 N. Maple Ave", "ADDRESS"),
        ("Springfield, IL 62704", "62704", "ZIP"),
        ("DOB 03/14/1947", "03/14/1947", "DATE"),
        ("seen 14-Mar-1947", "14-Mar-1947", "DATE"),
        ("born March 14, 1947 in", "March 14, 1947", "DATE"),
        ("labs 1947-03-14 ok", "1947-03-14", "DATE"),
        ("a 94-year-old woman", "94", "AGE"),
        ("license D123-4567-8901 expires", "D123-4567-8901", "LICENSE"),
        ("VIN 1HGCM82633A004352 on the title", "1HGCM82633A004352", "VEHICLE_ID"),
        ("pacemaker serial PJN7283641 checked", "PJN7283641", "DEVICE_ID"),
        ("Attending: Dr. Raj Patel", "Raj Patel", "PERSON"),
        ("Daughter Rose Whitfield is proxy", "Rose Whitfield", "PERSON"),
        ("Ilene Macdonald RN", "Ilene Macdonald", "PERSON"),
        ("Transferred from Mercy General Hospital today", "Mercy General Hospital", "LOCATION"),
    ],
)
def test_detects_each_identifier_type(text: str, needle: str, kind: str) -> None:
    assert kind in _found(text, needle)


def test_mbi_split_across_a_line_is_one_entity() -> None:
    text = "MBI (as printed): 7N91-JA4-\nUM54\nDOB: 10/22/1950"
    mbis = [e for e in detect(text) if e.type == "MBI"]
    assert len(mbis) == 1 and mbis[0].text.replace("\n", "") == "7N91-JA4-UM54"


def test_mbi_and_npi_validation_rules() -> None:
    assert is_valid_mbi("1EG4-TE5-MK73")
    assert not is_valid_mbi("1EG4-TE5-MK7S")  # S is an excluded letter
    assert not is_valid_mbi("0EG4TE5MK73")  # position 1 is 1-9
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")


def test_clinical_terms_and_years_are_left_alone() -> None:
    text = ("Parkinson disease and Down syndrome since 1992; Foley removed. On Lasix 40 mg and Eliquis; "
            "take 1/2 tab at bedtime. Hemoglobin A1c 8.2%. BP 132/84. Murphy sign negative.")
    assert detect(text) == []


def test_names_that_are_common_words_with_context() -> None:
    text = "Spoke with daughter Hope Baker. Dr. Will Summers to call. Mr. Bill Church declined."
    covered = {e.text for e in detect(text) if e.type == "PERSON"}
    assert {"Hope Baker", "Will Summers", "Bill Church"} <= covered


def test_dates_in_medication_instructions() -> None:
    text = "Hold apixaban on 4/2 before the extraction and restart April 4th; prednisone until 03/30/2025."
    dates = {e.text for e in detect(text) if e.type == "DATE"}
    assert dates == {"4/2", "April 4th", "03/30/2025"}


def test_identifiers_in_a_table() -> None:
    text = ("| Medication | Start      | Prescriber   |\n"
            "| Metformin  | 2024-01-05 | Dr. Holloway |\n"
            "| Lipitor    | 02/11/2024 | Iris Pham NP |\n")
    found = {(e.type, e.text) for e in detect(text)}
    assert {("DATE", "2024-01-05"), ("DATE", "02/11/2024"), ("PERSON", "Holloway"), ("PERSON", "Iris Pham")} <= found


def test_ages_under_ninety_are_not_phi() -> None:
    assert not [e for e in detect("A 76-year-old man, age 88.") if e.type == "AGE"]
