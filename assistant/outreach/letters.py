"""Outreach letters as PDF, in the patient's script, with fpdf2.

Fonts are Debian's Noto fonts (``make install`` installs fonts-noto-core and fonts-noto-cjk), found by path: Noto
Sans for Latin, Cyrillic and Vietnamese, Noto Naskh Arabic, Noto Sans Devanagari, and the Noto Sans CJK collection
(the face for simplified or traditional Chinese, Japanese or Korean picked by its number in the collection). Arabic
and Devanagari need shaping (joined letters, conjuncts, right-to-left order): fpdf2 shapes with HarfBuzz
(``uharfbuzz``). A missing font file is one line naming the file and the package that has it.

The letter carries the message and the organization's name and callback number; no address block (the mail house
adds it from the gateway payload), so the page itself holds no more PHI than the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF

from assistant.errors import CaretrailError
from assistant.outreach.dates import format_date
from assistant.outreach.languages import language

RLM, LRM = "\u200f", "\u200e"
NUMBER_RUN = re.compile(r"\d[\d\-./:]*\d")
NOTO_CORE = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")


@dataclass(frozen=True)
class Face:
    path: Path
    package: str
    collection_index: int = 0


LATIN = Face(NOTO_CORE / "NotoSans-Regular.ttf", "fonts-noto-core")
FACES = {
    "latin": LATIN,
    "arabic": Face(NOTO_CORE / "NotoNaskhArabic-Regular.ttf", "fonts-noto-core"),
    "devanagari": Face(NOTO_CORE / "NotoSansDevanagari-Regular.ttf", "fonts-noto-core"),
    "cjk-jp": Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", 0),
    "cjk-kr": Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", 1),
    "cjk-sc": Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", 2),
    "cjk-tc": Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", 3),
}
SHAPING = {"arabic": ("arab", "ara"), "devanagari": ("deva", "hin")}


class MissingFont(CaretrailError):
    status_code = 503
    exit_code = 1


def _font(face: Face) -> Face:
    if not face.path.is_file():
        raise MissingFont(
            f"{face.path}: font missing; install Debian's {face.package} (make install does) to render "
            "letters in this script"
        )
    return face


def render_pdf(text: str, language_code: str, org_name: str, callback_number: str, day: date) -> bytes:
    lang = language(language_code)
    face = _font(FACES.get(lang.script, LATIN))
    latin = _font(LATIN)
    pdf = FPDF(format="Letter")
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.add_font("body", fname=str(face.path), collection_font_number=face.collection_index)
    if face is not latin:
        pdf.add_font("latin", fname=str(latin.path))
        pdf.set_fallback_fonts(["latin"])  # a Latin name, digits or "STOP" inside Arabic or Devanagari text
    rtl = lang.direction == "rtl"
    if lang.script in SHAPING:
        script, language_tag = SHAPING[lang.script]
        pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr", script=script, language=language_tag)
    align = "R" if rtl else "L"
    pdf.set_font("body", size=16)
    pdf.multi_cell(0, 9, org_name, align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=11)
    pdf.multi_cell(
        0, 6, f"{callback_number}    {format_date(day, language_code)}", align=align, new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(10)
    pdf.set_font("body", size=13)
    body = text.replace(RLM, "")
    if rtl:  # fpdf2's bidi splits "217-555-0199" at the hyphens inside Arabic text and shows 0199-555-217
        body = NUMBER_RUN.sub(lambda m: f"{LRM}{m.group(0)}{LRM}", body)
    pdf.multi_cell(0, 8, body, align=align, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
