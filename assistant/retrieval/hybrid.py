"""Hybrid search: BM25 and dense results fused by reciprocal rank, inside one scope.

A scope is the knowledge base or exactly one patient's text; there is no query that spans patients.
SQL decides which chunks exist: ids returned by Chroma but absent from SQL (a crash between the two
writes) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.index.embedder import Embedder
from assistant.index.tables import ChunkRow
from assistant.index.vectors import KNOWLEDGE, PATIENT, VectorStore
from assistant.retrieval.bm25 import ScopeCache, ScopeIndex, build, scope_version

RRF_K = 60
CANDIDATES = 30
# A scope this small (one patient's chunks) is searched exactly, against its own vectors, instead of through the
# HNSW graph with a patient filter: at 100,000 chunks that filtered graph search alone had a p95 of 137 ms, while
# a few hundred dot products take microseconds; and exact is never worse than approximate.
EXACT_SCOPE_LIMIT = 5000


@dataclass(frozen=True)
class SearchDeps:
    """What a search reads: SQL (which chunks exist, their text), Chroma (dense neighbours), the embedder (the
    query vector) and the BM25 scope cache. The cache is passed in rather than module-global so that it lives
    and dies with the data dir's context: two contexts in one process (tests, a server with two data dirs)
    never see each other's scope indexes."""

    engine: Engine
    vectors: VectorStore
    embedder: Embedder
    bm25_cache: ScopeCache


@dataclass(frozen=True)
class Scope:
    collection: str  # KNOWLEDGE or PATIENT
    patient_id: str | None = None
    doc_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.collection == PATIENT and not self.patient_id:
            raise ValueError("a patient scope needs a patient_id")
        if self.collection not in (KNOWLEDGE, PATIENT):
            raise ValueError(f"unknown collection {self.collection!r}")

    @property
    def key(self) -> str:
        return f"{self.collection}:{self.patient_id or ''}:{','.join(self.doc_ids)}"

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.patient_id:
            clauses.append({"patient_id": self.patient_id})
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": list(self.doc_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk and how it ranked. A plain copy of the chunk row's fields, so that composers,
    citations and services never hold an ORM object (detached, lazily loaded, tied to a session)."""

    chunk_id: str
    doc_id: str
    collection: str
    patient_id: str | None
    title: str
    section: str
    source_uri: str
    start: int  # offsets of ``text`` in the whole source
    end: int
    text: str
    sha256: str
    source_urls: tuple[str, ...]
    sentence_spans: tuple[tuple[int, int], ...]  # sentence offsets inside ``text``, computed at index time
    sentence_vectors: bytes | None  # their embeddings, when the indexer stored them
    score: float
    dense_similarity: float | None = None
    bm25_score: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)


def _hit(row: ChunkRow, score: float, dense_similarity: float | None, bm25_score: float | None,
         ranks: dict[str, int]) -> Hit:
    return Hit(
        chunk_id=row.chunk_id,
        doc_id=row.doc_id,
        collection=row.collection,
        patient_id=row.patient_id,
        title=row.title,
        section=row.section,
        source_uri=row.source_uri,
        start=row.start,
        end=row.end,
        text=row.text,
        sha256=row.sha256,
        source_urls=tuple(str(url) for url in (row.meta or {}).get("source_urls", [])),
        sentence_spans=tuple((int(start), int(end)) for start, end in row.sentence_spans or []),
        sentence_vectors=row.sentence_vectors,
        score=score,
        dense_similarity=dense_similarity,
        bm25_score=bm25_score,
        ranks=ranks,
    )


def _scope_rows(session: Session, scope: Scope) -> list[tuple[str, str]]:
    query = select(ChunkRow.chunk_id, ChunkRow.sha256).where(ChunkRow.collection == scope.collection)
    if scope.patient_id:
        query = query.where(ChunkRow.patient_id == scope.patient_id)
    if scope.doc_ids:
        query = query.where(ChunkRow.doc_id.in_(scope.doc_ids))
    return [(chunk_id, sha) for chunk_id, sha in session.execute(query.order_by(ChunkRow.chunk_id))]


def _scope_index(session: Session, cache: ScopeCache, scope: Scope) -> ScopeIndex:
    rows = _scope_rows(session, scope)
    version = scope_version(rows)
    index = cache.get(scope.key, version)
    if index is None:
        ids = [chunk_id for chunk_id, _ in rows]
        texts_by_id = dict(
            session.execute(
                select(ChunkRow.chunk_id, ChunkRow.title + " " + ChunkRow.section + " " + ChunkRow.text).where(
                    ChunkRow.chunk_id.in_(ids)
                )
            ).all()
        ) if ids else {}
        index = build(version, ids, [texts_by_id[chunk_id] for chunk_id in ids])
        cache.put(scope.key, index)
    return index


def exact_dense(vectors: VectorStore, scope: Scope, index: ScopeIndex, query_vector: np.ndarray,
                k: int) -> list[tuple[str, float]]:
    """The scope's nearest chunks by exact cosine similarity over its own vectors (fetched by id once per scope
    version, then kept with its BM25 index), as Chroma's query would give them without the approximation."""
    if not index.chunk_ids:
        return []
    if index.vectors is None:
        index.vectors = vectors.vectors_of(scope.collection, index.chunk_ids)
    matrix = index.vectors
    if matrix.shape[1] != query_vector.shape[0]:
        return []  # Chroma holds none of the scope's vectors (a crash between the two writes): nothing to rank
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query_vector))
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = (matrix @ query_vector) / norms
    order = [int(i) for i in np.argsort(-np.nan_to_num(similarity, nan=-np.inf), kind="stable")]
    return [(index.chunk_ids[i], float(similarity[i])) for i in order[:k] if np.isfinite(similarity[i])]


_NUMBER = re.compile(r"\b\w*\d{4,}\w*\b")


def unknown_numbers(deps: SearchDeps, question: str, scopes: list[Scope]) -> list[str]:
    """Codes and numbers in the question (CPT 99214, a year) that appear nowhere in the searched text.

    Why: a question about a specific code or year the sources never mention cannot be answered from them,
    however close the surrounding words are; answering with the nearest sentence about another code would
    look cited and be wrong.
    """
    numbers = {match.lower() for match in _NUMBER.findall(question)}
    if not numbers:
        return []
    with Session(deps.engine) as session:
        indexes = [_scope_index(session, deps.bm25_cache, scope) for scope in scopes]
    return sorted(n for n in numbers if not any(index.knows(n) for index in indexes))


def search(
    deps: SearchDeps, query: str, scope: Scope, k: int = 5, query_vector: np.ndarray | None = None
) -> list[Hit]:
    if query_vector is None:
        query_vector = deps.embedder.embed_one(query)
    with Session(deps.engine) as session:
        index = _scope_index(session, deps.bm25_cache, scope)
    if scope.patient_id and len(index.chunk_ids) <= EXACT_SCOPE_LIMIT:
        dense = exact_dense(deps.vectors, scope, index, query_vector, CANDIDATES)
    else:
        dense = deps.vectors.query(scope.collection, query_vector, CANDIDATES, scope.chroma_where())
    lexical = index.search(query, CANDIDATES)
    with Session(deps.engine) as session:
        fused: dict[str, float] = {}
        ranks: dict[str, dict[str, int]] = {}
        for name, results in (("dense", dense), ("bm25", lexical)):
            for rank, (chunk_id, _score) in enumerate(results, start=1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
                ranks.setdefault(chunk_id, {})[name] = rank
        if not fused:
            return []
        rows = {
            row.chunk_id: row
            for row in session.scalars(select(ChunkRow).where(ChunkRow.chunk_id.in_(list(fused))))
        }
        session.expunge_all()
    dense_scores = dict(dense)
    bm25_scores = dict(lexical)
    hits = [
        _hit(rows[chunk_id], score, dense_scores.get(chunk_id), bm25_scores.get(chunk_id), ranks[chunk_id])
        for chunk_id, score in fused.items()
        if chunk_id in rows and _in_scope(rows[chunk_id], scope)
    ]
    hits.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return hits[:k]


def _in_scope(row: ChunkRow, scope: Scope) -> bool:
    """Belt and braces: even a wrong Chroma filter cannot leak another patient's chunk."""
    if row.collection != scope.collection:
        return False
    if scope.patient_id and row.patient_id != scope.patient_id:
        return False
    return not scope.doc_ids or row.doc_id in scope.doc_ids
