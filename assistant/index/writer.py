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
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from assistant.index.chunking import Chunk
from assistant.index.embedder import Embedder
from assistant.index.sentences import sentence_spans
from assistant.index.tables import ChunkRow
from assistant.index.vectors import VectorStore


def chunk_metadata(chunk: Chunk, document_key: str) -> dict[str, str | int]:
    metadata: dict[str, str | int] = {
        "doc_id": chunk.doc_id,
        "document_key": document_key,
        "start": chunk.start,
        "end": chunk.end,
        "sha256": chunk.sha256,
    }
    if chunk.patient_id:
        metadata["patient_id"] = chunk.patient_id
    return metadata


def encode_vectors(vectors: np.ndarray) -> bytes:
    return np.asarray(vectors, dtype=np.float16).tobytes()


def decode_vectors(blob: bytes, dimension: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(-1, dimension)


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk]) -> np.ndarray:
    """Each distinct text is embedded once. Clinical documents repeat template sections across patients
    ("Pending Results: None.", "Home Health/DME: None ordered."), and the same text gives the same vector."""
    texts = [chunk.embed_text for chunk in chunks]
    distinct = list(dict.fromkeys(texts))
    if len(distinct) == len(texts):
        return embedder.embed(texts)
    position = {text: index for index, text in enumerate(distinct)}
    return embedder.embed(distinct)[[position[text] for text in texts]]


def stage_vectors(
    vectors: VectorStore, collection: str, document_key: str, chunks: Sequence[Chunk], embeddings: np.ndarray
) -> None:
    """Step 1: new vectors go in first; ids are content-addressed, so this is idempotent."""
    stage_vectors_for(vectors, collection, [(document_key, chunk) for chunk in chunks], embeddings)


def stage_vectors_for(
    vectors: VectorStore, collection: str, items: Sequence[tuple[str, Chunk]], embeddings: np.ndarray
) -> None:
    """Stage the chunks of several documents in one write; each item is (document key, chunk)."""
    if items:
        vectors.upsert(
            collection,
            [chunk.chunk_id for _, chunk in items],
            embeddings,
            [chunk_metadata(chunk, document_key) for document_key, chunk in items],
        )


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
    old_ids = set(session.scalars(select(ChunkRow.chunk_id).where(ChunkRow.document_key == document_key)))
    if old_ids:
        session.execute(delete(ChunkRow).where(ChunkRow.document_key == document_key))
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
        session.execute(insert(ChunkRow), rows)  # one executemany, no unit-of-work flush per row


def sentence_vector_blobs(embedder: Embedder, chunks: Sequence[Chunk]) -> list[bytes]:
    """Pre-computed sentence embeddings let the composer rank sentences without embedding at query time."""
    texts: list[str] = []
    counts: list[int] = []
    for chunk in chunks:
        spans = sentence_spans(chunk.text)
        texts.extend(chunk.text[s:e] for s, e in spans)
        counts.append(len(spans))
    vectors = embedder.embed(texts)
    blobs = []
    position = 0
    for count in counts:
        blobs.append(encode_vectors(vectors[position : position + count]))
        position += count
    return blobs
