"""The handles every command and request needs: settings, database engine, vector store, embedder.

Why one object: the CLI, the API and the tests must open exactly the same components for a given
data dir, and heavy handles (model, Chroma client) must be opened once per process. Lower layers (index,
retrieval, compose, ingest, the answer engine) never see this object: it builds the small dependency
bundles they take (``search_deps``, ``answer_deps``, ``ingest_deps``, ``knowledge_deps``), and it owns the
caches that must live exactly as long as its handles.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from assistant.db import init_db
from assistant.index.embedder import Embedder
from assistant.index.vectors import VectorStore
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.ask import AnswerDeps
    from assistant.auth.apikeys import KeyStore
    from assistant.auth.authenticate import Authenticator
    from assistant.auth.ratelimit import RateLimits
    from assistant.compose.composer import SentenceVectorCache
    from assistant.guidance.facts import RosterCache
    from assistant.index.knowledge import KnowledgeDeps
    from assistant.ingest.pipeline import IngestDeps
    from assistant.retrieval.bm25 import ScopeCache
    from assistant.retrieval.hybrid import SearchDeps

_CONTEXTS: dict[str, AppContext] = {}
_LOCK = threading.Lock()


@dataclass
class AppContext:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return init_db(self.settings.resolved_database_url)

    @cached_property
    def vectors(self) -> VectorStore:
        return VectorStore(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings.resolved_embedder_path, self.settings.embed_batch_size)

    @cached_property
    def llm(self):  # type: ignore[no-untyped-def]
        """The configured model behind the PHI guard, or None for the deterministic composer."""
        from assistant.llm.guard import get_llm

        return get_llm(self.settings)

    @cached_property
    def patients(self):  # type: ignore[no-untyped-def]
        from assistant.records.store import PatientStore

        return PatientStore(self.settings.resolved_database_url)

    # Identity: keys, sessions and the authenticator share the context's database; the rate limits are per
    # process unless CARETRAIL_RATE_LIMIT_STORAGE names a shared store.

    @cached_property
    def keys(self) -> KeyStore:
        from assistant.auth.apikeys import KeyStore

        return KeyStore(self.engine)

    @cached_property
    def authenticator(self) -> Authenticator:
        from datetime import timedelta

        from assistant.auth.authenticate import Authenticator
        from assistant.auth.sessions import SessionStore

        sessions = SessionStore(self.engine, timedelta(minutes=self.settings.session_ttl_minutes))
        return Authenticator(self.settings, self.keys, sessions)

    @cached_property
    def rate_limits(self) -> RateLimits:
        from assistant.auth.ratelimit import RateLimits

        settings = self.settings
        return RateLimits(settings.rate_limit_storage, settings.rate_limit, settings.auth_failure_limit)

    # Caches: one per context, so that they never outlive or cross the data dir and embedder that filled them.

    @cached_property
    def roster_cache(self) -> RosterCache:
        """The last roster audit, shared by every patient's guidance until the store changes."""
        from assistant.guidance.facts import RosterCache

        return RosterCache()

    @cached_property
    def bm25_cache(self) -> ScopeCache:
        """BM25 indexes of recently searched scopes, rebuilt when a scope's chunks change."""
        from assistant.retrieval.bm25 import ScopeCache

        return ScopeCache()

    @cached_property
    def sentence_vectors(self) -> SentenceVectorCache:
        """Sentence embeddings the composer computes at answer time for chunks indexed without them."""
        from assistant.compose.composer import SentenceVectorCache

        return SentenceVectorCache()

    # Dependency bundles: plain properties, built on each use from the cached handles above (cheap), so that a
    # handle replaced on the context is what the next call sees.

    @property
    def search_deps(self) -> SearchDeps:
        from assistant.retrieval.hybrid import SearchDeps

        return SearchDeps(engine=self.engine, vectors=self.vectors, embedder=self.embedder,
                          bm25_cache=self.bm25_cache)

    @property
    def answer_deps(self) -> AnswerDeps:
        from assistant.ask import AnswerDeps

        return AnswerDeps(
            search=self.search_deps,
            engine=self.engine,
            embedder=self.embedder,
            llm=self.llm,
            sentence_vectors=self.sentence_vectors,
            prompts_dir=self.settings.prompts_dir,
            abstain_threshold=self.settings.abstain_threshold,
            top_k=self.settings.top_k,
        )

    @property
    def knowledge_deps(self) -> KnowledgeDeps:
        from assistant.index.knowledge import KnowledgeDeps

        return KnowledgeDeps(engine=self.engine, vectors=self.vectors, embedder=self.embedder,
                             knowledge_dir=self.settings.knowledge_dir)

    @property
    def ingest_deps(self) -> IngestDeps:
        from assistant.ingest.pipeline import IngestDeps

        settings = self.settings
        return IngestDeps(
            patients=self.patients,
            vectors=self.vectors,
            embedder=self.embedder,
            knowledge=self.knowledge_deps,
            max_file_bytes=settings.max_file_bytes,
            max_stream_file_bytes=settings.max_stream_file_bytes,
            batch_documents=settings.ingest_batch_documents,
            batch_chunks=settings.ingest_batch_chunks,
        )


def _prepare_data_dir(settings: Settings) -> None:
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    cache = settings.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    # Library caches live inside the data dir so nothing is written to (or read from) a user-wide cache.
    os.environ.setdefault("TLDEXTRACT_CACHE", str(cache / "tldextract"))
    os.environ.setdefault("LLAMA_INDEX_CACHE_DIR", str(cache / "llama_index"))


def open_context(settings: Settings | None = None) -> AppContext:
    settings = settings or Settings()
    key = settings.model_dump_json()  # the same settings share one context; any difference gets its own
    with _LOCK:
        if key not in _CONTEXTS:
            _prepare_data_dir(settings)
            _CONTEXTS[key] = AppContext(settings)
        return _CONTEXTS[key]
