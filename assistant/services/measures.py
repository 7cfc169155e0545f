"""The measures panel report, for whoever may see it: the care team over its panel with the open gaps named,
analysts over every patient in counts and rates only (a gap names a patient), admins over everyone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from assistant.context import AppContext
from assistant.measures.engine import MEASURES, TITLES, evaluate, patient_data
from assistant.measures.period import calendar_year
from assistant.measures.report import PanelReport, summarize
from assistant.services import policy
from assistant.services.access import audit, deny
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.patients import panel_patient_ids
from assistant.services.policy import Action

NOTE = "Computed from the records on file; CMS computes the official rates from claims and QRDA submissions."


def _patient_ids(ctx: AppContext, caller: Caller, named: bool) -> list[str]:
    scope = panel_patient_ids(ctx, caller) if named else None
    rows = ctx.patients.list_patients(limit=10_000_000, patient_ids=scope)
    return [row.id for row in rows]


def panel_report(ctx: AppContext, caller: Caller, as_of: date | None = None) -> tuple[PanelReport, dict[str, Any]]:
    """(report, JSON body with its audit id). Gaps are listed only for callers who may read those patients."""
    named = policy.allows(caller.role, Action.READ_PATIENT)
    if not named and not policy.allows(caller.role, Action.READ_AGGREGATES):
        deny(ctx, caller, Action.READ_AGGREGATES, None, f"the {caller.role} role may not see measure reports")
    as_of = reference_day(as_of)
    period = calendar_year(as_of)
    prior_period = calendar_year(date(as_of.year - 1, 6, 30))
    patient_ids = _patient_ids(ctx, caller, named)
    current: dict[str, list] = {measure: [] for measure in MEASURES}
    prior: dict[str, list] = {measure: [] for measure in MEASURES}
    for patient_id in patient_ids:
        data = patient_data(ctx.patients, patient_id)
        for measure in MEASURES:
            current[measure].append(evaluate(measure, data, period))
            prior[measure].append(evaluate(measure, data, prior_period))
    summaries = tuple(
        summarize(measure, TITLES[measure], period, current[measure],
                  prior[measure] if any(r.populations["initial-population"] for r in prior[measure]) else None)
        for measure in MEASURES
    )
    if not named:  # counts and rates only: a gap names a patient
        summaries = tuple(replace(summary, gaps=()) for summary in summaries)
    report = PanelReport(as_of, len(patient_ids), summaries, (NOTE,))
    body = report.to_dict(with_gaps=named)
    gaps = sum(len(m.gaps) for m in summaries)
    body["audit_id"] = audit(ctx, caller, "measures.report", None,
                             {"as_of": as_of, "patients": len(patient_ids), "gaps_listed": gaps})
    return report, body
