"""Chunk and sentence offsets must open exactly the text they claim to hold."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.index.chunking import MAX_CHUNK_CHARS, chunk_knowledge_document, load_knowledge_document, sha256_text
from assistant.index.sentences import sentence_spans
from assistant.settings import REPO_ROOT

KNOWLEDGE = REPO_ROOT / "knowledge"


def test_every_knowledge_chunk_opens_its_exact_span() -> None:
    files = sorted(p for p in KNOWLEDGE.glob("*.md") if p.name != "README.md")
    assert len(files) >= 14
    for path in files:
        document = load_knowledge_document(path, f"knowledge/{path.name}")
        text = path.read_text(encoding="utf-8-sig")
        chunks = chunk_knowledge_document(document)
        assert chunks, path
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
            assert chunk.sha256 == sha256_text(chunk.text)
            assert len(chunk.text) <= MAX_CHUNK_CHARS
            assert chunk.start >= document.body_offset  # never the front matter
            assert "Sources" not in chunk.section.split(" > ")[-1:]


def test_sections_follow_headings(tmp_path: Path) -> None:
    path = tmp_path / "demo.md"
    path.write_text(
        "---\nid: demo\ntitle: Demo\nsource_urls: [https://example.org]\nversion: '1'\n---\n"
        "# Demo\n\nIntro line here.\n\n## First part\n\nAlpha sentence one. Beta sentence two.\n\n"
        "### Detail\n\nGamma detail.\n\n## Sources\n\n- https://example.org\n",
        encoding="utf-8",
    )
    chunks = chunk_knowledge_document(load_knowledge_document(path, "demo.md"))
    assert [c.section for c in chunks] == ["Demo", "First part", "First part > Detail"]
    assert [c.text for c in chunks] == ["Intro line here.", "Alpha sentence one. Beta sentence two.", "Gamma detail."]


def test_sentence_spans_split_prose_lists_and_keep_abbreviations() -> None:
    text = (
        "Code 99496 needs a visit within 7 days. Contact, e.g. a call, is due in 2 business days.\n"
        "- First bullet is a sentence.\n- Second bullet.\n\nDr. Smith saw the patient at 3 p.m. today.\n\n"
        "DISCHARGE SUMMARY\nDischarge date: 11/06/2026\nRed Flags:\nCall for fever over 38.3 C or new confusion.\n"
        "The patient was admitted with shortness of breath and leg swelling and was\ntreated with diuretics."
    )
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    assert pieces == [
        "Code 99496 needs a visit within 7 days.",
        "Contact, e.g. a call, is due in 2 business days.",
        "First bullet is a sentence.",
        "Second bullet.",
        "Dr. Smith saw the patient at 3 p.m. today.",
        "DISCHARGE SUMMARY",
        "Discharge date: 11/06/2026",
        "Red Flags:",
        "Call for fever over 38.3 C or new confusion.",
        "The patient was admitted with shortness of breath and leg swelling and was\ntreated with diuretics.",
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_sentence_spans_are_ordered_trimmed_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert 0 <= previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end
