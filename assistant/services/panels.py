"""Panels a user can manage: assign, import from CSV, list, and link a user to their NPI.

Changing a panel is an admin's act (``panels.manage``); a user may list their own panel. Every change is
audited with the user and the patients it touched.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from assistant.context import AppContext
from assistant.errors import BadRequest, CaretrailError
from assistant.services.access import audit, find_patient, require
from assistant.services.caller import Caller
from assistant.services.policy import Action

_NPI_DIGITS = 10


def _check_user(user: str) -> str:
    user = user.strip()
    if not user or len(user) > 200:
        raise BadRequest("a user id must be 1-200 characters")
    return user


def assign(ctx: AppContext, caller: Caller, user: str, refs: list[str]) -> dict[str, Any]:
    require(ctx, caller, Action.MANAGE_PANELS)
    user = _check_user(user)
    patient_ids = [find_patient(ctx, ref) for ref in refs]
    added = ctx.patients.assign_panels([(user, pid) for pid in patient_ids])
    audit_id = audit(ctx, caller, "panel.assign", None, {"user": user, "patients": patient_ids, "added": added})
    return {"user": user, "added": added, "patients": patient_ids, "audit_id": audit_id}


def import_csv(ctx: AppContext, caller: Caller, path: Path) -> dict[str, Any]:
    """Rows of ``user,patient reference`` (a header row is allowed). Every row is checked first; one bad row
    names its file and line and nothing is assigned."""
    require(ctx, caller, Action.MANAGE_PANELS)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path}: cannot read ({type(exc).__name__})") from None
    pairs: list[tuple[str, str]] = []
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if line_no == 1 and [c.strip().lower() for c in row[:2]] == ["user", "patient"]:
            continue
        if len(row) != 2:
            raise BadRequest(f"{path}:{line_no}: expected 2 columns (user, patient), found {len(row)}")
        try:
            pairs.append((_check_user(row[0]), find_patient(ctx, row[1].strip())))
        except CaretrailError as exc:
            raise BadRequest(f"{path}:{line_no}: {exc}") from None
    if not pairs:
        raise BadRequest(f"{path}: no rows")
    added = ctx.patients.assign_panels(pairs)
    users = sorted({u for u, _ in pairs})
    audit_id = audit(ctx, caller, "panel.import", None,
                     {"file": path.name, "rows": len(pairs), "added": added, "users": users})
    return {"rows": len(pairs), "added": added, "users": users, "audit_id": audit_id}


def link_npi(ctx: AppContext, caller: Caller, user: str, npi: str) -> dict[str, Any]:
    require(ctx, caller, Action.MANAGE_PANELS)
    user = _check_user(user)
    npi = npi.strip()
    if len(npi) != _NPI_DIGITS or not npi.isdigit():
        raise BadRequest(f"an NPI is 10 digits, not {npi[:20]!r}")
    linked = ctx.patients.link_npi(user, npi)
    derived = sorted(ctx.patients.derived_patient_ids(user))
    audit_id = audit(ctx, caller, "panel.link_npi", None, {"user": user, "npi": npi, "derived": len(derived)})
    return {"user": user, "npi": npi, "new": linked, "derived_patients": len(derived), "audit_id": audit_id}


def list_panel(ctx: AppContext, caller: Caller, user: str) -> dict[str, Any]:
    """A user's panel with where each patient comes from; a user may list their own, an admin anyone's."""
    if user != caller.user:
        require(ctx, caller, Action.MANAGE_PANELS)
    else:
        require(ctx, caller, Action.LIST_PANEL)
    store = ctx.patients
    assigned = store.assigned_patient_ids(user)
    derived = store.derived_patient_ids(user)
    rows = store.list_patients(limit=1_000_000, patient_ids=assigned | derived)
    entries = [
        {"patient_id": r.id, "name": r.name, "mbi": r.mbi,
         "source": "assigned" if r.id in assigned else "npi"}
        for r in rows
    ]
    audit_id = audit(ctx, caller, "panel.list", None, {"user": user, "returned": len(entries)})
    return {"user": user, "npis": store.user_npis(user), "patients": entries, "audit_id": audit_id}
