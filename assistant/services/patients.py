"""A patient's summary, the caller's panel, store-wide counts and the roster audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from assistant.context import AppContext
from assistant.records.roster import audit as roster_report
from assistant.services import policy
from assistant.services.access import audit, open_patient, require
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.policy import Action

SCHEMA = "caretrail.patient/1"


def view_patient(ctx: AppContext, caller: Caller, ref: str) -> dict[str, Any]:
    row = open_patient(ctx, caller, ref)
    store = ctx.patients
    counts: dict[str, int] = {}
    for record in store.patient_records(row.id):
        counts[record.kind] = counts.get(record.kind, 0) + 1
    sources = [
        {"document_id": doc_id, "source_path": p.provenance.source_path, "format": p.provenance.format,
         "locator": p.provenance.locator}
        for doc_id, p in store.patient_sources(row.id)
    ]
    audit_id = audit(ctx, caller, "patient.view", row.id, {"record_counts": counts})
    return {
        "schema": SCHEMA,
        "audit_id": audit_id,
        "patient": {**row.model_dump(mode="json"), "name": row.name, "mbi": row.mbi},
        "record_counts": counts,
        "sources": sources,
    }


def panel_patient_ids(ctx: AppContext, caller: Caller) -> set[str] | None:
    """The ids on the caller's panel, or None when the caller reaches every patient."""
    if policy.reaches_every_patient(caller):
        return None
    if caller.panel.patient_ids is not None:
        return set(caller.panel.patient_ids)
    return ctx.patients.assigned_patient_ids(caller.user) | ctx.patients.derived_patient_ids(caller.user)


def list_panel(ctx: AppContext, caller: Caller, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The caller's patients (names and ids) for the side panel's picker; audited as a read of PHI."""
    require(ctx, caller, Action.LIST_PANEL)
    ids = panel_patient_ids(ctx, caller)
    rows = ctx.patients.list_patients(limit=limit, offset=offset, patient_ids=ids)
    audit_id = audit(ctx, caller, "panel.list", None, {"returned": len(rows), "offset": offset})
    return {
        "audit_id": audit_id,
        "patients": [{"id": r.id, "name": r.name, "birth_date": r.birth_date, "mbi": r.mbi} for r in rows],
    }


def aggregates(ctx: AppContext, caller: Caller) -> dict[str, Any]:
    require(ctx, caller, Action.READ_AGGREGATES)
    counts = ctx.patients.counts()
    audit_id = audit(ctx, caller, "aggregates.read", None, {"counts": counts})
    return {"counts": counts, "audit_id": audit_id}


def roster_audit(ctx: AppContext, caller: Caller, as_of: date | None = None) -> dict[str, Any]:
    require(ctx, caller, Action.ROSTER_AUDIT)
    report = roster_report(ctx.patients, reference_day(as_of) if as_of else None)  # None: the roster's UTC today
    audit_id = audit(ctx, caller, "roster.audit", None, {"counts": report.counts, "as_of": report.as_of})
    return {**report.to_dict(), "audit_id": audit_id}
