"""GET /v1/measures/report: the measures panel report (the side panel's charts); same contract as
`caretrail measures report --json`.

The route declares ``authenticated`` because the service decides what the caller sees: the care team its own panel
with the open gaps named, analysts every patient in counts and rates only, admins everyone; a role that may do
neither is refused (and audited) there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import authenticated, get_ctx
from assistant.context import AppContext
from assistant.services import measures
from assistant.services.caller import Caller

router = APIRouter(prefix="/v1", tags=["measures"])


@router.get("/measures/report")
def measures_report(
    as_of: date | None = Query(default=None, description="reference date; default today"),
    ctx: AppContext = Depends(get_ctx),
    caller: Caller = Depends(authenticated),
) -> dict[str, Any]:
    return measures.panel_report(ctx, caller, as_of)[1]
