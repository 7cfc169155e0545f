"""Section-aware chunking with exact offsets into the source text.

Why: a citation must open the exact place a sentence came from, so every chunk keeps the character
offsets of its text in the *whole source file* (front matter included) and a sha256 of that text.
Sections come from Markdown headings; long sections are split by langchain's recursive splitter,
whose ``add_start_index`` gives each piece's offset inside the section.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from langchain_text_splitters import RecursiveCharacterTextSplitter

MAX_CHUNK_CHARS = 1200
CHUNK_OVERLAP = 0
SKIPPED_SECTIONS = {"sources", "references"}
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_text(title: str, section: str, text: str) -> str:
    """What the embedder sees: title and section give short chunks their context. A function, not only the
    property below, so that a stored chunk row (benchmarks, tests) rebuilds exactly the text that was embedded."""
    return f"{title}. {section}.\n{text}"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    text: str
    sha256: str
    source_uri: str
    patient_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def embed_text(self) -> str:
        return embed_text(self.title, self.section, self.text)


@dataclass(frozen=True)
class KnowledgeDocument:
    doc_id: str
    title: str
    source_urls: list[str]
    effective_date: str | None
    version: str
    topics: list[str]
    text: str  # the whole file, decoded
    body_offset: int
    source_uri: str
    sha256: str


class KnowledgeFormatError(ValueError):
    pass


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def load_knowledge_document(path: Path, source_uri: str) -> KnowledgeDocument:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise KnowledgeFormatError(f"{path}: missing YAML front matter (--- ... ---) at line 1")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeFormatError(f"{path}: front matter is not valid YAML: {exc}") from None
    missing = [key for key in ("id", "title", "source_urls", "version") if key not in meta]
    if missing:
        raise KnowledgeFormatError(f"{path}: front matter lacks {', '.join(missing)}")
    return KnowledgeDocument(
        doc_id=str(meta["id"]),
        title=str(meta["title"]),
        source_urls=[str(url) for url in meta.get("source_urls") or []],
        effective_date=_as_str(meta.get("effective_date")),
        version=str(meta["version"]),
        topics=[str(topic) for topic in meta.get("topics") or []],
        text=text,
        body_offset=match.end(),
        source_uri=source_uri,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _sections(text: str, body_offset: int) -> list[tuple[str, int, int]]:
    """(section path, start, end) of each heading's body, headings excluded."""
    headings = [m for m in _HEADING.finditer(text) if m.start() >= body_offset]
    sections: list[tuple[str, int, int]] = []
    stack: list[tuple[int, str]] = []
    if not headings or headings[0].start() > body_offset:
        first_end = headings[0].start() if headings else len(text)
        sections.append(("", body_offset, first_end))
    for index, match in enumerate(headings):
        level = len(match.group(1))
        stack = [(lvl, name) for lvl, name in stack if lvl < level]
        stack.append((level, match.group(2).strip()))
        start = match.end() + 1 if match.end() < len(text) else match.end()
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        path = " > ".join(name for lvl, name in stack if lvl > 1) or stack[-1][1]
        sections.append((path, start, end))
    return sections


_SPLITTER = RecursiveCharacterTextSplitter(
    chunk_size=MAX_CHUNK_CHARS,
    chunk_overlap=CHUNK_OVERLAP,
    separators=["\n\n", "\n- ", "\n", ". ", " "],
    add_start_index=True,
    strip_whitespace=True,
)


def split_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into pieces of at most MAX_CHUNK_CHARS, returned as absolute spans."""
    body = text[start:end]
    stripped = body.strip()
    if not stripped:
        return []
    lead = len(body) - len(body.lstrip())
    if len(stripped) <= MAX_CHUNK_CHARS:
        return [(start + lead, start + lead + len(stripped))]
    spans = []
    for piece in _SPLITTER.create_documents([body]):
        piece_start = start + int(piece.metadata["start_index"])
        spans.append((piece_start, piece_start + len(piece.page_content)))
    return spans


def make_chunk(
    doc_id: str,
    title: str,
    section: str,
    text: str,
    start: int,
    end: int,
    source_uri: str,
    patient_id: str | None = None,
    meta: dict[str, Any] | None = None,
    id_prefix: str | None = None,
) -> Chunk:
    """Chunk ids are content-addressed (prefix, offset, text hash), so re-running an ingest rewrites the
    same ids instead of adding new ones."""
    piece = text[start:end]
    digest = sha256_text(piece)
    return Chunk(
        chunk_id=f"{id_prefix or doc_id}:{start}:{digest[:16]}",
        doc_id=doc_id,
        title=title,
        section=section,
        start=start,
        end=end,
        text=piece,
        sha256=digest,
        source_uri=source_uri,
        patient_id=patient_id,
        meta=dict(meta or {}),
    )


def chunk_knowledge_document(document: KnowledgeDocument) -> list[Chunk]:
    chunks: list[Chunk] = []
    meta = {"topics": document.topics, "source_urls": document.source_urls, "version": document.version}
    for section, start, end in _sections(document.text, document.body_offset):
        leaf = section.split(" > ")[-1].strip().lower()
        if leaf in SKIPPED_SECTIONS:
            continue
        for piece_start, piece_end in split_span(document.text, start, end):
            chunks.append(
                make_chunk(
                    document.doc_id,
                    document.title,
                    section or document.title,
                    document.text,
                    piece_start,
                    piece_end,
                    document.source_uri,
                    meta=meta,
                )
            )
    return chunks
