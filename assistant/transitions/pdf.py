"""A checklist as a printable PDF, made with fpdf2.

Why fpdf2 and not WeasyPrint: fpdf2 is pure Python with no system libraries (WeasyPrint needs Pango, Cairo and
GDK-PixBuf from the operating system), so ``pip install`` is the whole installation on every machine an ACO runs
Caretrail on, and the output is the same everywhere. It uses the PDF standard fonts (Helvetica), which need no
font files; they cover Latin-1, so typographic punctuation is written in its ASCII form and any other character
becomes "?" with a line at the end saying how many (the JSON, Markdown and FHIR outputs keep every character).

Layout: a header (patient, discharge, status, as-of date), the table to work through (due, status, owner, item)
with a box to tick, then each item's evidence and sources, the medication changes, and the audit id of the read.
The document's creation date is the as-of date, so the same checklist gives the same file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from assistant.transitions.markdown import TITLES, source_line

_PLAIN = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...",
          "\u2192": "->", "\u2022": "*", "\u00a0": " ", "\u2264": "<=", "\u2265": ">="}  # fmt: skip


class _Text:
    """Latin-1 text for the standard fonts, counting what could not be shown."""

    def __init__(self) -> None:
        self.replaced = 0

    def __call__(self, value: Any) -> str:
        text = "" if value is None else str(value)
        for wide, plain in _PLAIN.items():
            text = text.replace(wide, plain)
        out = []
        for char in text:
            if ord(char) < 256:
                out.append(char)
            else:
                out.append("?")
                self.replaced += 1
        return "".join(out)


def render(result: dict[str, Any]) -> bytes:
    text = _Text()
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    day = date.fromisoformat(result.get("as_of") or date.today().isoformat())
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    title = TITLES.get(result.get("kind", "transition"), "Checklist")
    pdf.set_title(title)
    pdf.set_creator("Caretrail")
    pdf.add_page()
    width = pdf.epw

    def para(value: str, size: float = 9, style: str = "", height: float = 4.6) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(width, height, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    para(title, 15, "B", 7)
    header = [("Patient", result.get("patient_id")), ("Discharge", result.get("discharge_date")),
              ("Facility", result.get("facility")), ("Episode", result.get("episode_id")),
              ("Status", result.get("episode_status")), ("As of", result.get("as_of"))]  # fmt: skip
    para("   ".join(f"{name}: {value}" for name, value in header if value), 9)
    complexity = result.get("complexity")
    if complexity:
        para(f"Suggested TCM complexity: {complexity['level']} ({complexity['code']}). {complexity['explanation']}", 8)
    if result.get("missing"):
        para(f"Missing from the record: {', '.join(result['missing'])}", 8, "B")
    for note in result.get("notes") or []:
        para(f"Note: {note}", 8)
    pdf.ln(2)
    pdf.set_font("Helvetica", size=8)
    with pdf.table(col_widths=(6, 7, 19, 20, 26, 110), line_height=4.2, text_align="LEFT", first_row_as_headings=True,
                   padding=1) as table:  # fmt: skip
        head = table.row()
        for label in ("", "#", "Due", "Status", "Owner", "Item"):
            head.cell(label)
        for n, item in enumerate(result["items"], start=1):
            row = table.row()
            finished = item["status"] in ("done", "late", "waived", "not_applicable", "present")
            row.cell("[x]" if finished else "[ ]")
            row.cell(str(n))
            row.cell(text(item["due"] or "-"))
            row.cell(text(item["status"].replace("_", " ")))
            row.cell(text(item["owner_role"].replace("_", " ")))
            row.cell(text(item["text"] + ("" if item["required"] else " (optional)")))
    pdf.ln(3)
    para("Evidence and sources", 11, "B", 6)
    for n, item in enumerate(result["items"], start=1):
        para(f"{n}. {item['text']}", 8.5, "B", 4.4)
        for line in item["evidence"]:
            para(f"   - {line}", 7.5, "", 3.8)
        for m, citation in enumerate(item["citations"], start=1):
            para(f"   [{m}] {source_line(citation)}", 7, "", 3.6)
        pdf.ln(1)
    changes = result.get("medication_changes") or []
    if changes:
        para("Medication changes", 11, "B", 6)
        for change in changes:
            para(
                f"- {change['change']}: {change['medication']}"
                + (f" [high-risk: {change['high_risk_class']}]" if change["high_risk_class"] else "")
                + f" (before: {change['pre_admission'] or '-'}; at discharge: {change['discharge'] or '-'})",
                8,
            )
    pdf.ln(2)
    para(f"Audit id of this read: {result.get('audit_id')}", 8)
    if text.replaced:
        para(f"{text.replaced} character(s) outside the PDF standard font were printed as '?'; the JSON, Markdown and "
             "FHIR outputs keep them.", 7, "I")  # fmt: skip
    return bytes(pdf.output())
