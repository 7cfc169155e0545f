"""Liveness and a small readiness summary."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.api.deps import get_ctx, public
from assistant.context import AppContext
from assistant.index.tables import KnowledgeDocumentRow

router = APIRouter(tags=["health"], dependencies=[Depends(public)])


@router.get("/healthz")
def healthz(ctx: AppContext = Depends(get_ctx)) -> dict:
    with Session(ctx.engine) as session:
        documents = session.scalar(select(func.count()).select_from(KnowledgeDocumentRow)) or 0
    return {"status": "ok", "knowledge_documents": int(documents), "llm_backend": ctx.settings.llm_backend}
