"""The sentence-transformers embedder, loaded from a local folder only, and its Chroma adapter.

Why our own Chroma embedding function: a collection created without one makes Chroma download an
ONNX model on first use. Registering this class lets Chroma reopen our collections in any process
(it persists the function's name and config) without ever reaching for the network.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load(path: str):  # type: ignore[no-untyped-def]
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    model_dir = Path(path)
    if not (model_dir / "config.json").exists() and not (model_dir / "modules.json").exists():
        raise FileNotFoundError(f"no sentence-transformers model in {model_dir}")
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


class Embedder:
    """Normalised float32 embeddings; cosine similarity is then a dot product."""

    def __init__(self, model_path: Path, batch_size: int = 64) -> None:
        self.model_path = Path(model_path)
        self.batch_size = batch_size

    @property
    def model(self):  # type: ignore[no-untyped-def]
        return _load(str(self.model_path))

    @property
    def model_id(self) -> str:
        name = self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"
        return f"sentence-transformers:{name}"

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _LOCK:  # torch intra-op threads already use both cores; serialising avoids thrash
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@register_embedding_function
class CaretrailEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma adapter around :class:`Embedder`; config holds only the local model path."""

    def __init__(self, model_path: str) -> None:
        self._embedder = Embedder(Path(model_path))
        self._model_path = str(model_path)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "caretrail-sentence-transformers"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self._model_path}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CaretrailEmbeddingFunction:
        return CaretrailEmbeddingFunction(config["model_path"])

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None
