"""An embedder that remembers the vectors of the last few hundred short texts it embedded.

Why: one chat turn embeds its question twice (the intent classifier, then retrieval), and a follow-up often repeats an
earlier question; a sentence-transformers call costs far more than a dictionary lookup. Embeddings are deterministic
per model and text, so a remembered vector is the same vector. Long texts (passages) are never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from assistant.index.embedder import Embedder

MAX_TEXTS = 512
MAX_CHARS = 400  # questions, not passages


class RememberingEmbedder(Embedder):
    def __init__(self, base: Embedder) -> None:
        super().__init__(base.model_path, base.batch_size)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = super().embed(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    known[text] = vector
                    if len(text) <= MAX_CHARS:
                        self._vectors[text] = vector
                while len(self._vectors) > MAX_TEXTS:
                    self._vectors.popitem(last=False)
        if not texts:
            return super().embed(texts)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)


_SHARED: dict[str, RememberingEmbedder] = {}
_SHARED_LOCK = threading.Lock()


def remembering(base: Embedder) -> RememberingEmbedder:
    """One remembering embedder per model folder, shared by every turn in the process."""
    key = str(base.model_path)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = RememberingEmbedder(base)
        return _SHARED[key]
