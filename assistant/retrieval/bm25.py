"""BM25 over the chunks of one scope, built from SQL rows and rebuilt only when the scope changes.

Why per scope: a patient's BM25 statistics must come from that patient's text alone; building the
index over everything and filtering afterwards would let other patients' vocabulary shape scores.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_CACHE_SIZE = 64

# bm25s.tokenize's own rules (scikit-learn's token pattern, lower case, its English stop words, then the stemmer),
# applied directly: through bm25s.tokenize a single question paid for two progress bars and a vocabulary it threw
# away, about a tenth of a patient question's time, since the composer tokenizes every candidate sentence.
# tests/test_retrieval_tokens.py holds the two to the same tokens.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)
_LOCAL = threading.local()  # PyStemmer's stemmers are not thread-safe: one per serving thread


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokenize_query(text: str) -> list[list[str]]:
    """One text's BM25 tokens, as a one-item batch (the shape ``BM25.retrieve`` takes)."""
    return [_stemmer().stemWords([token for token in _TOKEN.findall(text.lower()) if token not in _STOPWORDS])]


@dataclass
class ScopeIndex:
    version: str
    chunk_ids: list[str]
    retriever: bm25s.BM25 | None
    # A small scope's chunk vectors, in chunk_ids order, once a dense search has fetched them (see
    # hybrid.exact_dense); they are valid for as long as the version is, so they live and die with the entry.
    vectors: np.ndarray | None = None

    def knows(self, token: str) -> bool:
        return self.retriever is not None and token in self.retriever.vocab_dict

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self.retriever is None or not self.chunk_ids:
            return []
        k = min(k, len(self.chunk_ids))
        results, scores = self.retriever.retrieve(tokenize_query(query), k=k, show_progress=False, n_threads=1)
        hits = []
        for index, score in zip(results[0], scores[0], strict=True):
            if float(score) > 0:
                hits.append((self.chunk_ids[int(index)], float(score)))
        return hits


def scope_version(rows: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for chunk_id, sha in rows:
        digest.update(chunk_id.encode())
        digest.update(sha.encode())
    return digest.hexdigest()


def build(version: str, chunk_ids: list[str], texts: list[str]) -> ScopeIndex:
    if not texts:
        return ScopeIndex(version, [], None)
    tokens = bm25s.tokenize(texts, stemmer=_stemmer(), stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return ScopeIndex(version, chunk_ids, retriever)


class ScopeCache:
    """A small LRU of scope indexes keyed by scope name; an entry is reused while its version holds.

    One per application context (see ``SearchDeps``), shared by the threads that serve its requests."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, ScopeIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, scope_key: str, version: str) -> ScopeIndex | None:
        with self._lock:
            entry = self._entries.get(scope_key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(scope_key)
            return entry

    def put(self, scope_key: str, entry: ScopeIndex) -> None:
        with self._lock:
            self._entries[scope_key] = entry
            self._entries.move_to_end(scope_key)
            while len(self._entries) > _CACHE_SIZE:
                self._entries.popitem(last=False)
