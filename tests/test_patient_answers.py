"""Questions about one patient's discharge are answered from that patient's own discharge summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.ask import answer
from assistant.compose.composer import SentenceVectorCache, candidates
from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.knowledge import ingest_knowledge
from assistant.ingest.pipeline import ingest_paths
from assistant.prompts import load_prompt
from assistant.retrieval.hybrid import Hit
from assistant.settings import Settings

pytestmark = pytest.mark.slow  # generates and ingests a demo panel and indexes the knowledge base in its own data dir

QUESTIONS = {
    "Are any results pending?": "Pending Results",
    "What red flags should prompt a call?": "Red Flags",
    "When is the follow-up appointment?": "Follow-up",
    "Was home health or equipment ordered?": "Home Health/DME",
    "What are the discharge diagnoses?": "Discharge Diagnoses",
    # Asked as a person asks, not in the summary's words: "the patient" is whose record, not a topic.
    "Why did the patient go to the hospital?": "Hospital Course",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("demo")
    generate(30, 5, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    ctx = open_context(Settings(data_dir=tmp_path_factory.mktemp("demo-data")))
    ingest_knowledge(ctx.knowledge_deps)
    assert ingest_paths(ctx.ingest_deps, [out]).errors == []
    discharged = [p for p in manifest["patients"] if p.get("recent_discharge") and p.get("mbi")]
    assert len(discharged) >= 2
    return ctx, discharged


def test_discharge_questions_cite_the_patients_own_summary(demo) -> None:  # type: ignore[no-untyped-def]
    ctx, discharged = demo
    for person in discharged[:3]:
        patient = ctx.patients.resolve_patient(person["mbi"])
        for question, section in QUESTIONS.items():
            result = answer(ctx.answer_deps, question, patient.id, "care_manager").response
            assert result["patient_id"] == patient.id
            assert not result["abstained"], (person["name"], question)
            first = result["citations"][0]
            assert first["patient_id"] == patient.id, (question, first["section"])
            own_sections = [c["section"] for c in result["citations"] if c["patient_id"] == patient.id]
            assert section in own_sections, (question, own_sections, result["answer"])
            assert all(c["patient_id"] in (None, patient.id) for c in result["citations"])


def test_a_question_about_her_notes_is_answered_from_them_and_not_with_their_date(demo) -> None:  # type: ignore[no-untyped-def]
    """The chat's record questions are composed from her record alone, and "Date: 10/01/2026", the line that heads
    a care manager's note and sits close to any question about it, answers only a question about when."""
    ctx, discharged = demo
    answered = 0
    for person in discharged[:3]:
        patient = ctx.patients.resolve_patient(person["mbi"])
        result = answer(ctx.answer_deps, "What did the care manager write after the last call?", patient.id,
                        "care_manager", knowledge=False).response
        assert not any(s["text"].startswith("Date:") for s in result["sentences"]), result["answer"]
        assert all(c["patient_id"] == patient.id for c in result["citations"])  # her record, never the protocols
        if not result["abstained"]:  # abstaining is allowed (the note's lines are far from the words asked)
            answered += 1
            assert any(c["title"] == "Care management note" for c in result["citations"]), result["answer"]
    assert answered >= 1


class _RecordingEmbedder:
    """Stands in for the model: "Pending" in the embedded string points one way, anything else the other."""

    dimension = 2

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.array([[1.0, 0.0] if "Pending" in text else [0.0, 1.0] for text in texts], dtype=np.float32)


def _record_hit(chunk_id: str, section: str, text: str) -> Hit:
    return Hit(chunk_id=chunk_id, doc_id="d", collection="patient", patient_id="p", title="Discharge Summary",
               section=section, source_uri="d.json#x", start=0, end=len(text), text=text, sha256="same-text",
               source_urls=(), sentence_spans=((0, len(text)),), sentence_vectors=None, score=1.0)


def test_answer_time_sentence_vectors_are_kept_per_heading() -> None:
    """The same terse line under two headings is embedded with each heading, so the two must not share vectors
    even though their text (and its hash) is the same; asked again, both come from the cache."""
    text = "None at the time of discharge."
    hits = [_record_hit("a", "Pending Results", text), _record_hit("b", "Home Health/DME", text)]
    embedder, cache = _RecordingEmbedder(), SentenceVectorCache()
    prompt = load_prompt("answer/composer")
    question = np.array([1.0, 0.0], dtype=np.float32)
    for _ in range(2):
        found = {c.hit.chunk_id: c.similarity for c in candidates("results", question, hits, embedder, cache, prompt)}
        assert found == {"a": 1.0, "b": 0.0}
    assert embedder.embedded == [f"Pending Results: {text}", f"Home Health/DME: {text}"]
