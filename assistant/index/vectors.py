"""Chroma, embedded (PersistentClient) or client/server (HttpClient), behind one small class.

The same methods run against both forms; only the client differs. Embeddings are always computed by
us and passed in, and our registered embedding function is attached to every collection so Chroma
never falls back to its downloading default.
"""

from __future__ import annotations

from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from assistant.index.embedder import CaretrailEmbeddingFunction
from assistant.settings import Settings

KNOWLEDGE = "knowledge"
PATIENT = "patient"
_COLLECTION_NAMES = {KNOWLEDGE: "caretrail_knowledge", PATIENT: "caretrail_patient_text"}
_ADD_BATCH = 1000


def make_client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class VectorStore:
    def __init__(self, settings: Settings) -> None:
        self.client = make_client(settings)
        self._function = CaretrailEmbeddingFunction(str(settings.resolved_embedder_path))
        self._collections: dict[str, Any] = {}

    def collection(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self.client.get_or_create_collection(
                _COLLECTION_NAMES[name],
                embedding_function=self._function,
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._collections[name]

    def upsert(
        self, name: str, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]
    ) -> None:
        collection = self.collection(name)
        for begin in range(0, len(ids), _ADD_BATCH):
            end = begin + _ADD_BATCH
            collection.upsert(
                ids=ids[begin:end],
                embeddings=vectors[begin:end],
                metadatas=metadatas[begin:end],
            )

    def delete(self, name: str, ids: list[str]) -> None:
        if ids:
            self.collection(name).delete(ids=ids)

    def ids_where(self, name: str, where: dict[str, Any]) -> list[str]:
        return list(self.collection(name).get(where=where, include=[])["ids"])

    def query(
        self, name: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunk ids with cosine similarity (1 - cosine distance)."""
        collection = self.collection(name)
        result = collection.query(
            query_embeddings=[vector], n_results=n, where=where or None, include=["distances"]
        )
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result["distances"] else []
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(ids, distances, strict=True)]

    def vectors_of(self, name: str, ids: list[str]) -> np.ndarray:
        """The stored vectors of ``ids``, one row per id in that order; a row of NaN for an id Chroma lacks (a
        crash between the SQL and the Chroma write), which no similarity can then select."""
        found: dict[str, np.ndarray] = {}
        collection = self.collection(name)
        for begin in range(0, len(ids), _ADD_BATCH):
            result = collection.get(ids=ids[begin : begin + _ADD_BATCH], include=["embeddings"])
            found.update(zip(result["ids"], result["embeddings"], strict=True))
        dimension = len(next(iter(found.values()))) if found else 0
        matrix = np.full((len(ids), dimension), np.nan, dtype=np.float32)
        for row, chunk_id in enumerate(ids):
            if chunk_id in found:
                matrix[row] = found[chunk_id]
        return matrix

    def count(self, name: str) -> int:
        return int(self.collection(name).count())
