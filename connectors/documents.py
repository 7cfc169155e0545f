"""Free-text clinical documents: PDF, DOCX, HTML, Markdown and plain-text notes.

Why a separate connector: faxed discharge summaries, scanned-then-OCRed referrals and care-manager
notes arrive as loose files, not as FHIR or C-CDA. They carry no structured patient header, so the
patient must be named explicitly, in one of three ways (checked in this order):

1. a sidecar file ``<file>.meta.json`` (or ``<stem>.meta.json``) next to the document:
   ``{"patient": "mbi|1EG4TE5MK73", "title": "Discharge summary", "date": "2026-11-02", "type": "discharge_summary"}``;
2. for .md/.txt/.html, a YAML front-matter block at the very top (``---`` ... ``---``) with the same keys;
3. for .md/.txt/.html, a first line ``Patient: <identifier>``.

The identifier is a patient key (``mbi|...``, ``mrn|<assigner>|<value>``, ``fhir|<id>``); a bare
value shaped like an MBI is read as ``mbi|<value>``.

Offsets (``Provenance.start``/``end``) always satisfy ``source_text[start:end] == section.text``, where
``source_text`` is:

- .txt/.md: the decoded file text itself (UTF-8, BOM removed);
- .html: the text extracted by :func:`html_to_text` from the decoded file (front matter removed);
- .docx: :func:`docx_to_text`, paragraphs and table rows in body order joined by newlines;
- .pdf: the text pypdf extracts for the page named in the locator (``page 3``); each page is cut
  into sections on its own.

Sections are cut at headings: Markdown ``#`` headings, HTML ``h1``-``h6``, DOCX "Heading" styles, and
label lines such as ``Hospital Course:`` (see :func:`split_sections`).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from assistant.records.model import DocumentSection, ParsedDocument, Provenance
from connectors.errors import ParseError
from connectors.text import decode_text, looks_binary, sha256_bytes

FORMAT = "document"

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}

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


def docx_to_text(data: bytes) -> tuple[str, list[tuple[int, str]]]:
    """Paragraphs and table rows in body order, one per line; "Heading N"/"Title" styles are boundaries."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    length = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if not cells or cells[-1] != cell.text:  # merged cells repeat their text
                        cells.append(cell.text)
                line = " | ".join(cells)
                lines.append(line)
                length += len(line) + 1
            continue
        style = (block.style.name if block.style is not None else "") or ""
        if (style.startswith("Heading") or style == "Title") and block.text.strip():
            headings.append((length, block.text.strip()))
        lines.append(block.text)
        length += len(block.text) + 1
    return "\n".join(lines), headings


def pdf_pages(path: Path | str, data: bytes) -> list[str]:
    """Text of each page as pypdf extracts it; the page list is what PDF offsets refer to."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(str(path), f"unreadable PDF ({exc})", "byte 0") from None


# ------------------------------------------------------------------------------ patient and metadata


@dataclass
class Meta:
    patient: str | None = None
    title: str | None = None
    date: datetime | None = None
    type: str | None = None


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


def _parse_date(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
    except ValueError:
        return None


def _meta_from_mapping(path: Path | str, values: object, where: str) -> Meta:
    if not isinstance(values, dict):
        raise ParseError(str(path), "metadata must be a mapping with a 'patient' key", where)
    patient = values.get("patient")
    return Meta(
        patient=normalise_patient_key(path, str(patient), where) if patient else None,
        title=str(values["title"]) if values.get("title") else None,
        date=_parse_date(values.get("date")),
        type=str(values["type"]) if values.get("type") else None,
    )


def _sidecar(path: Path) -> Meta | None:
    for candidate in (path.with_name(path.name + ".meta.json"), path.with_name(path.stem + ".meta.json")):
        if candidate.is_file():
            raw = candidate.read_bytes()
            try:
                values = json.loads(decode_text(candidate, raw))
            except json.JSONDecodeError as exc:
                raise ParseError(
                    str(candidate), f"invalid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}"
                ) from None
            return _meta_from_mapping(candidate, values, "sidecar")
    return None


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<body>.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_PATIENT_LINE = re.compile(r"\A\s*Patient[ \t]*:[ \t]*(?P<value>[^\r\n]+?)[ \t]*(?:\r?\n|\Z)", re.I)


def _inline_meta(path: Path, text: str) -> tuple[Meta, int]:
    """Front matter or a ``Patient:`` first line; returns the meta and where the body starts."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if match:
        try:
            values = yaml.safe_load(match.group("body")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 2}, column {mark.column + 1}" if mark else "front matter"
            raise ParseError(str(path), f"invalid YAML front matter: {getattr(exc, 'problem', exc)}", where) from None
        return _meta_from_mapping(path, values, "front matter"), match.end()
    match = _PATIENT_LINE.match(text)
    if match:
        return Meta(patient=normalise_patient_key(path, match.group("value"), "line 1")), match.end()
    return Meta(), 0


# ------------------------------------------------------------------------------------------- contract


def sniff(path: Path, head: bytes) -> bool:
    name = path.name.lower()
    if name.endswith(".meta.json"):
        return False
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return head.startswith(b"%PDF")
    if suffix == ".docx":
        return head.startswith(b"PK")
    return suffix in TEXT_SUFFIXES | HTML_SUFFIXES


def _missing_patient(path: Path) -> ParseError:
    return ParseError(
        str(path),
        f'no patient identifier; add {path.name}.meta.json with {{"patient": "mbi|..."}}, '
        "YAML front matter with 'patient:', or a first line 'Patient: <identifier>'",
        "line 1",
    )


def parse(path: Path, data: bytes) -> ParsedDocument:
    path = Path(path)
    suffix = path.suffix.lower()
    digest = sha256_bytes(data)
    meta = _sidecar(path) or Meta()
    document_id = f"document/{digest[:16]}"

    # Each unit is (locator, source text, body start, explicit heading boundaries or None).
    units: list[tuple[str, str, int, list[tuple[int, str]] | None]] = []
    fallback_title = path.stem
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise ParseError(str(path), "not a PDF (missing %PDF header)", "byte 0")
        for number, page_text in enumerate(pdf_pages(path, data), start=1):
            units.append((f"page {number}", page_text, 0, None))
    elif suffix == ".docx":
        if not data.startswith(b"PK"):
            raise ParseError(str(path), "not a DOCX (not a zip container)", "byte 0")
        try:
            text, headings = docx_to_text(data)
        except Exception as exc:  # python-docx raises several unrelated types for corrupt packages
            raise ParseError(str(path), f"unreadable DOCX ({type(exc).__name__}: {exc})", "byte 0") from None
        units.append(("docx body", text, 0, headings or None))
    elif suffix in HTML_SUFFIXES:
        raw = decode_text(path, data)
        inline, body_start = _inline_meta(path, raw)
        try:
            text, headings, page_title = html_to_text(raw[body_start:])
        except Exception as exc:  # lxml raises ParserError / XMLSyntaxError on hopeless input
            raise ParseError(str(path), f"unreadable HTML ({exc})", "byte 0") from None
        if not inline.patient:
            inline, start = _inline_meta(path, text)
            headings = [h for h in headings if h[0] >= start]
        else:
            start = 0
        meta = _merge(meta, inline)
        fallback_title = page_title or fallback_title
        units.append(("html text", text, start, headings or None))
    elif suffix in TEXT_SUFFIXES:
        text = decode_text(path, data)
        inline, start = _inline_meta(path, text)
        meta = _merge(meta, inline)
        units.append(("text", text, start, None))
    else:
        if looks_binary(data):
            raise ParseError(str(path), "binary content (NUL bytes), not a text document", "byte 0")
        raise ParseError(str(path), f"unsupported document type {suffix or '(no extension)'}")

    if not meta.patient:
        raise _missing_patient(path)
    title = meta.title or fallback_title
    doc_type = meta.type or document_type_from_title(title)
    sections: list[DocumentSection] = []
    warnings: list[str] = []
    for locator, text, start, boundaries in units:
        for span in split_sections(text, title, start, boundaries):
            sections.append(
                DocumentSection(
                    id=f"{document_id}:{len(sections)}",
                    patient_key=meta.patient,
                    document_id=document_id,
                    document_title=title,
                    document_type=doc_type,
                    document_date=meta.date,
                    title=span.title,
                    loinc=section_loinc(span.title),
                    text=text[span.start : span.end],
                    provenance=Provenance(
                        source_path=str(path),
                        source_sha256=digest,
                        format=FORMAT,
                        locator=locator,
                        start=span.start,
                        end=span.end,
                    ),
                )
            )
    if not sections:
        warnings.append(f"{path}: no text found (a scanned PDF needs OCR first)")
    return ParsedDocument(
        source_path=str(path), source_sha256=digest, format=FORMAT, records=sections, warnings=warnings
    )


def _merge(first: Meta, second: Meta) -> Meta:
    """Sidecar wins; inline metadata fills the gaps."""
    return Meta(
        patient=first.patient or second.patient,
        title=first.title or second.title,
        date=first.date or second.date,
        type=first.type or second.type,
    )
