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
from connectors.note_text import (
    document_type_from_title,
    html_to_text,
    normalise_patient_key,
    section_loinc,
    split_sections,
)
from connectors.text import decode_text, looks_binary, sha256_bytes

FORMAT = "document"

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}

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
