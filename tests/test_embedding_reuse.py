"""A chunk text (or a record sentence) already embedded earlier in the same ingest run is not embedded again, and gets
the same vector."""

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
from assistant.index.writer import RecentVectors, decode_vectors, record_sentence_text
from assistant.ingest.pipeline import ingest_paths
from assistant.services.answers import ask
from assistant.services.caller import Caller
from assistant.settings import Settings

_REAL_EMBED = Embedder.embed


def _record_embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the embedder is given from now on, in order (the real embedder still embeds them)."""
    embedded: list[str] = []

    def counting_embed(self: Embedder, texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return _REAL_EMBED(self, texts)

    monkeypatch.setattr(Embedder, "embed", counting_embed)
    return embedded


def test_texts_repeated_across_batches_are_embedded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(8, 2027, tmp_path / "demo")
    embedded = _record_embedded(monkeypatch)
    # Two documents per batch: the demo's template sections ("Pending results: none") recur in every batch.
    ctx = open_context(Settings(data_dir=tmp_path / "data", ingest_batch_documents=2))
    summary = ingest_paths(ctx.ingest_deps, [tmp_path / "demo"])
    assert summary.errors == [] and summary.documents >= 8

    with Session(ctx.engine) as session:
        rows = session.execute(
            select(ChunkRow.chunk_id, ChunkRow.title, ChunkRow.section, ChunkRow.text, ChunkRow.sentence_spans,
                   ChunkRow.sentence_vectors)
            .where(ChunkRow.collection == PATIENT)
        ).all()
    texts = {row.chunk_id: embed_text(row.title, row.section, row.text) for row in rows}
    sentences = {
        row.chunk_id: [record_sentence_text(row.section, row.text[start:end]) for start, end in row.sentence_spans]
        for row in rows
    }
    assert len(set(texts.values())) < len(texts)  # the panel does repeat text across documents
    every_text = set(texts.values()) | {text for found in sentences.values() for text in found}
    assert sorted(embedded) == sorted(every_text)  # each distinct text embedded exactly once

    # Each record sentence's stored vector is that sentence's own embedding, in the order of its spans.
    sentence_vectors = {row.chunk_id: decode_vectors(row.sentence_vectors, ctx.embedder.dimension) for row in rows}
    some = [(chunk_id, index) for chunk_id in sorted(sentences)[:5] for index in range(len(sentences[chunk_id]))]
    fresh = _REAL_EMBED(ctx.embedder, [sentences[chunk_id][index] for chunk_id, index in some])
    for (chunk_id, index), vector in zip(some, fresh, strict=True):
        assert np.allclose(sentence_vectors[chunk_id][index], vector, atol=2e-3)  # stored as float16

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


def test_a_question_about_a_patient_embeds_only_the_question(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record's sentence vectors were stored at ingest, so answering embeds the question and nothing else
    (embedding the retrieved sentences at answer time was most of a patient question's tail)."""
    generate(4, 2027, tmp_path / "demo")
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    summary = ingest_paths(ctx.ingest_deps, [tmp_path / "demo"])
    assert summary.errors == []
    asked = _record_embedded(monkeypatch)
    questions = ("Who helps the patient at home?", "What did the discharge instructions say to watch for?",
                 "What did the care manager write after the last call?")
    cited = 0
    for patient in sorted(row.id for row in ctx.patients.list_patients(limit=10)):
        for question in questions:
            asked.clear()
            result = ask(ctx, Caller("reuse-test", "admin", "cli"), question, patient)
            assert asked == [question], asked[:3]
            cited += any(citation["patient_id"] == patient for citation in result["citations"])
    assert cited >= 2  # the record's sentences were ranked (with their stored vectors) and cited
