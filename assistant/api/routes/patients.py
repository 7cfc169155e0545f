"""GET /v1/patients/{ref} and GET /v1/roster/audit.

``ref`` may be our internal id, a source system's Patient id (FHIR ``Patient.id``), an MBI (any case,
with or without dashes) or an explicit key such as ``mrn|HOSP-A|12345``. Who is asking comes from
``assistant.api.deps.get_caller``; a patient outside the caller's panel is refused. Both reads of PHI
are written to the audit log (ids and counts only, never the record contents).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from assistant.api.deps import Caller, get_caller, get_ctx
from assistant.audit.log import audit_log_for
from assistant.context import AppContext
from assistant.records.roster import audit

router = APIRouter(prefix="/v1", tags=["patients"])

ROSTER_ROLES = {"admin", "analyst"}  # the roster audit lists every attributed beneficiary


@router.get("/patients/{ref:path}")
def get_patient(ref: str, ctx: AppContext = Depends(get_ctx), caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    store = ctx.patients
    ids = store.find_patient_ids(ref)
    shown = ref if len(ref) <= 80 else ref[:80] + "..."
    if not ids:
        raise HTTPException(
            status_code=404, detail=f"no patient matches {shown!r} (internal id, source id, MBI or key)"
        )
    if len(ids) > 1:
        raise HTTPException(
            status_code=409,
            detail=f"{shown!r} matches {len(ids)} patients; use an explicit key (fhir|{shown}) or the internal id",
        )
    patient_id = ids[0]
    if not store.can_access(caller.user, caller.role, patient_id):
        raise HTTPException(status_code=403, detail="this patient is not on your panel")
    row = store.get_patient(patient_id)
    if row is None:  # removed between the two reads
        raise HTTPException(status_code=404, detail=f"no patient matches {shown!r}")
    counts: dict[str, int] = {}
    for record in store.patient_records(patient_id):
        counts[record.kind] = counts.get(record.kind, 0) + 1
    audit_id = audit_log_for(ctx).append(
        "patient.view", caller.user, caller.role, patient_id, {"record_counts": counts}
    )
    return {
        "schema": "caretrail.patient/1",
        "audit_id": audit_id,
        "patient": {**row.model_dump(mode="json"), "name": row.name, "mbi": row.mbi},
        "record_counts": counts,
        "sources": [
            {
                "document_id": doc_id,
                "source_path": p.provenance.source_path,
                "format": p.provenance.format,
                "locator": p.provenance.locator,
            }
            for doc_id, p in store.patient_sources(patient_id)
        ],
    }


@router.get("/roster/audit")
def roster_audit(
    as_of: date | None = Query(default=None, description="reference date for the 12-month inactivity check"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(get_caller),
) -> dict[str, Any]:
    if caller.role not in ROSTER_ROLES:
        raise HTTPException(status_code=403, detail="the roster audit needs the admin or analyst role")
    report = audit(ctx.patients, as_of)
    audit_id = audit_log_for(ctx).append("roster.audit", caller.user, caller.role, None, {"counts": report.counts})
    return {**report.to_dict(), "audit_id": audit_id}
