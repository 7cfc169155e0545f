"""Knowledge citations for guidance, in the ask contract's shape: the exact sentence a rule rests on.

A rule names its knowledge document and the sentence that defines the step, copied from the file. The sentence is
found in the indexed chunk of that document, so the citation's offsets open exactly that text in the source. A
sentence no longer in the knowledge base raises: a rule must never cite text that is not there.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.errors import CaretrailError
from assistant.index.tables import ChunkRow


class MissingKnowledge(CaretrailError):
    """The cited sentence is not in the indexed knowledge base (edited, or not ingested): no uncited item is shown,
    and the caller is told what to fix (503, the server stays up)."""

    status_code = 503


def knowledge_span(engine: Engine, doc_id: str, sentence: str) -> dict[str, Any]:
    with Session(engine) as session:
        rows = session.scalars(
            select(ChunkRow).where(ChunkRow.collection == "knowledge", ChunkRow.doc_id == doc_id)
            .order_by(ChunkRow.start)
        ).all()
    for row in rows:
        offset = row.text.find(sentence)
        if offset < 0:
            continue
        start = row.start + offset
        return {
            "doc_id": row.doc_id, "title": row.title, "section": row.section, "start": start,
            "end": start + len(sentence), "sha256": hashlib.sha256(sentence.encode("utf-8")).hexdigest(),
            "quote": sentence, "source_uri": row.source_uri, "chunk_id": row.chunk_id, "chunk_sha256": row.sha256,
            "patient_id": None, "source_urls": list((row.meta or {}).get("source_urls", [])),
        }
    raise MissingKnowledge(f"knowledge/{doc_id}.md does not contain the cited sentence {sentence[:60]!r}: "
                           "run `caretrail setup` to index the knowledge base")
