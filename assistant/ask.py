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
from assistant.retrieval.hybrid import Hit, Scope, search
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
    prompt = load_prompt("answer/composer", prompts_dir=ctx.settings.prompts_dir)
    hits, vector = retrieve(ctx, question, patient_id, ctx.settings.top_k)
    composition = compose(question, vector, hits, ctx.embedder, prompt, ctx.settings.abstain_threshold)

    citations: list[dict[str, Any]] = []
    sentences: list[dict[str, Any]] = []
    for candidate in composition.sentences:
        citation = _citation(len(citations) + 1, candidate.hit, candidate.start, candidate.end)
        citations.append(citation)
        sentences.append({"text": candidate.text, "citations": [citation["n"]]})
    with Session(ctx.engine) as session:
        kept, dropped = verify_sentences(session, sentences, citations)
    used = {n for sentence in kept for n in sentence["citations"]}
    citations = [c for c in citations if c["n"] in used]
    abstained = not kept
    answer = prompt["abstain_message"] if abstained else " ".join(
        f"{s['text']} " + "".join(f"[{n}]" for n in s["citations"]) for s in kept
    )

    payload = {
        "question": question,
        "retrieved": [{"chunk_id": h.row.chunk_id, "sha256": h.row.sha256, "score": round(h.score, 6)} for h in hits],
        "prompt_version": prompt.ref,
        "model": COMPOSER_ID,
        "embedder": ctx.embedder.model_id,
        "answer": answer,
        "sentences": kept,
        "dropped_sentences": dropped,
        "citations": [{k: c[k] for k in ("n", "doc_id", "section", "start", "end", "sha256", "chunk_id")}
                      for c in citations],
        "abstained": abstained,
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
