"""Transition-of-care checklists, documentation checklists, the worklist of discharges and the actions on their
items, for the caller's patients only; every read and every action audited before it is returned.

- A checklist (the transition checklist of a discharge, or a documentation checklist ``tcm``, ``awv``, ``ccm``,
  ``cara_referral``) is a read of one chart: ``patient.read``, the panel check, audited as
  ``transitions.checklist`` (with the output format: JSON, Markdown, PDF or FHIR).
- The worklist lists the caller's panel: ``panel.read``, audited as ``transitions.list``.
- Checking off, noting, reassigning, waiving or reopening an item acts on one chart: ``patient.read`` and the panel
  check on the episode's patient (as for guidance decisions), audited as ``transitions.item`` before the action is
  stored; the action row keeps that audit id, so the checklist can cite it as the proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.context import AppContext
from assistant.errors import BadRequest, NotFound
from assistant.records.store import PatientRow
from assistant.roles import ROLES
from assistant.services.access import audit, check_patient, open_patient, require
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.patients import panel_patient_ids
from assistant.services.policy import Action
from assistant.transitions import actions as item_actions
from assistant.transitions import episodes, outputs
from assistant.transitions import worklist as stored
from assistant.transitions.checklist import KIND, Checklist, build_checklist
from assistant.transitions.documentation import KINDS as DOCUMENTATION_KINDS
from assistant.transitions.documentation import build_documentation
from assistant.transitions.episodes import Episode
from assistant.transitions.knowledge import KnowledgeCites
from assistant.transitions.sources import StoredRecord, read_patient_records

SCHEMA = "caretrail.checklist/1"
LIST_SCHEMA = "caretrail.transitions/1"
ITEM_SCHEMA = "caretrail.checklist-item/1"
CHECKLIST_KINDS = (KIND, *DOCUMENTATION_KINDS)
FORMATS = ("json", "markdown", "pdf", "fhir")
STATUSES = stored.STATES


@dataclass(frozen=True)
class Rendered:
    """A checklist in one output format: the bytes to send or write, their media type and a file name."""

    content: bytes
    media_type: str
    filename: str
    result: dict[str, Any]


def _pick(found: list[Episode], encounter: str | None, as_of: date) -> Episode:
    """The episode ``encounter`` names (an encounter id or episode id), else the latest discharge by ``as_of``."""
    if encounter:
        for episode in found:
            if encounter == episode.id or encounter in episode.encounter_ids:
                return episode
        raise NotFound(f"no discharge for encounter {encounter[:120]!r} in this patient's records")
    dated = [e for e in found if e.discharge_date <= as_of]
    if not dated:
        raise NotFound(f"no discharge on or before {as_of.isoformat()} in this patient's records")
    live = [e for e in dated if e.status != episodes.CANCELLED]
    return (live or dated)[0]  # list_episodes gives the latest first


def checklist(
    ctx: AppContext, caller: Caller, ref: str, encounter: str | None = None, as_of: date | None = None, kind: str = KIND
) -> dict[str, Any]:
    """``{"patient_id", "encounter_id", "discharge_date", "kind", "items", "audit_id", ...}`` for one discharge (the
    transition checklist or the TCM documentation) or one patient (AWV, CCM, CARA referral documentation)."""
    return _checklist(ctx, caller, ref, encounter, as_of, kind, "json")[0]


def _checklist(
    ctx: AppContext, caller: Caller, ref: str, encounter: str | None, as_of: date | None, kind: str, output: str
) -> tuple[dict[str, Any], PatientRow]:
    if kind not in CHECKLIST_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(CHECKLIST_KINDS)}, not {kind[:40]!r}")
    row = open_patient(ctx, caller, ref, Action.READ_PATIENT)
    as_of = reference_day(as_of)
    episodes.sync(ctx.engine, {row.id})
    found = episodes.list_episodes(ctx.engine, {row.id})
    records = read_patient_records(ctx.engine, row.id)
    cite = KnowledgeCites(ctx.engine)
    episode: Episode | None = None
    if kind in (KIND, "tcm") or encounter:
        episode = _pick(found, encounter, as_of)
    elif kind == "cara_referral":
        episode = next((e for e in found if e.discharge_date <= as_of and e.status != episodes.CANCELLED), None)
    if kind == KIND:
        assert episode is not None
        built = build_checklist(ctx.engine, episode, as_of, history=found, records=records, patient=row, cite=cite)
        result = built.to_dict()
        stored.store_rows(ctx.engine, [built], {row.id: records})  # the worklist row follows what was just shown
    else:
        result = build_documentation(ctx.engine, row, kind, as_of, episode, found, records, cite).to_dict()
    counts: dict[str, int] = {}
    for item in result["items"]:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    audit_id = audit(ctx, caller, "transitions.checklist", row.id,
                     {"episode_id": episode.id if episode else None, "encounter_id": result.get("encounter_id"),
                      "kind": kind, "as_of": as_of.isoformat(), "format": output, "items": len(result["items"]),
                      "statuses": counts})  # fmt: skip
    return {"schema": SCHEMA, **result, "audit_id": audit_id}, row


def render(
    ctx: AppContext,
    caller: Caller,
    ref: str,
    output: str,
    encounter: str | None = None,
    as_of: date | None = None,
    kind: str = KIND,
) -> Rendered:
    """The checklist in ``output`` (json, markdown, pdf, fhir); audited like the JSON read, with the format."""
    if output not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not {output[:40]!r}")
    result, row = _checklist(ctx, caller, ref, encounter, as_of, kind, output)
    return Rendered(*outputs.render(result, output, row), result)


def worklist(
    ctx: AppContext, caller: Caller, status: str = "open", as_of: date | None = None, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """Discharges of the caller's patients, nearest deadline first. ``open``: not cancelled, not complete and still
    inside the 30-day TCM service period on ``as_of``; ``closed``: complete or past it; ``cancelled``: by an A13;
    ``all``."""
    require(ctx, caller, Action.LIST_PANEL)
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}, not {status[:40]!r}")
    if limit < 1 or offset < 0:
        raise BadRequest("limit must be at least 1 and offset at least 0")
    as_of = reference_day(as_of)
    ids = panel_patient_ids(ctx, caller)
    stored.catch_up(ctx.engine)
    recomputed = stored.refresh(ctx.engine, ctx.patients, ids, as_of, status)
    page = stored.query(ctx.engine, ids, as_of, status, limit, offset)
    shown = sorted({e["patient_id"] for e in page.entries})
    stored.name_entries(page.entries, ctx.patients.list_patients(limit=len(shown) or 1, patient_ids=shown))
    audit_id = audit(ctx, caller, "transitions.list", None,
                     {"status": status, "as_of": as_of.isoformat(), "returned": len(page.entries),
                      "total": page.total, "recomputed": recomputed})  # fmt: skip
    return {"schema": LIST_SCHEMA, "as_of": as_of.isoformat(), "status": status, "total": page.total,
            "episodes": page.entries, "audit_id": audit_id}  # fmt: skip


def act(
    ctx: AppContext,
    caller: Caller,
    episode_id: str,
    item_id: str,
    action: str,
    text: str | None = None,
    owner_role: str | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Check off, note, reassign, waive (a reason is required) or reopen one item of a discharge's checklist."""
    if action not in item_actions.ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(item_actions.ACTIONS)}, not {action[:40]!r}")
    text = (text or "").strip() or None
    if action == "waive" and not text:
        raise BadRequest("waiving an item needs a reason")
    if action == "note" and not text:
        raise BadRequest("a note needs text")
    if action == "reassign" and owner_role not in ROLES:
        raise BadRequest(f"reassign needs owner_role, one of: {', '.join(sorted(ROLES))}")
    if action != "reassign" and owner_role:
        raise BadRequest("owner_role is only for reassign")
    require(ctx, caller, Action.READ_PATIENT)
    episode = episodes.get_episode(ctx.engine, episode_id)
    if episode is None:
        raise NotFound(f"no transition episode {episode_id[:80]!r}")
    check_patient(ctx, caller, episode.patient_id, Action.READ_PATIENT)
    day = reference_day(as_of)
    before, _ = _build(ctx, episode, day)
    item = next((i for i in before.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"no item {item_id[:80]!r} in this discharge's checklist (its evidence may have changed)")
    payload = {"episode_id": episode.id, "item_id": item_id, "action": action, "text": text,
               "owner_role": owner_role, "status_before": item.status, "owner_before": item.owner_role}  # fmt: skip
    audit_id = audit(ctx, caller, "transitions.item", episode.patient_id, payload)
    done = item_actions.record(
        ctx.engine,
        episode.id,
        episode.patient_id,
        item_id,
        action,
        caller.user,
        caller.role,
        audit_id,
        text,
        owner_role,
    )
    after, records = _build(ctx, episode, day)
    stored.store_rows(ctx.engine, [after], {episode.patient_id: records})
    changed = next(i for i in after.items if i.id == item_id)
    return {"schema": ITEM_SCHEMA, "episode_id": episode.id, "patient_id": episode.patient_id,
            "item": changed.to_dict(), "action": done.to_dict(), "episode_status": after.state,
            "complete": after.complete, "audit_id": audit_id}  # fmt: skip


def _build(ctx: AppContext, episode: Episode, as_of: date) -> tuple[Checklist, list[StoredRecord]]:
    history = episodes.list_episodes(ctx.engine, {episode.patient_id})
    records = read_patient_records(ctx.engine, episode.patient_id)
    patient = ctx.patients.get_patient(episode.patient_id)
    return build_checklist(ctx.engine, episode, as_of, history, records, patient, KnowledgeCites(ctx.engine)), records
