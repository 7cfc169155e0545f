"""A patient's scope is searched exactly over its own vectors: the same neighbours, in the same order, as Chroma's
filtered query gives on a store small enough for its graph to be exact; a chunk whose vector is missing from Chroma
is never returned; and the vectors are fetched once per scope version."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.vectors import PATIENT
from assistant.ingest.pipeline import ingest_paths
from assistant.retrieval.hybrid import Scope, _scope_index, exact_dense, search
from assistant.settings import Settings


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("exact")
    generate(6, 2027, folder / "demo")
    ctx = open_context(Settings(data_dir=folder / "data"))
    assert ingest_paths(ctx.ingest_deps, [folder / "demo"]).errors == []
    return ctx


def _patients_with_text(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    """Demo patients whose documents gave indexed text, the most text first (some have structured records only)."""
    sizes = {row.id: len(_index(ctx, Scope(PATIENT, patient_id=row.id)).chunk_ids)
             for row in ctx.patients.list_patients(limit=10)}
    return sorted((patient for patient, size in sizes.items() if size), key=lambda p: (-sizes[p], p))


def _index(ctx, scope: Scope):  # type: ignore[no-untyped-def]
    with Session(ctx.engine) as session:
        return _scope_index(session, ctx.bm25_cache, scope)


QUESTIONS = ("Who helps the patient at home?", "What did the discharge instructions say to watch for?",
             "blood pressure medication dose", "Why did the patient go to the hospital?")


def test_exact_search_ranks_as_chromas_filtered_query(ctx) -> None:  # type: ignore[no-untyped-def]
    compared = 0
    for patient in _patients_with_text(ctx):
        scope = Scope(PATIENT, patient_id=patient)
        index = _index(ctx, scope)
        for question in QUESTIONS:
            vector = ctx.embedder.embed_one(question)
            exact = exact_dense(ctx.vectors, scope, index, vector, 10)
            chroma = ctx.vectors.query(PATIENT, vector, 10, scope.chroma_where())
            assert [chunk_id for chunk_id, _ in exact] == [chunk_id for chunk_id, _ in chroma]
            for (_, ours), (_, theirs) in zip(exact, chroma, strict=True):
                assert ours == pytest.approx(theirs, abs=1e-4)
            compared += len(exact)
    assert compared > 50


def test_a_chunk_without_a_vector_is_never_returned(ctx) -> None:  # type: ignore[no-untyped-def]
    patient = _patients_with_text(ctx)[0]
    scope = Scope(PATIENT, patient_id=patient)
    index = _index(ctx, scope)
    vector = ctx.embedder.embed_one(QUESTIONS[0])
    best = exact_dense(ctx.vectors, scope, index, vector, 1)[0][0]
    ctx.vectors.delete(PATIENT, [best])  # as if the Chroma write had been lost
    index.vectors = None
    assert best not in [chunk_id for chunk_id, _ in exact_dense(ctx.vectors, scope, index, vector, 50)]


def test_the_scope_vectors_are_fetched_once(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    patient = _patients_with_text(ctx)[1]
    scope = Scope(PATIENT, patient_id=patient)
    _index(ctx, scope).vectors = None  # an earlier test may have searched this scope already
    fetched: list[int] = []
    real = type(ctx.vectors).vectors_of

    def counting(self, name, ids):  # type: ignore[no-untyped-def]
        fetched.append(len(ids))
        return real(self, name, ids)

    monkeypatch.setattr(type(ctx.vectors), "vectors_of", counting)
    for question in QUESTIONS:
        assert search(ctx.search_deps, question, scope, k=5)
    assert len(fetched) == 1 and fetched[0] == len(_index(ctx, scope).chunk_ids)
