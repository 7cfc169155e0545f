"""Ingest the protocol knowledge base: Markdown files with YAML front matter, one document each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.index.chunking import (
    KnowledgeDocument,
    KnowledgeFormatError,
    chunk_knowledge_document,
    load_knowledge_document,
)
from assistant.index.embedder import Embedder
from assistant.index.tables import KnowledgeDocumentRow
from assistant.index.vectors import KNOWLEDGE, VectorStore
from assistant.index.writer import embed_chunks, replace_rows, sentence_vector_blobs, stage_vectors
from assistant.settings import REPO_ROOT


@dataclass(frozen=True)
class KnowledgeDeps:
    """What indexing the knowledge base needs: SQL (ledger and chunk rows), Chroma, the embedder, and the folder
    read when no paths are given. Passed in, so this layer never reaches for the application context."""

    engine: Engine
    vectors: VectorStore
    embedder: Embedder
    knowledge_dir: Path


@dataclass
class KnowledgeReport:
    files: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    chunks: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


def is_knowledge_file(path: Path) -> bool:
    """A Markdown file that starts with YAML front matter is a protocol document; README.md is not."""
    if path.suffix.lower() != ".md" or path.name.lower() == "readme.md":
        return False
    with path.open("rb") as handle:
        return handle.read(4).startswith(b"---")


def source_uri_for(path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return resolved.as_uri()


def ingest_knowledge_file(deps: KnowledgeDeps, path: Path, report: KnowledgeReport) -> None:
    report.files += 1
    try:
        document = load_knowledge_document(path, source_uri_for(path))
    except (KnowledgeFormatError, UnicodeDecodeError) as exc:
        report.errors.append({"path": str(path), "error": str(exc)})
        return
    with Session(deps.engine) as session:
        existing = session.get(KnowledgeDocumentRow, document.doc_id)
        if existing is not None and existing.sha256 == document.sha256:
            report.unchanged += 1
            return
    _write(deps, document, replaced=existing is not None, report=report)


def _write(deps: KnowledgeDeps, document: KnowledgeDocument, replaced: bool, report: KnowledgeReport) -> None:
    chunks = chunk_knowledge_document(document)
    embeddings = embed_chunks(deps.embedder, chunks)
    blobs = sentence_vector_blobs(deps.embedder, chunks)
    stage_vectors(deps.vectors, KNOWLEDGE, chunks, embeddings)
    with Session(deps.engine) as session, session.begin():
        stale = replace_rows(session, KNOWLEDGE, document.doc_id, chunks, blobs)
        session.merge(
            KnowledgeDocumentRow(
                doc_id=document.doc_id,
                sha256=document.sha256,
                title=document.title,
                version=document.version,
                source_uri=document.source_uri,
                source_urls=document.source_urls,
                chunk_count=len(chunks),
                ingested_at=datetime.now(UTC),
            )
        )
    deps.vectors.delete(KNOWLEDGE, stale)
    report.chunks += len(chunks)
    if replaced:
        report.replaced += 1
    else:
        report.added += 1


def ingest_knowledge(deps: KnowledgeDeps, paths: list[Path] | None = None) -> KnowledgeReport:
    """Index the Markdown protocol files under ``paths`` (default: the knowledge folder); unchanged files are
    skipped by content hash."""
    report = KnowledgeReport()
    roots = paths or [deps.knowledge_dir]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(sorted(p for p in root.rglob("*.md") if is_knowledge_file(p)))
        elif is_knowledge_file(root):
            files.append(root)
    for path in files:
        ingest_knowledge_file(deps, path, report)
    return report
