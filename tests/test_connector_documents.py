"""Documents: PDF (built with reportlab), DOCX (built with python-docx), HTML, Markdown and text."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from connectors import documents, note_text, registry
from connectors.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "documents"


def _sections(path: Path):
    data = path.read_bytes()
    assert registry.detect(path, data[:4096]) is documents
    return documents.parse(path, data).records


def test_markdown_with_front_matter() -> None:
    path = FIXTURES / "care_plan.md"
    sections = _sections(path)
    text = path.read_text()
    assert [s.title for s in sections] == ["Goals", "Barriers", "Plan"]
    assert all(s.patient_key == "mbi|1EG4TE5MK73" for s in sections)
    assert sections[0].document_title == "Care plan review"
    assert sections[0].document_date == datetime(2026, 11, 2)
    for section in sections:
        assert text[section.provenance.start : section.provenance.end] == section.text
        assert section.provenance.locator == "text"
    assert "patient:" not in "".join(s.text for s in sections)


def test_text_with_patient_line() -> None:
    path = FIXTURES / "phone_note.txt"
    sections = _sections(path)
    text = path.read_text()
    assert [s.title for s in sections] == ["phone_note", "Medications", "RED FLAGS", "Follow-up"]
    assert sections[0].text == "Post-discharge call, day 2."
    assert sections[1].loinc == "10160-0"
    assert {s.patient_key for s in sections} == {"mbi|1EG4TE5MK73"}
    for section in sections:
        assert text[section.provenance.start : section.provenance.end] == section.text


def test_html_headings_are_boundaries() -> None:
    path = FIXTURES / "referral.html"
    sections = _sections(path)
    extracted, _, _ = note_text.html_to_text(path.read_text())
    assert [s.title for s in sections] == ["Reason for Referral", "Current Medications"]
    assert sections[0].patient_key == "mrn|https://clinic.example.org/mrn|C-2211"
    assert sections[0].document_title == "Cardiology referral" and sections[0].document_type == "referral"
    assert "reduced ejection fraction, two admissions" in sections[0].text
    assert "var x" not in extracted and "color: red" not in extracted
    assert [line for line in sections[1].text.splitlines() if line] == [
        "Current Medications",
        "furosemide 40 mg twice daily",
        "carvedilol 6.25 mg twice daily",
    ]
    for section in sections:
        assert extracted[section.provenance.start : section.provenance.end] == section.text


def test_docx_built_in_test_with_sidecar(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Hospital Course", level=1)
    document.add_paragraph("Admitted for heart failure; diuresed 3 L.")
    document.add_heading("Discharge Medications", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "furosemide 40 mg", "CHANGED: twice daily"
    table.cell(1, 0).text, table.cell(1, 1).text = "spironolactone 25 mg", "NEW"
    path = tmp_path / "summary.docx"
    document.save(path)
    (tmp_path / "summary.docx.meta.json").write_text(
        json.dumps({"patient": "mbi|1eg4te5mk73", "title": "Discharge summary", "date": "2026-11-08"})
    )
    assert not documents.sniff(tmp_path / "summary.docx.meta.json", b"{")
    sections = _sections(path)
    extracted, _ = documents.docx_to_text(path.read_bytes())
    assert [s.title for s in sections] == ["Hospital Course", "Discharge Medications"]
    assert sections[1].loinc == "10183-2" and sections[1].document_type == "discharge_summary"
    assert "spironolactone 25 mg | NEW" in sections[1].text
    assert {s.patient_key for s in sections} == {"mbi|1EG4TE5MK73"}
    for section in sections:
        assert extracted[section.provenance.start : section.provenance.end] == section.text


def test_pdf_built_in_test_per_page(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    path = tmp_path / "fax.pdf"
    pdf = canvas.Canvas(str(path), pagesize=letter)
    for line_number, line in enumerate(["Hospital Course:", "Admitted with COPD exacerbation."]):
        pdf.drawString(72, 720 - 14 * line_number, line)
    pdf.showPage()
    for line_number, line in enumerate(["Follow-up:", "PCP in 7 days."]):
        pdf.drawString(72, 720 - 14 * line_number, line)
    pdf.showPage()
    pdf.save()
    (tmp_path / "fax.meta.json").write_text(json.dumps({"patient": "fhir|abc"}))
    sections = _sections(path)
    pages = documents.pdf_pages(path, path.read_bytes())
    assert [(s.title, s.provenance.locator) for s in sections] == [
        ("Hospital Course", "page 1"),
        ("Follow-up", "page 2"),
    ]
    assert "COPD exacerbation" in sections[0].text
    for section in sections:
        page = pages[int(section.provenance.locator.split()[1]) - 1]
        assert page[section.provenance.start : section.provenance.end] == section.text


def test_no_patient_is_a_clear_error() -> None:
    path = FIXTURES / "unnamed.txt"
    with pytest.raises(ParseError, match="no patient identifier; add unnamed.txt.meta.json"):
        documents.parse(path, path.read_bytes())


def test_bad_inputs(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Patient: mbi|1EG4TE5MK73\nCaf\xe9 au lait spots.\n".encode("latin-1"))
    with pytest.raises(ParseError) as err:
        documents.parse(latin, latin.read_bytes())
    assert err.value.position.startswith("line 2, column 4")

    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02PK")
    with pytest.raises(ParseError, match="binary"):
        documents.parse(binary, binary.read_bytes())

    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(b"%PDF-1.4\n garbage")
    (tmp_path / "fake.pdf.meta.json").write_text('{"patient": "fhir|x"}')
    with pytest.raises(ParseError):
        documents.parse(fake_pdf, fake_pdf.read_bytes())

    bad_key = tmp_path / "bad.md"
    bad_key.write_text("Patient: Jane Doe\nHello\n")
    with pytest.raises(ParseError, match="not a key") as err:
        documents.parse(bad_key, bad_key.read_bytes())
    assert err.value.position == "line 1"

    bad_yaml = tmp_path / "bad_yaml.md"
    bad_yaml.write_text("---\npatient: [unclosed\n---\nbody\n")
    with pytest.raises(ParseError, match="YAML"):
        documents.parse(bad_yaml, bad_yaml.read_bytes())
