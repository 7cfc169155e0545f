"""Opening a citation: the cited span with its surrounding text. A patient's span is a read of PHI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound
from assistant.index.tables import ChunkRow
from assistant.services.access import audit, check_patient, require
from assistant.services.caller import Caller
from assistant.services.policy import Action


def open_source(ctx: AppContext, caller: Caller, chunk_id: str, start: int | None = None,
                end: int | None = None) -> dict[str, Any]:
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    with Session(ctx.engine) as session:
        row = session.scalars(select(ChunkRow).where(ChunkRow.chunk_id == chunk_id)).first()
        if row is None:
            raise NotFound(f"no indexed source span {chunk_id[:120]!r}")
        session.expunge(row)
    if row.patient_id:
        check_patient(ctx, caller, row.patient_id)
    start = row.start if start is None else start
    end = row.end if end is None else end
    if not (row.start <= start <= end <= row.end):
        raise BadRequest(f"offsets must lie within {row.start}-{row.end}")
    opened = {
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
    if row.patient_id:
        opened["audit_id"] = audit(ctx, caller, "source.open", row.patient_id,
                                   {"chunk_id": row.chunk_id, "doc_id": row.doc_id, "start": start, "end": end})
    return opened
