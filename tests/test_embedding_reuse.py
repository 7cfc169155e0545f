"""A chunk text already embedded earlier in the same ingest run is not embedded again, and gets the same vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.chunking import embed_text
from assistant.index.embedder import Embedder
from assistant.index.tables import ChunkRow
from assistant.index.vectors import PATIENT
from assistant.index.writer import RecentVectors
from assistant.ingest.pipeline import ingest_paths
from assistant.settings import Settings


def test_texts_repeated_across_batches_are_embedded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(8, 2027, tmp_path / "demo")
    embedded: list[str] = []
    real_embed = Embedder.embed

    def counting_embed(self: Embedder, texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return real_embed(self, texts)

    monkeypatch.setattr(Embedder, "embed", counting_embed)
    # Two documents per batch: the demo's template sections ("Pending results: none") recur in every batch.
    ctx = open_context(Settings(data_dir=tmp_path / "data", ingest_batch_documents=2))
    summary = ingest_paths(ctx.ingest_deps, [tmp_path / "demo"])
    assert summary.errors == [] and summary.documents >= 8

    with Session(ctx.engine) as session:
        rows = session.execute(
            select(ChunkRow.chunk_id, ChunkRow.title, ChunkRow.section, ChunkRow.text)
            .where(ChunkRow.collection == PATIENT)
        ).all()
    texts = {chunk_id: embed_text(title, section, text) for chunk_id, title, section, text in rows}
    assert len(set(texts.values())) < len(texts)  # the panel does repeat text across documents
    assert sorted(embedded) == sorted(set(texts.values()))  # each distinct text embedded exactly once

    stored = ctx.vectors.collection(PATIENT).get(ids=list(texts), include=["embeddings"])
    by_text: dict[str, np.ndarray] = {}
    for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True):
        first = by_text.setdefault(texts[chunk_id], np.asarray(vector))
        assert np.array_equal(first, np.asarray(vector))


def test_recent_vectors_keep_what_was_just_added() -> None:
    recent = RecentVectors(limit=4)
    for round_ in range(5):
        texts = [f"text {round_}-{i}" for i in range(5)]  # more than the limit in one go
        recent.add(texts, np.full((5, 3), round_, dtype=np.float32))
        assert all(recent.get(text) is not None for text in texts)
    assert recent.get("text 0-0") is None  # the oldest went first
