"""C-CDA connector on the public HL7 and vendor samples and on hostile files we made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.records.model import DocumentSection
from connectors import ccda
from connectors.errors import ParseError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CCDA = SHARED / "ccda"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ccda"

needs_shared = pytest.mark.skipif(not CCDA.is_dir(), reason="../shared/data/ccda is not present")


def _parse(path: Path):
    return ccda.parse(path, path.read_bytes())


def _sample_documents() -> list[Path]:
    if not CCDA.is_dir():
        return []
    documents = sorted((CCDA / "HL7_C-CDA-Examples" / "Documents").rglob("*"))
    vendor = sorted((CCDA / "jmandel_sample_ccdas").rglob("*.xml"))
    return [p for p in [*documents, *vendor] if p.is_file() and p.suffix.lower() == ".xml"]


@needs_shared
@pytest.mark.parametrize("path", _sample_documents(), ids=lambda p: p.name)
def test_every_full_sample_document_parses_with_sections_and_exact_offsets(path: Path) -> None:
    assert ccda.sniff(path, path.read_bytes()[:4096])
    document = _parse(path)
    assert document.format == "ccda"
    assert document.patients and document.patients[0].identifiers
    sections = [r for r in document.records if isinstance(r, DocumentSection)]
    assert sections, "every full document has at least one narrative section"
    tree = ccda.parse_tree(str(path), path.read_bytes())
    for section in sections[:5]:
        start, end = section.provenance.start, section.provenance.end
        assert (start, end) == (0, len(section.text))
        assert section.text[start:end] == section.text and section.text.strip()
        xpath, _, line = section.provenance.locator.rpartition(" (line ")
        found = tree.xpath(xpath, namespaces=ccda.NS)
        assert len(found) == 1 and found[0].sourceline == int(line.rstrip(")"))
        assert ccda.etree.QName(found[0]).localname == "section"


@needs_shared
def test_discharge_summary_sections_entries_and_encounter() -> None:
    document = _parse(CCDA / "HL7_C-CDA-Examples" / "Documents" / "Discharge Summary" / "Discharge_Summary.xml")
    sections = [r for r in document.records if r.kind == "section"]
    assert len(sections) == 21
    assert {s.document_type for s in sections} == {"discharge_summary"}
    by_loinc = {s.loinc: s for s in sections}
    # The discharge diagnosis section carries a non-LOINC code; its templateId maps it to 11535-2.
    assert by_loinc["11535-2"].text == "Appendicitis"
    assert "acute appendicitis" in by_loinc["8648-8"].text
    assert "Penicillin | Nausea | Moderate to severe | Active" in by_loinc["48765-2"].text.splitlines()
    meds = [r for r in document.records if r.kind == "medication"]
    assert [(m.code.system, m.code.code, m.status) for m in meds] == [("rxnorm", "197806", "active")]
    encounter = next(r for r in document.records if r.kind == "encounter")
    assert encounter.encounter_class == "inpatient"
    assert encounter.start.isoformat() == "2014-09-09T19:04:00-05:00"
    assert encounter.end.isoformat() == "2014-09-16T19:04:00-05:00"
    assert encounter.discharge_disposition == "01 Routine Discharge"
    assert meds[0].encounter_id == encounter.id  # a discharge medication belongs to this stay
    conditions = {(c.code.system, c.code.code) for c in document.records if c.kind == "condition"}
    assert ("snomed", "74400008") in conditions  # appendicitis
    patient = document.patients[0]
    assert patient.key == "mrn|2.16.840.1.113883.19.5.99999.2|998991"
    assert [i.system for i in patient.identifiers] == ["mrn", "ssn"]
    assert (patient.family, patient.given, str(patient.birth_date), patient.sex) == (
        "Jones", ["Isabella"], "2005-05-01", "female")  # fmt: skip
    authors = [p for p in document.records if p.kind == "practitioner" and p.role == "author"]
    assert authors and authors[0].npi == "99999999"


@needs_shared
def test_ccd_problems_results_and_vitals() -> None:
    document = _parse(CCDA / "HL7_C-CDA-Examples" / "Documents" / "CCD" / "CCD 1" / "CCD.XML")
    assert len([r for r in document.records if r.kind == "section"]) == 15
    conditions = {c.code.code: c for c in document.records if c.kind == "condition"}
    assert conditions["233604007"].code.display == "Pneumonia"
    assert conditions["233604007"].clinical_status == "resolved"
    vitals = {o.code.code: o for o in document.records if o.kind == "observation"}
    assert (vitals["8302-2"].value, vitals["8302-2"].unit) == (177.0, "cm")
    assert {s.document_type for s in document.records if s.kind == "section"} == {"ccd"}


@needs_shared
def test_vendor_transition_of_care_document() -> None:
    path = next((CCDA / "jmandel_sample_ccdas" / "Transitions of Care Samples").glob("*.xml"))
    document = _parse(path)
    meds = [r for r in document.records if r.kind == "medication"]
    assert len(meds) == 20
    assert all(m.patient_key == document.patients[0].key for m in meds)
    assert len([r for r in document.records if r.kind == "section"]) == 15


@needs_shared
def test_guide_example_fragments_fail_with_a_clear_error() -> None:
    fragments = sorted((CCDA / "HL7_C-CDA-Examples" / "Guide Examples").rglob("*.xml"))
    assert len(fragments) >= 10
    for path in fragments:
        with pytest.raises(ParseError) as caught:
            _parse(path)
        assert str(path) in str(caught.value)
        message = caught.value.message
        assert "not a C-CDA document: root element is" in message or "malformed XML" in message
        assert caught.value.position.startswith("line ")


@needs_shared
def test_other_snippets_parse_or_fail_cleanly() -> None:
    others = [p for p in sorted((CCDA / "HL7_C-CDA-Examples").rglob("*.xml")) if "Documents" not in p.parts]
    outcomes = {"ok": 0, "error": 0}
    for path in others:
        try:
            _parse(path)
            outcomes["ok"] += 1
        except ParseError as exc:
            assert exc.position and "line" in exc.position
            outcomes["error"] += 1
    assert outcomes["ok"] >= 2 and outcomes["error"] >= 10


def test_own_discharge_summary_fixture() -> None:
    document = _parse(FIXTURES / "discharge_summary_small.xml")
    patient = document.patients[0]
    assert patient.key == "mbi|1EG4TE5MK73"
    assert patient.identifiers[1].key == "mrn|2.16.840.1.113883.19.5.99999.2|MRN-4411"
    assert patient.language == "es" and patient.phone == "+1-217-555-0100"
    sections = [r for r in document.records if r.kind == "section"]
    assert [s.loinc for s in sections] == ["8648-8", "11535-2", "10183-2", "8716-3"]
    assert sections[0].text == "Admitted with CHF exacerbation.\nDiuresed 4 kg; weight at discharge 81 kg."
    assert sections[1].text == "Acute on chronic systolic heart failure\nType 2 diabetes"
    assert sections[2].text == "Medication | Sig\nFurosemide 40 MG Oral Tablet | 1 tablet daily"
    condition = next(r for r in document.records if r.kind == "condition")
    assert (condition.code.system, condition.code.code) == ("icd10", "I50.23")
    assert condition.encounter_id == "2.16.840.1.113883.19|ENC-77"
    medication = next(r for r in document.records if r.kind == "medication")
    assert (medication.code.code, medication.dose, str(medication.start)) == ("313988", "40 mg", "2026-03-02")
    encounter = next(r for r in document.records if r.kind == "encounter")
    assert encounter.discharge_disposition == "06 home health service"
    attending = next(r for r in document.records if r.kind == "practitioner" and r.role == "attending")
    assert attending.npi == "1245319599"
    weight = next(r for r in document.records if r.kind == "observation")
    assert (weight.code.code, weight.value, weight.unit) == ("29463-7", 81.0, "kg")


# Parses one file in a fresh interpreter and reports how far its peak RSS rose during the parse. In the test
# process ru_maxrss is a high-water mark that models loaded by earlier tests have already pushed past anything a
# parse could add, and tracemalloc cannot see libxml2's own allocations, where an expanded entity would live.
_PEAK_RSS_OF_PARSE = """
import json, resource, sys, time
from pathlib import Path
from connectors import ccda
from connectors.errors import ParseError

path = Path(sys.argv[1])
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    ccda.parse(path, data)
    error = None
except ParseError as exc:
    error = {"message": exc.message, "position": exc.position}
print(json.dumps({"seconds": time.perf_counter() - started, "error": error,
                  "grew_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""
# Fully expanded, the bomb's &lol9; is 3 GB of text. Refused before parsing, the file costs next to nothing (0 KiB
# measured, as for a clean 6 KB discharge summary), so the limit sits far above noise and far below any expansion.
PARSE_GROWTH_LIMIT_KIB = 16 * 1024


def _parse_in_fresh_process(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _PEAK_RSS_OF_PARSE, str(path)], cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_billion_laughs_is_refused_quickly_with_bounded_memory() -> None:
    result = _parse_in_fresh_process(FIXTURES / "billion_laughs.xml")
    assert result["error"] is not None, "the bomb was parsed"
    assert "XML entity declarations are not allowed (possible XML bomb)" in result["error"]["message"]
    assert result["error"]["position"] == "line 2, column 1"
    assert result["seconds"] < 1.0
    assert result["grew_kib"] < PARSE_GROWTH_LIMIT_KIB, result


def test_external_entity_is_refused_and_nothing_is_read() -> None:
    with pytest.raises(ParseError) as caught:
        _parse(FIXTURES / "external_entity.xml")
    assert "possible XML bomb" in caught.value.message and "root:" not in str(caught.value)


def test_entity_declaration_hidden_after_the_root_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "late.xml"
    path.write_bytes(b'<ClinicalDocument xmlns="urn:hl7-org:v3">\n<title/>\n<!ENTITY x "y">\n</ClinicalDocument>')
    with pytest.raises(ParseError) as caught:
        _parse(path)
    assert caught.value.position == "line 3, column 1"


def test_truncated_xml_names_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        _parse(FIXTURES / "truncated.xml")
    assert caught.value.message.startswith("malformed XML")
    assert caught.value.position.startswith("line 5") and ", column " in caught.value.position


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.xml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert not ccda.sniff(path, path.read_bytes())
    with pytest.raises(ParseError, match="binary content"):
        _parse(path)


def test_latin1_bytes_without_declaration_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    text = (FIXTURES / "discharge_summary_small.xml").read_text().replace("Rosa", "Jos\u00e9")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        _parse(path)
    assert "not valid UTF-8 (byte 0xe9)" in caught.value.message
    assert caught.value.position.startswith("line 17, column 33 ")


def test_latin1_declared_in_the_prolog_is_read(tmp_path: Path) -> None:
    path = tmp_path / "declared.xml"
    text = (FIXTURES / "discharge_summary_small.xml").read_text().replace("Rosa", "Jos\u00e9")
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path.write_bytes(text.encode("latin-1"))
    assert _parse(path).patients[0].given == ["Jos\u00e9"]


def test_huge_text_node_is_refused_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    body = b"A" * (11 * 1024 * 1024)
    path.write_bytes(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>' + body + b"</title></ClinicalDocument>")
    with pytest.raises(ParseError) as caught:
        _parse(path)
    assert caught.value.position.startswith("line 1")
