"""What changes when records change: transition episodes and stored guidance for the patients an ingest touched.

Why here and not in ingest: ingest is a lower layer and knows nothing of the engines above it; it reports which
patients it wrote (``IngestSummary.patient_ids``), and the front doors that ingest (the CLI, the ADT listener,
setup) call this, so a worklist after an ingest is already a query. Nothing is returned to a person, so nothing
is audited here; the reads that later show these results are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from assistant.context import AppContext
from assistant.guidance.citations import MissingKnowledge
from assistant.guidance.worklist import refresh
from assistant.transitions.episodes import sync


def records_changed(ctx: AppContext, patient_ids: Iterable[str], as_of: date | None = None) -> str | None:
    """Re-derive episodes and recompute guidance for these patients. Returns None, or why guidance could not be
    computed yet (no knowledge base indexed: its citations would be missing); the records themselves are stored
    either way, and the next worklist read recomputes whatever is stale."""
    ids = sorted(set(patient_ids))
    if not ids:
        return None
    sync(ctx.engine, set(ids))
    try:
        refresh(ctx.patients, ctx.engine, ctx.roster_cache, ids, as_of or date.today())
    except MissingKnowledge as exc:
        return f"guidance not computed yet: {exc}"
    return None
