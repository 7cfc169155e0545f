"""Questions about one patient's discharge are answered from that patient's own discharge summary."""

from __future__ import annotations

import json

import pytest

from assistant.ask import ask
from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.settings import Settings

QUESTIONS = {
    "Are any results pending?": "Pending Results",
    "What red flags should prompt a call?": "Red Flags",
    "When is the follow-up appointment?": "Follow-up",
    "Was home health or equipment ordered?": "Home Health/DME",
    "What are the discharge diagnoses?": "Discharge Diagnoses",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("demo")
    generate(30, 5, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    ctx = open_context(Settings(data_dir=tmp_path_factory.mktemp("demo-data")))
    ingest_knowledge(ctx)
    assert ingest_paths(ctx, [out]).errors == []
    discharged = [p for p in manifest["patients"] if p.get("recent_discharge") and p.get("mbi")]
    assert len(discharged) >= 2
    return ctx, discharged


def test_discharge_questions_cite_the_patients_own_summary(demo) -> None:  # type: ignore[no-untyped-def]
    ctx, discharged = demo
    for person in discharged[:3]:
        patient = ctx.patients.resolve_patient(person["mbi"])
        for question, section in QUESTIONS.items():
            result = ask(ctx, question, patient_ref=person["mbi"], role="admin")
            assert not result["abstained"], (person["name"], question)
            first = result["citations"][0]
            assert first["patient_id"] == patient.id, (question, first["section"])
            own_sections = [c["section"] for c in result["citations"] if c["patient_id"] == patient.id]
            assert section in own_sections, (question, own_sections, result["answer"])
            assert all(c["patient_id"] in (None, patient.id) for c in result["citations"])
