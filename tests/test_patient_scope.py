"""Retrieval is scoped to one patient and to the user's panel: one patient's text never reaches another's answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.ask import ask
from assistant.context import open_context
from assistant.errors import NotFound, PermissionDenied
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.settings import Settings

MBI_A = "1EG4TE5MK73"
MBI_B = "2QW7RT9PK41"
NOTE_A = (f"Patient: mbi|{MBI_A}\nCare manager note\n\nThe patient walks with a quad cane since the fall in March.\n"
          "The patient keeps insulin pens in the kitchen drawer and injects them alone.\n")
NOTE_B = (f"Patient: mbi|{MBI_B}\nCare manager note\n\nThe daughter Rosalind manages the insulin pens every evening.\n"
          "The patient uses a rollator walker at home.\n")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("notes")
    (folder / "a.txt").write_text(NOTE_A, encoding="utf-8")
    (folder / "b.txt").write_text(NOTE_B, encoding="utf-8")
    context = open_context(Settings(data_dir=tmp_path_factory.mktemp("scope-data")))
    ingest_knowledge(context)
    summary = ingest_paths(context, [folder])
    assert summary.errors == [] and summary.documents == 2
    return context


def _patient_ids(result: dict) -> set:
    return {c["patient_id"] for c in result["citations"] if c["patient_id"]}


def test_answers_cite_only_the_scoped_patient(ctx) -> None:  # type: ignore[no-untyped-def]
    a = ctx.patients.resolve_patient(MBI_A).id
    b = ctx.patients.resolve_patient(MBI_B).id
    question = "Who manages the insulin pens?"
    for_b = ask(ctx, question, patient_ref=MBI_B, role="admin")
    assert "Rosalind" in for_b["answer"] and _patient_ids(for_b) == {b}
    for_a = ask(ctx, question, patient_ref=MBI_A, role="admin")
    assert "Rosalind" not in for_a["answer"] and _patient_ids(for_a) <= {a}
    assert "kitchen drawer" in for_a["answer"]
    # Without a patient, no patient text is searched at all.
    unscoped = ask(ctx, question, role="admin")
    assert _patient_ids(unscoped) == set() and "Rosalind" not in unscoped["answer"]


def test_panel_decides_who_may_ask(ctx) -> None:  # type: ignore[no-untyped-def]
    a = ctx.patients.resolve_patient(MBI_A).id
    with pytest.raises(PermissionDenied):
        ask(ctx, "Who manages the insulin pens?", patient_ref=MBI_A, user="nurse-ann", role="care_manager")
    ctx.patients.assign_panel("nurse-ann", [a])
    result = ask(ctx, "Who manages the insulin pens?", patient_ref=MBI_A, user="nurse-ann", role="care_manager")
    assert result["patient_id"] == a
    with pytest.raises(PermissionDenied):
        ask(ctx, "Who manages the insulin pens?", patient_ref=MBI_B, user="nurse-ann", role="care_manager")
    with pytest.raises(NotFound):
        ask(ctx, "Who manages the insulin pens?", patient_ref="9ZZ9ZZ9ZZ99", role="admin")


def test_api_enforces_the_panel_on_answers_and_sources(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.patients.assign_panel("nurse-bo", [ctx.patients.resolve_patient(MBI_B).id])
    app = create_app()
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app) as client:
        bo = {"X-Caretrail-User": "nurse-bo", "X-Caretrail-Role": "care_manager"}
        denied = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_A},
                             headers=bo)
        assert denied.status_code == 403
        allowed = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_B},
                              headers=bo)
        assert allowed.status_code == 200 and "Rosalind" in allowed.json()["answer"]
        chunk_id = next(c["chunk_id"] for c in allowed.json()["citations"] if c["patient_id"])
        assert client.get(f"/v1/sources/{chunk_id}", headers=bo).status_code == 200
        other = {"X-Caretrail-User": "nurse-cy", "X-Caretrail-Role": "care_manager"}
        assert client.get(f"/v1/sources/{chunk_id}", headers=other).status_code == 403


def test_note_text_offsets_open_the_source_file(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = ask(ctx, "Who manages the insulin pens?", patient_ref=MBI_B, role="admin")
    citation = next(c for c in result["citations"] if c["patient_id"])
    source_path = citation["source_uri"].split("#", 1)[0]
    text = Path(source_path).read_text(encoding="utf-8")
    assert text[citation["start"] : citation["end"]] == citation["quote"]
