"""Retrieval is scoped to one patient and to the user's panel: one patient's text never reaches another's answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.context import open_context
from assistant.errors import NotFound, PermissionDenied
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.services.answers import ask as service_ask
from assistant.services.caller import Caller
from assistant.settings import Settings
from tests.helpers_auth import bearer

pytestmark = pytest.mark.slow  # a real server, subprocesses or a knowledge index of its own


def ask(ctx, question: str, patient_ref: str | None = None, user: str = "steward",  # type: ignore[no-untyped-def]
        role: str = "admin") -> dict:
    return service_ask(ctx, Caller(user, role, "cli"), question, patient_ref=patient_ref)

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
    ingest_knowledge(context.knowledge_deps)
    summary = ingest_paths(context.ingest_deps, [folder])
    assert summary.errors == [] and summary.documents == 2
    return context


def _patient_ids(result: dict) -> set:
    return {c["patient_id"] for c in result["citations"] if c["patient_id"]}


def test_answers_cite_only_the_scoped_patient(ctx) -> None:  # type: ignore[no-untyped-def]
    a = ctx.patients.resolve_patient(MBI_A).id
    b = ctx.patients.resolve_patient(MBI_B).id
    question = "Who manages the insulin pens?"
    for_b = ask(ctx, question, patient_ref=MBI_B)
    assert "Rosalind" in for_b["answer"] and _patient_ids(for_b) == {b}
    for_a = ask(ctx, question, patient_ref=MBI_A)
    assert "Rosalind" not in for_a["answer"] and _patient_ids(for_a) <= {a}
    assert "kitchen drawer" in for_a["answer"]
    # Without a patient, no patient text is searched at all.
    unscoped = ask(ctx, question)
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
        ask(ctx, "Who manages the insulin pens?", patient_ref="9ZZ9ZZ9ZZ99")


def test_api_enforces_the_panel_on_answers_and_sources(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.patients.assign_panel("nurse-bo", [ctx.patients.resolve_patient(MBI_B).id])
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app) as client:
        bo = bearer(ctx, "care_manager", "nurse-bo")
        denied = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_A},
                             headers=bo)
        assert denied.status_code == 403
        # The leak: a role named in the body chose the access rule. It now only chooses a view.
        smuggled = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_A,
                                                "role": "admin"}, headers=bo)
        assert smuggled.status_code == 403 and "Rosalind" not in smuggled.text
        allowed = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_B},
                              headers=bo)
        assert allowed.status_code == 200 and "Rosalind" in allowed.json()["answer"]
        chunk_id = next(c["chunk_id"] for c in allowed.json()["citations"] if c["patient_id"])
        assert client.get(f"/v1/sources/{chunk_id}", headers=bo).status_code == 200
        other = bearer(ctx, "care_manager", "nurse-cy")
        assert client.get(f"/v1/sources/{chunk_id}", headers=other).status_code == 403
        # Identity headers from a client that is not a configured trusted proxy are ignored: 401, not nurse-bo.
        spoofed = {"X-Caretrail-User": "nurse-bo", "X-Caretrail-Role": "admin"}
        assert client.get(f"/v1/sources/{chunk_id}", headers=spoofed).status_code == 401


def test_identity_headers_count_only_from_a_trusted_proxy(ctx) -> None:  # type: ignore[no-untyped-def]
    trusted = ctx.settings.model_copy(update={"trusted_proxies": "10.0.0.9, testclient"})
    app = create_app(trusted)
    app.dependency_overrides[get_ctx] = lambda: ctx
    ctx.authenticator.settings = trusted  # the proxy list is read from the context's settings
    try:
        with TestClient(app) as client:
            headers = {"X-Caretrail-User": "nurse-bo", "X-Caretrail-Role": "care_manager"}
            got = client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_B},
                              headers=headers)
            assert got.status_code == 200 and "Rosalind" in got.json()["answer"]
            from assistant.audit.log import audit_log_for

            row = audit_log_for(ctx).get(got.json()["audit_id"])
            assert row.user == "nurse-bo" and row.payload["caller"]["auth"] == "proxy"
            # The proxy vouches for the person; the panel still decides.
            assert client.post("/v1/ask", json={"question": "Who manages the insulin pens?", "patient_id": MBI_A},
                               headers=headers).status_code == 403
    finally:
        ctx.authenticator.settings = ctx.settings


def test_note_text_offsets_open_the_source_file(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = ask(ctx, "Who manages the insulin pens?", patient_ref=MBI_B)
    citation = next(c for c in result["citations"] if c["patient_id"])
    source_path = citation["source_uri"].split("#", 1)[0]
    text = Path(source_path).read_text(encoding="utf-8")
    assert text[citation["start"] : citation["end"]] == citation["quote"]
