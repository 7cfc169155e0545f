"""GET /v1/sources/{chunk_id}: open a citation, with the surrounding source text for context."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.api.deps import Caller, get_caller, get_ctx
from assistant.context import AppContext
from assistant.index.tables import ChunkRow

router = APIRouter(prefix="/v1", tags=["sources"])


@router.get("/sources/{chunk_id:path}")
def open_source(
    chunk_id: str,
    start: int | None = Query(default=None, ge=0),
    end: int | None = Query(default=None, ge=0),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(get_caller),
) -> dict:
    with Session(ctx.engine) as session:
        row = session.scalars(select(ChunkRow).where(ChunkRow.chunk_id == chunk_id)).first()
        if row is None:
            raise HTTPException(status_code=404, detail=f"no indexed source span {chunk_id!r}")
        if row.patient_id and not ctx.patients.can_access(caller.user, caller.role, row.patient_id):
            raise HTTPException(status_code=403, detail="this source belongs to a patient outside your panel")
        start = row.start if start is None else start
        end = row.end if end is None else end
        if not (row.start <= start <= end <= row.end):
            raise HTTPException(status_code=400, detail=f"offsets must lie within {row.start}-{row.end}")
        return {
            "chunk_id": row.chunk_id,
            "doc_id": row.doc_id,
            "title": row.title,
            "section": row.section,
            "source_uri": row.source_uri,
            "chunk_start": row.start,
            "chunk_end": row.end,
            "text": row.text,
            "highlight": {"start": start - row.start, "end": end - row.start},
            "sha256": row.sha256,
            "source_urls": list((row.meta or {}).get("source_urls", [])),
        }
