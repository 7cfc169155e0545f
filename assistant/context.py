"""The handles every command and request needs: settings, database engine, vector store, embedder.

Why one object: the CLI, the API and the tests must open exactly the same components for a given
data dir, and heavy handles (model, Chroma client) must be opened once per process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from assistant.db import init_db
from assistant.index.embedder import Embedder
from assistant.index.vectors import VectorStore
from assistant.settings import Settings

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
