"""Free-text helpers shared by the document and FHIR connectors: patient keys named in notes, section splitting at
headings and labels, the LOINC of a section title, the document type from its title, and HTML to text with the
heading positions kept.

Why a module of its own: connectors read their formats independently and import only the records model and
shared helpers such as these, never each other. The FHIR connector cuts DocumentReference attachments into
sections exactly as the document connector cuts loose notes, so both use these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from connectors.errors import ParseError

MBI_RE = re.compile(
    r"^[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]"
    r"[AC-HJKMNP-RT-Y]{2}[0-9]{2}$"
)

# Section labels recognised even when text follows on the same line ("Chief Complaint: cough").
# Values are LOINC section codes where one is well established (C-CDA section codes).
KNOWN_SECTIONS: dict[str, str | None] = {
    "chief complaint": "10154-3",
    "reason for visit": "29299-5",
    "reason for admission": "46241-6",
    "history of present illness": "10164-2",
    "hpi": "10164-2",
    "past medical history": "11348-0",
    "social history": "29762-2",
    "family history": "10157-6",
    "allergies": "48765-2",
    "medications": "10160-0",
    "current medications": "10160-0",
    "review of systems": "10187-3",
    "physical exam": "29545-1",
    "vital signs": "8716-3",
    "results": "30954-2",
    "assessment": "51848-0",
    "assessment and plan": "51847-2",
    "plan": "18776-5",
    "plan of care": "18776-5",
    "hospital course": "8648-8",
    "discharge diagnoses": "11535-2",
    "discharge diagnosis": "11535-2",
    "admission diagnosis": "46241-6",
    "discharge medications": "10183-2",
    "discharge instructions": "8653-8",
    "patient education": "8653-8",
    "pending results": "30954-2",
    "follow-up": "18776-5",
    "follow up": "18776-5",
    "home health/dme": None,
    "red flags": None,
    "procedures": "47519-4",
    "immunizations": "11369-6",
    "problems": "11450-4",
    "problem list": "11450-4",
    "reason for referral": "42349-1",
    "goals": "61146-7",
    "interventions": None,
    "barriers": None,
    "summary": None,
}

_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<title>[^\n]+?)[ \t#]*$")
# A label alone on its line: "Hospital Course:" / "DISCHARGE MEDICATIONS:".
_LABEL_ALONE = re.compile(r"^[ \t]*(?P<title>[A-Z][A-Za-z0-9/&,'()\- ]{1,60}?)[ \t]*:[ \t]*$")
# A label followed by text: "Chief Complaint: cough" (only for known labels or ALL-CAPS labels).
_LABEL_INLINE = re.compile(r"^[ \t]*(?P<title>[A-Z][A-Za-z/&'\- ]{1,40}?)[ \t]*:[ \t]+\S")


@dataclass(frozen=True)
class Span:
    """A section found in a text: ``text[start:end]`` is the section, heading line included."""

    title: str
    start: int
    end: int


def _heading_title(line: str) -> str | None:
    match = _MD_HEADING.match(line)
    if match:
        return match.group("title").strip()
    match = _LABEL_ALONE.match(line)
    if match and len(match.group("title").split()) <= 6:
        return match.group("title").strip()
    match = _LABEL_INLINE.match(line)
    if match:
        title = match.group("title").strip()
        if title.lower() in KNOWN_SECTIONS or (title.isupper() and len(title) >= 4):
            return title
    return None


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sections(
    text: str, default_title: str, start: int = 0, boundaries: list[tuple[int, str]] | None = None
) -> list[Span]:
    """Cut ``text[start:]`` into sections at heading lines (or at given ``boundaries``).

    Why the heading stays inside the section text: a retrieved chunk that says "Discharge
    Medications: furosemide 40 mg NEW" is self-explanatory; one that lost its heading is not.
    Whitespace is trimmed from both ends so offsets point at visible text only.
    """
    cuts: list[tuple[int, str]] = list(boundaries or [])
    if boundaries is None:
        position = start
        for line in text[start:].splitlines(keepends=True):
            title = _heading_title(line.rstrip("\r\n"))
            if title:
                cuts.append((position, title))
            position += len(line)
    cuts = sorted(c for c in cuts if c[0] >= start)
    if not cuts or cuts[0][0] > start:
        cuts.insert(0, (start, default_title))
    spans: list[Span] = []
    for index, (cut, title) in enumerate(cuts):
        end = cuts[index + 1][0] if index + 1 < len(cuts) else len(text)
        s, e = _trimmed(text, cut, end)
        if e > s:
            spans.append(Span(title=title, start=s, end=e))
    return spans


def section_loinc(title: str) -> str | None:
    return KNOWN_SECTIONS.get(title.strip().rstrip(":").lower())


def document_type_from_title(title: str | None) -> str | None:
    """Guess the document kind from its title so engines can find discharge summaries by type."""
    if not title:
        return None
    lowered = title.lower()
    for needle, kind in (
        ("discharge", "discharge_summary"),
        ("transfer", "transfer_summary"),
        ("referral", "referral"),
        ("consult", "consult_note"),
        ("history and physical", "history_and_physical"),
        ("care manag", "care_manager_note"),
        ("progress", "progress_note"),
    ):
        if needle in lowered:
            return kind
    return None


# ----------------------------------------------------------------------------------- text extraction


_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "dt", "dd", "dl", "hr", "title",
}  # fmt: skip
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def html_to_text(markup: str) -> tuple[str, list[tuple[int, str]], str | None]:
    """Strip HTML to text with one line per block; return (text, heading offsets, <title>).

    Why hand-walk the tree instead of ``text_content()``: block elements must become line breaks
    (or "Hospital Course" and its first sentence run together) and ``h1``-``h6`` positions are the
    section boundaries.
    """
    import lxml.html

    if not markup.strip():
        return "", [], None
    root = lxml.html.document_fromstring(markup)
    for bad in root.xpath("//script|//style|//head/title|//noscript|//template"):
        bad.drop_tree()
    title_nodes = lxml.html.document_fromstring(markup).xpath("//title")
    page_title = title_nodes[0].text_content().strip() if title_nodes else None
    body = root.find("body")
    top = body if body is not None else root

    parts: list[str] = []
    length = 0
    headings: list[tuple[int, str]] = []

    def emit(chunk: str) -> None:
        nonlocal length
        if chunk:
            parts.append(chunk)
            length += len(chunk)

    def newline() -> None:
        if parts and not parts[-1].endswith("\n"):
            emit("\n")

    def walk(node: object) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""  # type: ignore[attr-defined]
        tag = tag.lower()
        if tag in _BLOCK_TAGS:
            newline()
        if tag in _HEADING_TAGS:
            headings.append((length, " ".join(node.text_content().split())))  # type: ignore[attr-defined]
        if tag and node.text:  # type: ignore[attr-defined]
            emit(re.sub(r"\s+", " ", node.text) if tag != "pre" else node.text)  # type: ignore[attr-defined]
        for child in node:  # type: ignore[attr-defined]
            walk(child)
            if child.tail:
                emit(re.sub(r"\s+", " ", child.tail))
        if tag in _BLOCK_TAGS:
            newline()

    walk(top)
    raw = "".join(parts)
    # Tidy: strip trailing spaces on lines and leading spaces after newlines, keeping heading offsets.
    text_chars: list[str] = []
    mapping: dict[int, int] = {}
    at_line_start = True
    for index, char in enumerate(raw):
        mapping[index] = len(text_chars)
        if char == "\n" and not text_chars:
            continue  # no leading blank lines
        if char == "\n":
            while text_chars and text_chars[-1] == " ":
                text_chars.pop()
            text_chars.append("\n")
            at_line_start = True
        elif char == " " and at_line_start:
            continue
        else:
            text_chars.append(char)
            at_line_start = False
    mapping[len(raw)] = len(text_chars)
    text = "".join(text_chars)
    return text, [(mapping.get(pos, len(text)), title) for pos, title in headings], page_title


def normalise_patient_key(path: Path | str, raw: str, where: str) -> str:
    """Turn ``mbi|1eg4-te5-mk73`` or a bare MBI into a patient key, or explain what is wrong."""
    value = raw.strip()
    if "|" in value:
        system, _, rest = value.partition("|")
        system = system.strip().lower()
        rest = rest.strip()
        if not system or not rest:
            raise ParseError(str(path), f"patient identifier {raw!r} must look like system|value", where)
        if system == "mbi":
            rest = rest.replace("-", "").upper()
        return f"{system}|{rest}"
    compact = value.replace("-", "").upper()
    if MBI_RE.match(compact):
        return f"mbi|{compact}"
    raise ParseError(
        str(path),
        f"patient identifier {raw!r} is not a key like mbi|1EG4TE5MK73 or mrn|HOSP-A|12345",
        where,
    )
