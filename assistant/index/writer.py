"""Write one document's chunks to SQL and Chroma so that readers see the old version or the new one,
never a mix.

Order: (1) upsert the new chunk vectors into Chroma under content-addressed ids, (2) in the caller's
SQL transaction replace the document's chunk rows, (3) after commit, delete the Chroma ids that the
new version no longer uses. Retrieval trusts SQL for visibility, so a crash at any point leaves either
the old or the new version visible, and a re-run converges to the same state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from assistant.index.chunking import Chunk
from assistant.index.embedder import Embedder
from assistant.index.sentences import sentence_spans
from assistant.index.tables import ChunkRow
from assistant.index.vectors import VectorStore

# Asked for every document written, built once (building a statement costs more than running it on SQLite).
_CHUNK_IDS_OF = select(ChunkRow.chunk_id).where(ChunkRow.document_key == bindparam("document_key"))
_DELETE_CHUNKS_OF = delete(ChunkRow).where(ChunkRow.document_key == bindparam("document_key"))
_INSERT_CHUNKS = insert(ChunkRow)


def chunk_metadata(chunk: Chunk) -> dict[str, str]:
    """Only what a query filters by (the patient, the documents in scope). Offsets, hashes and text live in the
    SQL row, which retrieval reads anyway; each extra key is a row Chroma writes per vector, and on ingest that
    cost more than the vector itself."""
    metadata = {"doc_id": chunk.doc_id}
    if chunk.patient_id:
        metadata["patient_id"] = chunk.patient_id
    return metadata


def encode_vectors(vectors: np.ndarray) -> bytes:
    return np.asarray(vectors, dtype=np.float16).tobytes()


def decode_vectors(blob: bytes, dimension: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(-1, dimension)


class RecentVectors:
    """Vectors of the chunk texts one ingest run embedded lately, so a text repeated across batches is embedded
    once per run, not once per batch (on a 1,000-patient demo panel, a fifth of what the batches embedded had
    been embedded by an earlier batch). Bounded: the oldest entries go first, and a miss only costs an embedding.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._vectors: dict[str, np.ndarray] = {}

    def get(self, text: str) -> np.ndarray | None:
        return self._vectors.get(text)

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Old entries are trimmed before new ones go in, so what a caller just added is always there to read."""
        if len(self._vectors) + len(texts) > self.limit * 3 // 2:  # trim now and then, not on every add
            kept = list(self._vectors.items())
            self._vectors = dict(kept[max(0, len(kept) - self.limit) :])
        for text, vector in zip(texts, vectors, strict=True):
            self._vectors[text] = vector


def _vectors_of(embedder: Embedder, texts: Sequence[str], recent: RecentVectors | None) -> dict[str, np.ndarray]:
    """Each distinct text's vector: from ``recent`` when this run embedded it lately, else embedded now. Read
    before anything is added, so trimming ``recent`` to make room can never lose a vector this call needs."""
    recent = recent if recent is not None else RecentVectors()
    found: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for text in dict.fromkeys(texts):
        vector = recent.get(text)
        if vector is None:
            missing.append(text)
        else:
            found[text] = vector
    if missing:
        embedded = embedder.embed(missing)
        recent.add(missing, embedded)
        found.update(zip(missing, embedded, strict=True))
    return found


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk], recent: RecentVectors | None = None) -> np.ndarray:
    """Each distinct text is embedded once. Clinical documents repeat template sections across patients
    ("Pending Results: None.", "Home Health/DME: None ordered."), and the same text gives the same vector."""
    texts = [chunk.embed_text for chunk in chunks]
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    found = _vectors_of(embedder, texts, recent)
    return np.stack([found[text] for text in texts])


def stage_vectors(vectors: VectorStore, collection: str, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
    """Step 1: new vectors go in first, one write for any number of documents; ids are content-addressed, so
    this is idempotent."""
    if chunks:
        ids = [chunk.chunk_id for chunk in chunks]
        vectors.upsert(collection, ids, embeddings, [chunk_metadata(chunk) for chunk in chunks])


def replace_rows(
    session: Session,
    collection: str,
    document_key: str,
    chunks: Sequence[Chunk],
    sentence_vectors: Sequence[bytes | None] | None = None,
) -> list[str]:
    """Step 2: swap the document's chunk rows inside the caller's transaction; returns stale ids."""
    old_ids = delete_rows(session, document_key)
    append_rows(session, collection, document_key, chunks, sentence_vectors)
    return sorted(old_ids - {chunk.chunk_id for chunk in chunks})


def delete_rows(session: Session, document_key: str) -> set[str]:
    """Drop a document's chunk rows (inside the caller's transaction); returns the ids they had."""
    sql = session.connection()  # chunk rows are only ever written as Core statements: nothing to flush first
    old_ids = set(sql.scalars(_CHUNK_IDS_OF, {"document_key": document_key}))
    if old_ids:
        sql.execute(_DELETE_CHUNKS_OF, {"document_key": document_key})
    return old_ids


def append_rows(
    session: Session,
    collection: str,
    document_key: str,
    chunks: Sequence[Chunk],
    sentence_vectors: Sequence[bytes | None] | None = None,
) -> None:
    """Add chunk rows for a document written part by part (after one ``delete_rows``)."""
    blobs = sentence_vectors or [None] * len(chunks)
    rows = [
        {
            "chunk_id": chunk.chunk_id,
            "collection": collection,
            "document_key": document_key,
            "doc_id": chunk.doc_id,
            "patient_id": chunk.patient_id,
            "title": chunk.title,
            "section": chunk.section,
            "start": chunk.start,
            "end": chunk.end,
            "text": chunk.text,
            "sha256": chunk.sha256,
            "source_uri": chunk.source_uri,
            "meta": chunk.meta,
            "sentence_spans": [[s, e] for s, e in sentence_spans(chunk.text)],
            "sentence_vectors": blob,
        }
        for chunk, blob in zip(chunks, blobs, strict=True)
    ]
    if rows:
        session.connection().execute(_INSERT_CHUNKS, rows)  # one executemany, no unit-of-work flush


def record_sentence_text(section: str, sentence: str) -> str:
    """What is embedded for one sentence of a patient's record. Record text is terse ("None ordered.",
    "- furosemide 40 mg daily"): its heading carries half the meaning, so each line is embedded with the
    section it sits under. The composer embeds the same text for rows written before vectors were stored."""
    return f"{section}: {sentence}"


def sentence_vector_blobs(
    embedder: Embedder, chunks: Sequence[Chunk], recent: RecentVectors | None = None, with_section: bool = False
) -> list[bytes]:
    """Pre-computed sentence embeddings let the composer rank sentences without embedding at query time.

    Knowledge sentences are embedded as written; a record's (``with_section``) with their heading. Texts repeated
    across chunks (template lines in every discharge summary) are embedded once per run."""
    texts: list[str] = []
    counts: list[int] = []
    for chunk in chunks:
        spans = sentence_spans(chunk.text)
        texts.extend(
            record_sentence_text(chunk.section, chunk.text[s:e]) if with_section else chunk.text[s:e]
            for s, e in spans
        )
        counts.append(len(spans))
    found = _vectors_of(embedder, texts, recent)
    blobs = []
    position = 0
    for count in counts:
        part = [found[text] for text in texts[position : position + count]]
        blobs.append(encode_vectors(np.stack(part) if part else np.zeros((0, embedder.dimension))))
        position += count
    return blobs
