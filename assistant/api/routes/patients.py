"""Patients: the caller's panel, one patient's summary, store-wide counts and the roster audit.

``ref`` may be our internal id, a source system's Patient id (FHIR ``Patient.id``), an MBI (any case,
with or without dashes) or an explicit key such as ``mrn|HOSP-A|12345``. Who may see what is decided in
the service layer; every read is audited there (ids and counts only, never the record contents).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import get_ctx, requires
from assistant.context import AppContext
from assistant.services import patients
from assistant.services.caller import Caller
from assistant.services.policy import Action

router = APIRouter(prefix="/v1", tags=["patients"])


@router.get("/patients")
def list_patients(
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.LIST_PANEL)),
) -> dict[str, Any]:
    return patients.list_panel(ctx, caller, limit, offset)


@router.get("/patients/{ref:path}")
def get_patient(ref: str, ctx: AppContext = Depends(get_ctx),
                caller: Caller = Depends(requires(Action.READ_PATIENT))) -> dict[str, Any]:
    return patients.view_patient(ctx, caller, ref)


@router.get("/stats")
def stats(ctx: AppContext = Depends(get_ctx),
          caller: Caller = Depends(requires(Action.READ_AGGREGATES))) -> dict[str, Any]:
    return patients.aggregates(ctx, caller)


@router.get("/roster/audit")
def roster_audit(
    as_of: date | None = Query(default=None, description="reference date for the 12-month inactivity check"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(requires(Action.ROSTER_AUDIT)),
) -> dict[str, Any]:
    return patients.roster_audit(ctx, caller, as_of)
