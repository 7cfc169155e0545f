"""Answer a question with cited sentences: retrieve, compose, verify, return.

``answer`` is the engine: it sees only its dependencies (``AnswerDeps``), never the application context, and
it neither resolves patients, checks panels nor writes the audit; the caller does those, and must write the
audit row before showing the answer (no audit row, no answer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.citations.cited_text import cited_text
from assistant.citations.verify import verify_sentences
from assistant.compose.composer import COMPOSER_ID, SentenceVectorCache, compose
from assistant.errors import BadRequest
from assistant.index.embedder import Embedder
from assistant.index.vectors import KNOWLEDGE, PATIENT
from assistant.prompts import load_prompt
from assistant.retrieval.hybrid import Hit, Scope, SearchDeps, search, unknown_numbers

if TYPE_CHECKING:
    from assistant.llm.guard import GuardedLLM  # a type only: presidio and spaCy load only when a model is used

SCHEMA = "caretrail.ask/1"
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class AnswerDeps:
    """Everything ``answer`` reads, built by the application context (``ctx.answer_deps``)."""

    search: SearchDeps
    engine: Engine  # citation verification re-reads the cited chunk rows
    embedder: Embedder
    llm: GuardedLLM | None  # None: the deterministic composer writes every answer
    sentence_vectors: SentenceVectorCache  # the composer's answer-time sentence embeddings
    prompts_dir: Path
    abstain_threshold: float
    top_k: int


@dataclass(frozen=True)
class Answer:
    response: dict[str, Any]  # the caretrail.ask/1 contract without "audit_id", which the caller's audit row gives
    audit_payload: dict[str, Any]  # what the caller writes to the audit log as the "ask" event's payload


def checked_question(question: str | None) -> str:
    """The question stripped; empty or over-long questions are the caller's mistake (400), not a failed answer."""
    question = (question or "").strip()
    if not question:
        raise BadRequest("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadRequest(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    return question


def _citation(n: int, hit: Hit, start: int, end: int) -> dict[str, Any]:
    quote = hit.text[start - hit.start : end - hit.start]
    return {
        "n": n,
        "doc_id": hit.doc_id,
        "title": hit.title,
        "section": hit.section,
        "start": start,
        "end": end,
        "sha256": hashlib.sha256(quote.encode("utf-8")).hexdigest(),
        "quote": quote,
        "source_uri": hit.source_uri,
        "chunk_id": hit.chunk_id,
        "chunk_sha256": hit.sha256,
        "patient_id": hit.patient_id,
        "source_urls": list(hit.source_urls),
    }


def scopes_for(patient_id: str | None, knowledge: bool = True) -> list[Scope]:
    """What a question searches, in order: the patient's own chunks (when a patient is in scope), then the knowledge
    base, unless ``knowledge`` is False with a patient (a question about what her record says)."""
    scopes = [Scope(PATIENT, patient_id=patient_id)] if patient_id else []
    if knowledge or not patient_id:
        scopes.append(Scope(KNOWLEDGE))
    return scopes


def retrieve(deps: SearchDeps, question: str, patient_id: str | None, k: int,
             knowledge: bool = True) -> tuple[list[Hit], np.ndarray]:
    """Each scope's best chunks, in ``scopes_for`` order; one query vector."""
    vector = deps.embedder.embed_one(question)
    hits = [hit for scope in scopes_for(patient_id, knowledge)
            for hit in search(deps, question, scope, k=k, query_vector=vector)]
    return hits, vector


Draft = tuple[str, list[tuple[Hit, int, int]]]  # sentence text, (hit, start, end) per citation


def _composer_drafts(deps: AnswerDeps, question: str, vector: np.ndarray, hits: list[Hit],
                     patient_id: str | None) -> tuple[list[Draft], str, str]:
    prompt = load_prompt("answer/composer", prompts_dir=deps.prompts_dir)
    composition = compose(question, vector, hits, deps.embedder, deps.sentence_vectors, prompt,
                          deps.abstain_threshold, about_patient=patient_id is not None)
    drafts = [(c.text, [(c.hit, c.start, c.end)]) for c in composition.sentences]
    return drafts, prompt.ref, COMPOSER_ID


def _llm_drafts(llm: GuardedLLM, prompts_dir: Path, question: str, hits: list[Hit], patient_id: str | None,
                events: list[dict]) -> tuple[list[Draft], str, str] | None:
    """A model-written answer through the PHI guard; None (and an audited reason) when it cannot be had."""
    from assistant.compose.generated import generate_answer  # presidio and spaCy load only when a model is used
    from assistant.llm.base import BackendError
    from assistant.llm.guard import PHILeakRefused
    from assistant.redaction.vault import VaultError

    prompt = load_prompt("answer/llm", prompts_dir=prompts_dir)
    try:
        generation = generate_answer(llm, prompt, question, hits, patient_id, events.append)
    except (PHILeakRefused, BackendError, VaultError) as exc:  # a vault that will not open (key changed) included
        events.append({"event": "llm_fallback", "reason": str(exc)})
        return None
    return [(s.text, s.citations) for s in generation.sentences], prompt.ref, generation.model_id


def answer(deps: AnswerDeps, question: str, patient_id: str | None, role: str, knowledge: bool = True) -> Answer:
    """patient_id is already resolved to our internal id and access-checked by the caller; role is already
    normalized (answering does not depend on it today; it is part of the interface so that it can).
    ``knowledge=False`` (with a patient) answers from her record alone: the chat's record questions, where protocol
    sentences would only compete with hers for the answer and then be dropped.
    Validates the question (empty / too long -> assistant.errors.BadRequest), retrieves, composes, verifies
    citations. Does NOT resolve patients, check panels or write the audit."""
    question = checked_question(question)
    hits, vector = retrieve(deps.search, question, patient_id, deps.top_k, knowledge)
    missing_numbers = unknown_numbers(deps.search, question, scopes_for(patient_id, knowledge))
    if missing_numbers:
        hits = []  # nothing indexed mentions the code or number asked about: abstain rather than guess

    llm_events: list[dict] = []
    drafted = None
    if deps.llm is not None and hits:
        drafted = _llm_drafts(deps.llm, deps.prompts_dir, question, hits, patient_id, llm_events)
    if drafted is None:
        drafted = _composer_drafts(deps, question, vector, hits, patient_id)
    drafts, prompt_ref, model_id = drafted

    citations: list[dict[str, Any]] = []
    numbers: dict[tuple[str, int, int], int] = {}
    sentences: list[dict[str, Any]] = []
    for text, cited in drafts:
        refs = []
        for hit, start, end in cited:
            key = (hit.chunk_id, start, end)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(_citation(numbers[key], hit, start, end))
            refs.append(numbers[key])
        sentences.append({"text": text, "citations": refs})
    with Session(deps.engine) as session:
        kept, dropped = verify_sentences(session, sentences, citations)
    used = {n for sentence in kept for n in sentence["citations"]}
    citations = [c for c in citations if c["n"] in used]
    abstained = not kept
    abstain_message = load_prompt("answer/composer", prompts_dir=deps.prompts_dir)["abstain_message"]
    text = abstain_message if abstained else cited_text(kept)

    payload = {
        "question": question,
        "retrieved": [{"chunk_id": h.chunk_id, "sha256": h.sha256, "score": round(h.score, 6)} for h in hits],
        "prompt_version": prompt_ref,
        "model": model_id,
        "embedder": deps.embedder.model_id,
        "answer": text,
        "sentences": kept,
        "dropped_sentences": dropped,
        "citations": [{k: c[k] for k in ("n", "doc_id", "section", "start", "end", "sha256", "chunk_id")}
                      for c in citations],
        "abstained": abstained,
        "unknown_numbers": missing_numbers,
        "llm_events": llm_events,
    }
    response = {
        "schema": SCHEMA,
        "answer": text,
        "sentences": kept,
        "citations": citations,
        "abstained": abstained,
        "patient_id": patient_id,
    }
    return Answer(response=response, audit_payload=payload)

