"""Answer a question with cited sentences: retrieve, compose, verify, audit, return.

The audit row is written before the answer is returned; if it cannot be written, no answer is given.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from assistant.audit.log import audit_log_for
from assistant.citations.verify import verify_sentences
from assistant.compose.composer import COMPOSER_ID, compose
from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound, PermissionDenied
from assistant.index.vectors import KNOWLEDGE, PATIENT
from assistant.prompts import load_prompt
from assistant.retrieval.hybrid import Hit, Scope, search, unknown_numbers
from assistant.roles import normalize_role

SCHEMA = "caretrail.ask/1"
MAX_QUESTION_CHARS = 2000


def _citation(n: int, hit: Hit, start: int, end: int) -> dict[str, Any]:
    row = hit.row
    quote = row.text[start - row.start : end - row.start]
    return {
        "n": n,
        "doc_id": row.doc_id,
        "title": row.title,
        "section": row.section,
        "start": start,
        "end": end,
        "sha256": hashlib.sha256(quote.encode("utf-8")).hexdigest(),
        "quote": quote,
        "source_uri": row.source_uri,
        "chunk_id": row.chunk_id,
        "chunk_sha256": row.sha256,
        "patient_id": row.patient_id,
        "source_urls": list((row.meta or {}).get("source_urls", [])),
    }


def resolve_scope_patient(ctx: AppContext, patient_ref: str | None, user: str, role: str) -> str | None:
    if not patient_ref:
        return None
    patient = ctx.patients.resolve_patient(patient_ref)
    if patient is None:
        raise NotFound(f"no patient matches {patient_ref!r} (internal id, source Patient id or MBI)")
    if not ctx.patients.can_access(user, role, patient.id):
        raise PermissionDenied(f"patient {patient_ref!r} is not on the panel of user {user!r}")
    return patient.id


def retrieve(ctx: AppContext, question: str, patient_id: str | None, k: int) -> tuple[list[Hit], Any]:
    vector = ctx.embedder.embed_one(question)
    hits = search(ctx, question, Scope(KNOWLEDGE), k=k, query_vector=vector)
    if patient_id:
        hits = search(ctx, question, Scope(PATIENT, patient_id=patient_id), k=k, query_vector=vector) + hits
    return hits, vector


Draft = tuple[str, list[tuple[Hit, int, int]]]  # sentence text, (hit, start, end) per citation


def _composer_drafts(ctx: AppContext, question: str, vector: Any, hits: list[Hit]) -> tuple[list[Draft], str, str]:
    prompt = load_prompt("answer/composer", prompts_dir=ctx.settings.prompts_dir)
    composition = compose(question, vector, hits, ctx.embedder, prompt, ctx.settings.abstain_threshold)
    drafts = [(c.text, [(c.hit, c.start, c.end)]) for c in composition.sentences]
    return drafts, prompt.ref, COMPOSER_ID


def _llm_drafts(ctx: AppContext, question: str, hits: list[Hit], patient_id: str | None,
                events: list[dict]) -> tuple[list[Draft], str, str] | None:
    """A model-written answer through the PHI guard; None (and an audited reason) when it cannot be had."""
    from assistant.compose.generated import generate_answer  # presidio and spaCy load only when a model is used
    from assistant.llm.base import BackendError
    from assistant.llm.guard import PHILeakRefused

    prompt = load_prompt("answer/llm", prompts_dir=ctx.settings.prompts_dir)
    try:
        generation = generate_answer(ctx.llm, prompt, question, hits, patient_id, events.append)
    except (PHILeakRefused, BackendError) as exc:
        events.append({"event": "llm_fallback", "reason": str(exc)})
        return None
    return [(s.text, s.citations) for s in generation.sentences], prompt.ref, generation.model_id


def ask(ctx: AppContext, question: str, patient_ref: str | None = None, role: str | None = None,
        user: str = "local") -> dict[str, Any]:
    question = (question or "").strip()
    if not question:
        raise BadRequest("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadRequest(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    try:
        role = normalize_role(role)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    patient_id = resolve_scope_patient(ctx, patient_ref, user, role)
    hits, vector = retrieve(ctx, question, patient_id, ctx.settings.top_k)
    scopes = [Scope(KNOWLEDGE)] + ([Scope(PATIENT, patient_id=patient_id)] if patient_id else [])
    missing_numbers = unknown_numbers(ctx, question, scopes)
    if missing_numbers:
        hits = []  # nothing indexed mentions the code or number asked about: abstain rather than guess

    llm_events: list[dict] = []
    drafted = None
    if ctx.llm is not None and hits:
        drafted = _llm_drafts(ctx, question, hits, patient_id, llm_events)
    if drafted is None:
        drafted = _composer_drafts(ctx, question, vector, hits)
    drafts, prompt_ref, model_id = drafted

    citations: list[dict[str, Any]] = []
    numbers: dict[tuple[str, int, int], int] = {}
    sentences: list[dict[str, Any]] = []
    for text, cited in drafts:
        refs = []
        for hit, start, end in cited:
            key = (hit.row.chunk_id, start, end)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(_citation(numbers[key], hit, start, end))
            refs.append(numbers[key])
        sentences.append({"text": text, "citations": refs})
    with Session(ctx.engine) as session:
        kept, dropped = verify_sentences(session, sentences, citations)
    used = {n for sentence in kept for n in sentence["citations"]}
    citations = [c for c in citations if c["n"] in used]
    abstained = not kept
    abstain_message = load_prompt("answer/composer", prompts_dir=ctx.settings.prompts_dir)["abstain_message"]
    answer = abstain_message if abstained else " ".join(
        f"{s['text']} " + "".join(f"[{n}]" for n in s["citations"]) for s in kept
    )

    payload = {
        "question": question,
        "retrieved": [{"chunk_id": h.row.chunk_id, "sha256": h.row.sha256, "score": round(h.score, 6)} for h in hits],
        "prompt_version": prompt_ref,
        "model": model_id,
        "embedder": ctx.embedder.model_id,
        "answer": answer,
        "sentences": kept,
        "dropped_sentences": dropped,
        "citations": [{k: c[k] for k in ("n", "doc_id", "section", "start", "end", "sha256", "chunk_id")}
                      for c in citations],
        "abstained": abstained,
        "unknown_numbers": missing_numbers,
        "llm_events": llm_events,
    }
    audit_id = audit_log_for(ctx).append("ask", user, role, patient_id, payload)
    return {
        "schema": SCHEMA,
        "answer": answer,
        "sentences": kept,
        "citations": citations,
        "abstained": abstained,
        "audit_id": audit_id,
        "patient_id": patient_id,
    }
