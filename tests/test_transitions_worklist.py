"""The stored open-episode worklist on SQLite and on the loopback PostgreSQL: rows computed once and read with one
sorted, limited query; new records found without an explicit sync; a visit ingested later changes the row; the
next day needs no recomputation but counts overdue items again; the caller's panel only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.audit.log import audit_log_for
from assistant.ingest.pipeline import ingest_paths
from assistant.services import transitions
from assistant.services.caller import Caller
from evals.transitions import build_scenarios as b
from tests.helpers import knowledge_context

ADMIN = Caller("ops", "admin", "cli")
CM = Caller("wl-cm", "care_manager", "cli")
# (MBI, discharge) on 2026-11-16 (Mon) to 11-20 (Fri): contact deadlines 11-18 .. 11-24.
DISCHARGES = [("1WK1AA1AA11", "20261120100000"), ("2WK2AA2AA22", "20261116100000"),
              ("3WK3AA3AA33", "20261118100000"), ("4WK4AA4AA44", "20261117100000")]  # fmt: skip


def _a03(mbi: str, discharged: str) -> str:
    return b.adt("A03", f"C-{mbi}", f"{mbi}^^^CMS^MB", f"Worklist^{mbi}^^^^^L||19400101|F", f"V-{mbi}", discharged,
                 discharged)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, knowledge_ctx: Any, tmp_path: Path) -> Iterator[Any]:
    with knowledge_context(request.param, knowledge_ctx, tmp_path / "data", "transitions") as context:
        yield context


def test_stored_worklist_on_sqlite_and_postgres(store: Any, tmp_path: Path) -> None:
    ctx = store
    folder = tmp_path / "adt"
    folder.mkdir()
    for mbi, discharged in DISCHARGES:
        (folder / f"{mbi}.hl7").write_text(_a03(mbi, discharged), encoding="utf-8")
    assert ingest_paths(ctx.ingest_deps, [folder]).errors == []  # no episodes.sync: the worklist catches up
    ids = {mbi: ctx.patients.resolve_patient(mbi).id for mbi, _ in DISCHARGES}
    ctx.patients.assign_panel(CM.user, [ids[m] for m, _ in DISCHARGES[:3]])
    day = date(2026, 11, 20)

    first = transitions.worklist(ctx, CM, "open", day, limit=2)
    assert first["total"] == 3 and [e["mbi"] for e in first["episodes"]] == ["2WK2AA2AA22", "3WK3AA3AA33"]
    assert [e["next_due"] for e in first["episodes"]] == ["2026-11-18", "2026-11-20"]
    assert first["episodes"][0]["overdue_items"] > 0 and first["episodes"][0]["next_item"] == "tcm-contact"
    row = audit_log_for(ctx).get(first["audit_id"])
    assert row is not None and row.payload["recomputed"] == 3 and row.payload["total"] == 3
    rest = transitions.worklist(ctx, CM, "open", day, limit=2, offset=2)
    assert [e["mbi"] for e in rest["episodes"]] == ["1WK1AA1AA11"]
    again = transitions.worklist(ctx, CM, "open", day)
    assert audit_log_for(ctx).get(again["audit_id"]).payload["recomputed"] == 0  # a query now
    everyone = transitions.worklist(ctx, ADMIN, "open", day)
    assert everyone["total"] == 4 and "4WK4AA4AA44" in {e["mbi"] for e in everyone["episodes"]}

    # A visit for the Monday discharge arrives later, through plain ingest: its row is recomputed.
    mbi = "2WK2AA2AA22"
    visit = b.bundle(b.patient("wl-visit", mbi, "Worklist", mbi),
                     b.encounter("wl-office", "wl-visit", "AMB", "2026-11-19T09:00:00-05:00",
                                 "2026-11-19T09:30:00-05:00"))  # fmt: skip
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(visit), encoding="utf-8")
    assert ingest_paths(ctx.ingest_deps, [path]).errors == []
    after = transitions.worklist(ctx, CM, "open", day)
    assert audit_log_for(ctx).get(after["audit_id"]).payload["recomputed"] == 1
    entry = next(e for e in after["episodes"] if e["mbi"] == mbi)
    assert entry["next_item"] != "tcm-contact"  # the visit counts as the interactive contact and the TCM visit
    checklist = transitions.checklist(ctx, CM, mbi, as_of=day)
    assert {i["id"]: i["status"] for i in checklist["items"]}["tcm-visit"] == "done"

    # The next day: nothing to recompute, more items overdue.
    later = transitions.worklist(ctx, CM, "open", date(2026, 11, 25))
    assert audit_log_for(ctx).get(later["audit_id"]).payload["recomputed"] == 0
    today = {e["mbi"]: e["overdue_items"] for e in after["episodes"]}
    tomorrow = {e["mbi"]: e["overdue_items"] for e in later["episodes"]}
    assert tomorrow["1WK1AA1AA11"] > today["1WK1AA1AA11"]
    # Thirty days on, the episodes are past the TCM service period: closed, not open.
    month = date(2026, 12, 20)
    assert transitions.worklist(ctx, CM, "open", month)["total"] == 0
    assert transitions.worklist(ctx, CM, "closed", month)["total"] == 3
