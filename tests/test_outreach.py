"""Outreach engine parts, without a store: every template in every language, the reading-grade gate, SMS segments,
opt-out words, the minimum-necessary PHI check, the FHIR Communication and letters in the patient's script.

The templates are the shipped files under prompts/outreach; the PHI check runs the real detector; letters are real
PDFs read back with pypdf.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from assistant.outreach import minimum_phi, optout, sms
from assistant.outreach.dates import format_date
from assistant.outreach.engine import choose_language
from assistant.outreach.facts import Fact, short_name
from assistant.outreach.fhir_output import communication
from assistant.outreach.languages import LANGUAGES
from assistant.outreach.letters import render_pdf
from assistant.outreach.purposes import PURPOSES
from assistant.outreach.readability import GRADE_GATE, english_grade
from assistant.outreach.templates import (
    PLACEHOLDER,
    TemplateError,
    all_templates,
    leftover_markup,
    load_template,
    render,
)
from assistant.records.store import PatientRow
from assistant.settings import REPO_ROOT

TEMPLATES = REPO_ROOT / "prompts" / "outreach"
CHANGES = [
    {"change": "new", "medication": "Apixaban 5 MG"},
    {"change": "dose_changed", "medication": "Furosemide 40 MG"},
    {"change": "stopped", "medication": "Lisinopril 10 MG"},
    {"change": "held", "medication": "Metformin 500 MG"},
]
FACTS = {
    "org_name": Fact("org_name", "Riverbend Care"), "first_name": Fact("first_name", "Rosa"),
    "callback_number": Fact("callback_number", "217-555-0199"),
    "discharge_date": Fact("discharge_date", date(2026, 11, 20)),
    "appointment_date": Fact("appointment_date", date(2026, 11, 30)),
    "medication_changes": Fact("medication_changes", CHANGES),
    "message": Fact("message", "Please bring your pill bottles to your next visit."),
}  # fmt: skip
ROSA = PatientRow(
    id="pt-rosa",
    given=("Rosa", "Maria"),
    family="Quintanilla",
    birth_date=date(1946, 3, 11),
    language="es",
    phone="309-555-0142",
    identifiers=("mbi|3RT5YU7IK90", "fhir|rosa"),
    address={"lines": ["48 Orchard Row"], "city": "Peoria", "state": "IL", "postal_code": "61602"},
)


def _values(template) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: FACTS[name].render(template) for name in PURPOSES[template.purpose].placeholders}


def test_every_template_renders_in_every_language_with_every_placeholder_filled() -> None:
    templates = all_templates(TEMPLATES)
    assert len(templates) == len(PURPOSES) * len(LANGUAGES) == 160
    for template in templates:
        values = _values(template)
        text = render(template.body, values)
        assert not PLACEHOLDER.findall(text) and not leftover_markup(text), template.path
        for name, value in values.items():
            assert value in text, (template.path, name)
        assert "STOP" in template.opt_out, template.path
        assert template.direction == LANGUAGES[template.language].direction, template.path
        if template.language != "en":  # honest about who wrote it
            assert "not by a qualified translator" in template.translated_by, template.path
            assert "qualified translator's approval" in template.meta["translation_status"], template.path
    dates = [render(t.body, _values(t)) for t in templates if t.purpose == "appointment_reminder"]
    assert any("30 de noviembre de 2026" in d for d in dates) and any("2026年11月30日" in d for d in dates)
    assert any("30 ноября 2026" in d for d in dates) and any("30. November 2026" in d for d in dates)


def test_english_sources_are_at_or_below_sixth_grade() -> None:
    for purpose in PURPOSES:
        template = load_template(TEMPLATES, purpose, "en")
        assert template is not None
        text = f"{render(template.body, _values(template))} {template.opt_out}"
        grade = english_grade(text)
        assert grade <= GRADE_GATE, (purpose, grade, text)
    hard = (
        "Pursuant to the reconciliation of pharmacotherapeutic regimens documented contemporaneously with "
        "discharge, beneficiaries should telephonically contact the interdisciplinary coordination team."
    )
    assert english_grade(hard) > GRADE_GATE  # the gate can fail


def test_sms_segments_and_encoding_on_known_strings() -> None:
    cases = [
        ("Hello Rosa", "GSM-7", 10, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Café à Zürich é" * 10, "GSM-7", 150, 1),  # é, à, ü are in the GSM alphabet
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # the escape pair is not split: 152 + 153 + 1
        ("Está bien", "UCS-2", 9, 1),  # á is not in the GSM alphabet
        ("日本語" * 23 + "日", "UCS-2", 70, 1),
        ("日本語" * 23 + "日本", "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 code units
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 66 + "😀" + "á", "UCS-2", 69, 1),
        ("a" * 66 + "😀" + "a" * 5, "UCS-2", 73, 2),
    ]
    for text, encoding, units, segments in cases:
        found = sms.count(text)
        assert (found.encoding, found.units, found.segments) == (encoding, units, segments), text[:20]
    assert sms.count("a" * 66 + "😀" + "a" * 66).segments == 3  # 134 units, but the pair moves: 66 + 67 + 1
    assert sms.count("Está").non_gsm == ("á",)


def test_revocation_words_of_the_fcc_order_and_equivalents() -> None:
    for reply in (
        "STOP",
        "Stop.",
        "stop please",
        "QUIT",
        "End",
        "revoke",
        "Opt out",
        "opt-out",
        "CANCEL",
        "Unsubscribe",
        "No más",
        "no mas por favor",
        "停止",
        "退订",
        "Dừng",
        "중지",
        "Стоп",
        "توقف",
        "Arrêt",
        "stopp",
        "Please stop texting me",
        "UNSUBSCRIBE me now",
    ):
        assert optout.recognize(reply) is not None, reply
    whole = optout.recognize("Stop!")
    assert whole is not None and whole.whole_reply and whole.fcc_keyword and whole.keyword == "stop"
    inside = optout.recognize("please stop texting me")
    assert inside is not None and not inside.whole_reply
    for reply in ("Thank you, see you on Monday", "Yes", "I attended the visit", "Gracias", "谢谢"):
        assert optout.recognize(reply) is None, reply


def test_minimum_phi_blocks_a_planted_mbi_and_other_identifiers() -> None:
    allowed = ["Rosa", "Riverbend Care", "217-555-0199", "November 30, 2026"]
    clean = "Riverbend Care: Hi Rosa, this is a reminder of your visit on November 30, 2026. Call 217-555-0199."
    assert minimum_phi.check([clean], ROSA, allowed, channel="sms", diagnosis_allowed=False).passes
    planted = clean + " Your Medicare number is 3RT5YU7IK90."
    found = minimum_phi.check([planted], ROSA, allowed, channel="sms", diagnosis_allowed=False)
    assert not found.passes and {"MBI"} <= {b["type"] for b in found.blocked}
    assert "3RT5YU7IK90" not in str(found.to_dict())  # types and reasons only, never the identifier
    cjk = "Riverbend Care：Rosa您好，您的医保号是3RT5YU7IK90。"  # the literal check works without word boundaries
    assert "MBI" in {
        b["type"] for b in minimum_phi.check([cjk], ROSA, allowed, channel="sms", diagnosis_allowed=False).blocked
    }
    for extra, kind in (
        (" Dear Rosa Quintanilla.", "FULL_NAME"),
        (" Born 03/11/1946.", "DATE_OF_BIRTH"),
        (" We will visit 48 Orchard Row.", "ADDRESS"),
        (" About your diabetes.", "DIAGNOSIS"),
    ):
        result = minimum_phi.check([clean + extra], ROSA, allowed, channel="sms", diagnosis_allowed=False)
        assert kind in {b["type"] for b in result.blocked}, extra
    letter = minimum_phi.check(
        [clean + " About your diabetes."], ROSA, allowed, channel="letter", diagnosis_allowed=False
    )
    assert letter.passes  # the diagnosis rule is for text messages, read on a lock screen


def test_language_choice_from_the_record_with_visible_notes() -> None:
    assert choose_language(ROSA, None).code == "es" and not choose_language(ROSA, None).notes
    unknown = choose_language(ROSA.model_copy(update={"language": None}), None)
    assert unknown.code == "en" and "no preferred language" in unknown.notes[0]
    chinese = choose_language(ROSA.model_copy(update={"language": "zh"}), None)
    assert chinese.code == "zh-Hans" and "zh-Hant" in chinese.notes[0]
    assert choose_language(ROSA, "zh-TW").code == "zh-Hant"


def test_short_medication_names_are_prefixes_of_the_record() -> None:
    for display, short in (
        ("Apixaban 5 MG Oral Tablet", "Apixaban 5 MG"),
        ("Aspirin", "Aspirin"),
        ("insulin glargine 100 UNT/ML Injectable Solution", "insulin glargine 100 UNT/ML"),
    ):
        assert short_name(display) == short and display.startswith(short)


def test_a_bad_template_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "appointment_reminder"
    folder.mkdir()
    (folder / "xx.md").write_text(
        "---\npurpose: appointment_reminder\nlanguage: xx\nversion: 1\ndirection: ltr\n"
        "translated_by: me\nopt_out: Reply STOP\n---\nHi {first_name} {diagnosis}\n"
    )
    with pytest.raises(TemplateError) as error:
        load_template(tmp_path, "appointment_reminder", "xx")
    message = str(error.value)
    assert "xx.md" in message and "diagnosis" in message and "\n" not in message


def test_an_approved_draft_is_a_fhir_communication() -> None:
    template = load_template(TEMPLATES, "appointment_reminder", "ar")
    assert template is not None
    draft = {
        "draft_id": "od-test",
        "patient_id": "pt-rosa",
        "purpose": "appointment_reminder",
        "channel": "sms",
        "language": "ar",
        "direction": "rtl",
        "text": render(template.body, _values(template)),
        "translation_source": "template",
        "template": template.describe(),
        "template_version": 1,
        "reviewed_by": "cm",
        "reviewed_at": "2026-11-23T10:00:00+00:00",
    }
    resource = communication(draft, "Riverbend Care")
    assert resource["status"] == "preparation" and resource["payload"][0]["contentString"] == draft["text"]
    assert resource["category"][0]["coding"][0]["code"] == "reminder"


@pytest.mark.parametrize("code", ["ar", "zh-Hant", "hi", "ja", "ko", "ru", "vi"])
def test_letters_are_in_the_patient_script(code: str) -> None:
    template = load_template(TEMPLATES, "appointment_reminder", code)
    assert template is not None
    text = render(template.body, _values(template))
    pdf = render_pdf(text, code, "Riverbend Care", "217-555-0199", date(2026, 11, 23))
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
    }
    wanted = {
        "ar": "NotoNaskhArabic",
        "zh-Hant": "NotoSansCJK",
        "hi": "NotoSansDevanagari",
        "ja": "NotoSansCJK",
        "ko": "NotoSansCJK",
        "ru": "NotoSans",
        "vi": "NotoSans",
    }[code]
    assert any(wanted in font for font in fonts), fonts
    extracted = reader.pages[0].extract_text().replace("\x00", "")  # pypdf pads some CID text with NULs
    if code == "ar":  # the callback number reads left to right inside the right-to-left text, never 0199-555-217
        assert "0199-555-217" not in extracted and "217-555-0199" in extracted
    if code in ("zh-Hant", "ja", "ru", "vi"):  # unshaped scripts read back as written
        assert "".join(format_date(date(2026, 11, 30), code).split()) in "".join(extracted.split())


def test_eval_outreach_writes_the_report_without_a_machine(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app as cli

    out = tmp_path / "report.md"
    run = CliRunner().invoke(
        cli,
        ["eval", "outreach", "--machine", "none", "--out", str(out)],
        env={"CARETRAIL_DATA_DIR": str(tmp_path / "data")},
    )
    assert run.exit_code == 0, run.output
    report = out.read_text(encoding="utf-8")
    assert "| appointment_reminder | 3.7 | yes | 137 | GSM-7 | 1 |" in report  # the English source, measured
    assert "No machine backend was used" in report and "markup left anywhere: 0" in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and " G " in line or " U " in line]
    assert len([r for r in rows if r.split(" | ")[0].lstrip("| ") in PURPOSES]) == len(PURPOSES)
