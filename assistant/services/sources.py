"""Opening a citation: the cited span with its surrounding text. A patient's span is a read of PHI.

A record citation (an answer from the structured record) carries ``record:<document>/<kind>/<id>`` as its chunk id
and opens here the same way: the stored record (or the narrative section) with the cited span marked, and the
excerpt of the source file it was read from (``assistant.record_answers.opening``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound
from assistant.index.tables import ChunkRow
from assistant.record_answers.opening import is_record_ref, open_record
from assistant.services.access import audit, check_patient, require
from assistant.services.caller import Caller
from assistant.services.policy import Action


def open_source(ctx: AppContext, caller: Caller, chunk_id: str, start: int | None = None,
                end: int | None = None) -> dict[str, Any]:
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    if is_record_ref(chunk_id):
        return _open_record(ctx, caller, chunk_id, start, end)
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


def _open_record(ctx: AppContext, caller: Caller, ref: str, start: int | None, end: int | None) -> dict[str, Any]:
    """A record citation opened: the caller must see the record's patient; audited as a read of PHI."""
    opened = open_record(ctx.patients.engine, ref)
    if opened is None:
        raise NotFound(f"no stored record {ref[:160]!r}")
    if opened.patient_id:
        check_patient(ctx, caller, opened.patient_id)
    first, last = opened.base, opened.base + len(opened.text)
    start = first if start is None else start
    end = last if end is None else end
    if not (first <= start <= end <= last):
        raise BadRequest(f"offsets must lie within {first}-{last}")
    provenance = opened.payload.get("provenance") or {}
    result = {
        "chunk_id": opened.ref,
        "doc_id": opened.document_id,
        "title": f"{opened.kind} {opened.record_id}",
        "section": provenance.get("locator"),
        "source_uri": f"{provenance.get('source_path')}#{provenance.get('locator')}",
        "chunk_start": first,
        "chunk_end": last,
        "text": opened.text,
        "highlight": {"start": start - first, "end": end - first},
        "sha256": opened.sha256,
        "source_urls": [],
        "record": opened.payload,
        "source_excerpt": opened.source,
        "source_note": opened.source_note,
    }
    if opened.patient_id:
        result["audit_id"] = audit(ctx, caller, "source.open", opened.patient_id,
                                   {"record": opened.ref, "kind": opened.kind, "start": start, "end": end})
    return result
