"""Re-ingesting unchanged documents does nothing; a changed document replaces its chunks atomically."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.index.knowledge import ingest_knowledge
from assistant.index.tables import ChunkRow
from assistant.index.vectors import KNOWLEDGE
from assistant.retrieval.hybrid import Scope, search
from assistant.settings import REPO_ROOT, Settings


def _chunk_ids(ctx, doc_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    with Session(ctx.engine) as session:
        return set(session.scalars(select(ChunkRow.chunk_id).where(ChunkRow.doc_id == doc_id)))


def test_unchanged_is_skipped_and_changed_is_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name in ("tcm.md", "steadi-falls.md"):
        shutil.copy(REPO_ROOT / "knowledge" / name, knowledge / name)
    ctx = open_context(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))

    first = ingest_knowledge(ctx.knowledge_deps)
    assert (first.added, first.unchanged, first.errors) == (2, 0, [])
    vectors_before = ctx.vectors.count(KNOWLEDGE)
    ids_before = _chunk_ids(ctx, "tcm")

    second = ingest_knowledge(ctx.knowledge_deps)
    assert (second.added, second.replaced, second.unchanged, second.chunks) == (0, 0, 2, 0)
    assert ctx.vectors.count(KNOWLEDGE) == vectors_before
    assert _chunk_ids(ctx, "tcm") == ids_before

    path = knowledge / "tcm.md"
    marker = "Zebrafinch protocol note: the caretrail test marker sentence lives only in the edited copy."
    path.write_text(path.read_text(encoding="utf-8") + f"\n## Test marker\n\n{marker}\n", encoding="utf-8")
    third = ingest_knowledge(ctx.knowledge_deps)
    assert (third.replaced, third.unchanged) == (1, 1)
    ids_after = _chunk_ids(ctx, "tcm")
    assert ids_after != ids_before
    # Old chunks are gone from SQL and from Chroma; no vector is orphaned.
    with Session(ctx.engine) as session:
        total_rows = session.scalar(select(func.count()).select_from(ChunkRow))
    assert ctx.vectors.count(KNOWLEDGE) == total_rows
    assert set(ctx.vectors.ids_where(KNOWLEDGE, {"doc_id": "tcm"})) == ids_after
    hits = search(ctx.search_deps, "zebrafinch protocol marker", Scope(KNOWLEDGE), k=3)
    assert hits and marker in hits[0].text
