"""Ingest files: one transaction per document, idempotent by content hash, resumable after a crash.

For each file: refuse what is too large, hash the bytes (the hash is the document id), skip it if
that document is already in the ledger, detect the format, parse, embed the narrative chunks, then in
one SQL transaction store records + ledger row + chunk rows while the vectors are staged in Chroma.
Only the committed SQL state is visible to retrieval, so a crash at any point (kill -9 included)
leaves each document either fully present or absent, and a re-run completes exactly what was missing.
A bad file is reported in one line and never stops the rest.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from assistant.index.chunking import Chunk
from assistant.index.embedder import Embedder
from assistant.index.knowledge import KnowledgeDeps, KnowledgeReport, ingest_knowledge_file, is_knowledge_file
from assistant.index.vectors import PATIENT, VectorStore
from assistant.index.writer import (
    RecentVectors,
    append_rows,
    delete_rows,
    embed_chunks,
    replace_rows,
    sentence_vector_blobs,
    stage_vectors,
)
from assistant.ingest.chunks import document_sections, section_chunks
from assistant.records.model import DocumentSection, ParsedDocument
from assistant.records.store import DocumentWriter, PatientStore
from assistant.records.tables import DocumentTable
from connectors import registry
from connectors.errors import ParseError
from connectors.text import sha256_file

SIDE_CAR_SUFFIXES = (".meta.json",)
# Bookkeeping that sits beside data files but is not a patient record: licence and readme files (any case, plain
# or Markdown), demo manifests, and log.ndjson, the SMART bulk-data-client's export log written beside the NDJSON
# files it downloads from BCDA.
BOOKKEEPING_STEMS = {"license", "licence", "copying", "notice", "readme", "changelog"}
BOOKKEEPING_SUFFIXES = {"", ".md", ".txt", ".rst"}
BOOKKEEPING_NAMES = {"manifest.md", "manifest.json", "log.ndjson"}


@dataclass(frozen=True)
class IngestDeps:
    """What ingest needs, passed in rather than read from the application context: the record store (records,
    MPI, ledger), Chroma and the embedder for patient chunks, the knowledge indexer for protocol files met among
    the paths, and the size and batch limits from the settings."""

    patients: PatientStore
    vectors: VectorStore
    embedder: Embedder
    knowledge: KnowledgeDeps
    max_file_bytes: int
    max_stream_file_bytes: int
    batch_documents: int
    batch_chunks: int


def is_bookkeeping(path: Path) -> bool:
    lower = Path(path.name.lower())
    return lower.name in BOOKKEEPING_NAMES or (lower.stem in BOOKKEEPING_STEMS and lower.suffix in BOOKKEEPING_SUFFIXES)


@dataclass
class IngestSummary:
    files: int = 0
    documents: int = 0
    patients: int = 0
    records: int = 0
    chunks: int = 0
    skipped_unchanged: int = 0
    knowledge_documents: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    # The store patients whose records this run wrote: what engines that keep derived state (transition episodes,
    # stored guidance) must recompute. Not part of the printed summary.
    patient_ids: set[str] = field(default_factory=set)

    def as_dict(self) -> dict:
        summary = asdict(self)
        summary.pop("patient_ids")
        return summary


def iter_files(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths in a stable order (the same order on every run)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return [p for p in found if not p.name.endswith(SIDE_CAR_SUFFIXES) and not is_bookkeeping(p)]


_OTHER_VERSIONS = select(DocumentTable.document_id).where(
    DocumentTable.source_path == bindparam("source_path"), DocumentTable.document_id != bindparam("document_id")
)  # asked for every file: built once


def drop_previous_versions(deps: IngestDeps, session: Session, source_path: str, document_id: str) -> list[str]:
    """Forget earlier contents of the same file (inside the caller's transaction); returns their chunk ids."""
    params = {"source_path": source_path, "document_id": document_id}
    stale: list[str] = []
    for old_id in list(session.connection().scalars(_OTHER_VERSIONS, params)):
        stale += replace_rows(session, PATIENT, old_id, [])
        deps.patients.delete_document(session, old_id)
    return stale


@dataclass
class Prepared:
    """A parsed document waiting for its embeddings; chunks carry no patient id until the store assigns it."""

    parsed: ParsedDocument
    document_id: str
    sections: list[tuple[DocumentSection, list[Chunk]]]

    @property
    def chunks(self) -> list[Chunk]:
        return [chunk for _, chunks in self.sections for chunk in chunks]


def prepare(parsed: ParsedDocument, document_id: str) -> Prepared:
    sections = [(section, section_chunks(section, document_id, None)) for section in document_sections(parsed)]
    return Prepared(parsed, document_id, sections)


def assign_patients(prepared: Prepared, keys: dict[str, str]) -> list[Chunk]:
    """The document's chunks, each with the store patient id the MPI gave its section's patient key."""
    return [
        replace(piece, patient_id=keys.get(section.patient_key))
        for section, pieces in prepared.sections
        for piece in pieces
    ]


@dataclass
class Written:
    chunks: list[Chunk]
    stale: list[str]
    patient_ids: set[str]


def write_rows(deps: IngestDeps, session: Session, prepared: Prepared, in_ledger: bool,
               sentence_vectors: list[bytes]) -> Written:
    """One document's SQL rows inside the caller's transaction: a previous version of the same file is
    replaced, records go through the MPI, and chunks learn their patient ids. ``in_ledger=False`` (the
    caller asked the ledger) skips replacing rows of this very document, which then cannot exist."""
    parsed, document_id = prepared.parsed, prepared.document_id
    stale = drop_previous_versions(deps, session, parsed.source_path, document_id)
    keys = deps.patients.save_document(session, parsed, document_id, replacing=in_ledger)
    chunks = assign_patients(prepared, keys)
    if in_ledger:
        stale += replace_rows(session, PATIENT, document_id, chunks, sentence_vectors)
    else:
        append_rows(session, PATIENT, document_id, chunks, sentence_vectors)
    return Written(chunks, stale, set(keys.values()))


@dataclass
class Embedded:
    """A batch's vectors: one per chunk for Chroma, and each chunk's sentence vectors for its SQL row (so that
    answering a question about the patient embeds nothing but the question)."""

    chunks: np.ndarray
    sentences: list[bytes]

    def of(self, start: int, count: int) -> Embedded:
        return Embedded(self.chunks[start : start + count], self.sentences[start : start + count])


def embed_batch(deps: IngestDeps, chunks: list[Chunk], recent: RecentVectors | None) -> Embedded:
    return Embedded(embed_chunks(deps.embedder, chunks, recent),
                    sentence_vector_blobs(deps.embedder, chunks, recent, with_section=True))


def store_documents(deps: IngestDeps, batch: list[Prepared], embedded: Embedded) -> list[Written]:
    """Store a batch in one transaction with one Chroma write.

    Every document is still all-or-none: the whole batch commits or none of it does, and a re-run redoes
    exactly the documents whose ledger rows are missing. Vectors are staged before the commit under
    content-addressed ids, so a crash leaves only invisible vectors that the re-run overwrites.
    """
    written: list[Written] = []
    with deps.patients.transaction() as session:
        in_ledger = deps.patients.ledger_ids(session, [prepared.document_id for prepared in batch])
        position = 0
        for prepared in batch:
            own = embedded.of(position, len(prepared.chunks))
            position += len(prepared.chunks)
            written.append(write_rows(deps, session, prepared, prepared.document_id in in_ledger, own.sentences))
        stage_vectors(deps.vectors, PATIENT, [chunk for w in written for chunk in w.chunks], embedded.chunks)
    deps.vectors.delete(PATIENT, [chunk_id for w in written for chunk_id in w.stale])
    return written


@dataclass
class Streamed:
    """A document its connector reads in parts (``reads_in_parts``/``parse_parts``: CCLF, NDJSON); it is written
    on its own, part by part."""

    path: Path
    connector: ModuleType
    document_id: str


# A connector bug or a shape it did not foresee: still one line naming the file, and the rest goes on.
CONNECTOR_SURPRISES = (RecursionError, MemoryError, ValueError, KeyError, TypeError, IndexError)


def _could_not_read(path: Path, exc: BaseException) -> str:
    return f"{path}: could not read ({type(exc).__name__}: {exc})"


def _too_large(path: Path, size: int, limit: int, setting: str) -> dict[str, str]:
    return {"path": str(path), "error": f"{path}: file is {size} bytes, over the {limit}-byte limit ({setting})"}


def read_file(deps: IngestDeps, path: Path, summary: IngestSummary, seen: set[str]) -> Prepared | Streamed | None:
    """Check, hash and parse one file. Knowledge files are ingested on the spot; patient documents come back
    prepared for a batched embedding (or, for line-by-line formats, ready to stream); anything wrong is
    recorded in the summary as one line."""
    summary.files += 1
    size = path.stat().st_size
    if size == 0:
        summary.errors.append({"path": str(path), "error": f"{path}: file is empty (0 bytes)"})
        return None
    if size > deps.max_stream_file_bytes:
        summary.errors.append(_too_large(path, size, deps.max_stream_file_bytes, "CARETRAIL_MAX_STREAM_FILE_BYTES"))
        return None
    with path.open("rb") as handle:
        head = handle.read(8192)
    knowledge = is_knowledge_file(path)
    connector = None if knowledge else registry.detect(path, head)
    streams = connector is not None and hasattr(connector, "parse_parts") and connector.reads_in_parts(path)
    if size > deps.max_file_bytes and not streams:
        summary.errors.append(_too_large(path, size, deps.max_file_bytes, "CARETRAIL_MAX_FILE_BYTES"))
        return None
    if knowledge:
        report = KnowledgeReport()
        ingest_knowledge_file(deps.knowledge, path, report)
        summary.errors.extend(report.errors)
        summary.knowledge_documents += report.added + report.replaced
        summary.skipped_unchanged += report.unchanged
        summary.chunks += report.chunks
        return None
    if connector is None:
        reason = registry.unrecognized_reason(path, head)
        summary.errors.append({"path": str(path), "error": f"{path}: {reason}"})
        return None
    data = None if streams else path.read_bytes()
    document_id = sha256_file(path) if data is None else hashlib.sha256(data).hexdigest()
    if document_id in seen or deps.patients.is_ingested(document_id):
        summary.skipped_unchanged += 1
        return None
    seen.add(document_id)
    if data is None:
        return Streamed(path, connector, document_id)
    try:
        parsed = connector.parse(path, data)
    except ParseError as exc:
        summary.errors.append({"path": str(path), "error": str(exc)})
        seen.discard(document_id)
        return None
    except CONNECTOR_SURPRISES as exc:
        summary.errors.append({"path": str(path), "error": _could_not_read(path, exc)})
        seen.discard(document_id)
        return None
    return prepare(parsed, document_id)


def ingest_streamed(deps: IngestDeps, item: Streamed, summary: IngestSummary, recent: RecentVectors,
                    on_part: Callable[[Path, int], None] | None = None) -> bool:
    """Write a document part by part in one transaction: memory stays bounded by the part size, and the
    document still lands whole or not at all (a bad line at the end rolls back every part before it).
    Returns whether it landed."""
    path, document_id = str(item.path), item.document_id
    stale: set[str] = set()
    written: set[str] = set()
    try:
        with deps.patients.transaction() as session:
            writer: DocumentWriter | None = None
            for part in item.connector.parse_parts(item.path, document_id):
                if writer is None:
                    stale.update(drop_previous_versions(deps, session, path, document_id))
                    stale.update(delete_rows(session, document_id))
                    writer = DocumentWriter(session, document_id, path, part.format)
                keys = writer.add(part)
                chunks = assign_patients(prepare(part, document_id), keys)
                if chunks:
                    embedded = embed_batch(deps, chunks, recent)
                    stage_vectors(deps.vectors, PATIENT, chunks, embedded.chunks)
                    append_rows(session, PATIENT, document_id, chunks, embedded.sentences)
                    written.update(chunk.chunk_id for chunk in chunks)
                if on_part:
                    on_part(item.path, writer.record_count)  # a claim file can take minutes: say how far it got
            if writer is None:
                raise ParseError(path, "no records", "line 1")
            writer.finish()
    except ParseError as exc:
        summary.errors.append({"path": path, "error": f"{exc}; nothing of the file was kept"})
        return False
    except CONNECTOR_SURPRISES as exc:
        message = _could_not_read(item.path, exc)
        summary.errors.append({"path": path, "error": f"{message}; nothing of the file was kept"})
        return False
    deps.vectors.delete(PATIENT, sorted(stale - written))
    summary.documents += 1
    summary.patients += len(set(writer.keys.values()))
    summary.patient_ids |= set(writer.keys.values())
    summary.records += writer.record_count
    summary.chunks += len(written)
    return True


def flush(deps: IngestDeps, batch: list[Prepared], summary: IngestSummary, recent: RecentVectors | None = None) -> None:
    """Embed a batch of documents in one call (the embedder sorts by length, so little padding) and store it
    in one transaction. If the batch fails, each document is retried alone so that one bad document is
    reported and the others still land."""
    embedded = embed_batch(deps, [chunk for prepared in batch for chunk in prepared.chunks], recent)
    try:
        results = list(zip(batch, store_documents(deps, batch, embedded), strict=True))
    except Exception:  # noqa: BLE001 - rolled back as a whole; find the culprit document by document
        results = []
        position = 0
        for prepared in batch:
            count = len(prepared.chunks)
            alone = embedded.of(position, count)
            position += count
            try:
                results.append((prepared, store_documents(deps, [prepared], alone)[0]))
            except Exception as exc:  # noqa: BLE001 - this document rolled back; report it and go on
                path = prepared.parsed.source_path
                summary.errors.append({"path": path, "error": f"{path}: not stored ({type(exc).__name__}: {exc}); "
                                       "nothing of it was kept, re-run to retry"})
    for prepared, written in results:
        summary.documents += 1
        summary.patients += len(written.patient_ids)
        summary.patient_ids |= written.patient_ids
        summary.records += len(prepared.parsed.records)
        summary.chunks += len(written.chunks)
    batch.clear()


# Parsing a batch allocates hundreds of thousands of small objects that all live until the batch is stored. At the
# default threshold (700) the cyclic collector ran about 900 times per 1,000 demo patients, each run walking what
# is alive (the embedding model included): over a second of a 30-second ingest. Ingest makes no cyclic garbage
# that must go early, so while any ingest runs the first generation is collected after 50,000 allocations instead.
_GC_THRESHOLD = (50_000, 20, 100)
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _fewer_collections() -> Iterator[None]:
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(*_GC_THRESHOLD)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)


def ingest_paths(deps: IngestDeps, paths: Iterable[Path],
                 on_file: Callable[[Path], None] | None = None,
                 on_part: Callable[[Path, int], None] | None = None) -> IngestSummary:
    with _fewer_collections():
        return _ingest_paths(deps, paths, on_file, on_part)


def _ingest_paths(deps: IngestDeps, paths: Iterable[Path],
                  on_file: Callable[[Path], None] | None,
                  on_part: Callable[[Path, int], None] | None) -> IngestSummary:
    summary = IngestSummary()
    recent = RecentVectors()
    batch: list[Prepared] = []
    batch_chunks = 0
    seen: set[str] = set()
    for path in iter_files(paths):
        if on_file:
            on_file(path)
        prepared = read_file(deps, path, summary, seen)
        if isinstance(prepared, Streamed):
            if batch:  # keep the file order: what was read before this file is written before it
                flush(deps, batch, summary, recent)
                batch_chunks = 0
            if not ingest_streamed(deps, prepared, summary, recent, on_part):
                seen.discard(prepared.document_id)  # a copy elsewhere is tried (and reported) on its own
        elif prepared is not None:
            batch.append(prepared)
            batch_chunks += len(prepared.chunks)
            if batch_chunks >= deps.batch_chunks or len(batch) >= deps.batch_documents:
                flush(deps, batch, summary, recent)
                batch_chunks = 0
    if batch:
        flush(deps, batch, summary, recent)
    return summary
