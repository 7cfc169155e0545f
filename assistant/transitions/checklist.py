"""The transition-of-care checklist for one episode: what the care team should do next, by when, whose it is, and
what each step rests on (the records and the exact knowledge sentence).

Items (``assistant.transitions.item``), in this order:
- TCM (``tcm``): the interactive contact within 2 business days and the face-to-face visit within 7 or 14 days,
  the complexity suggested from the record and explained; whether TCM applies follows the discharge setting;
- the discharge summary: received and to review, or to request;
- medication reconciliation (``reconciliation``): the pre-admission versus discharge difference, one line per
  change, high-risk classes flagged, due no later than the face-to-face visit;
- condition items (``conditions``): Timely Follow-Up after heart failure, COPD, diabetes or asthma stays, daily
  weights, STEADI and a falls-prevention referral after a fall, Medicaid coordination, hospice;
- education (``education``): the teach-back of the plan and each warning sign in the instructions;
- needs at home (``needs``): home health, equipment, caregiver, transport, access needs, interpreter, homebound;
- follow-up appointments, referrals and results pending at discharge (``followups``), with who follows them up.
An item the record already shows as done is marked done with that evidence; what people did to items
(``actions``) is applied last. A cancelled discharge (ADT A13) leaves every item not applicable; when the patient
died, one item is left: stop outreach and close the episode. The checklist suggests; the clinician decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from assistant.records.model import Medication
from assistant.records.store import PatientRow
from assistant.transitions import actions as item_actions
from assistant.transitions import conditions, education, followups, needs, reconciliation, tcm
from assistant.transitions import medications as meds
from assistant.transitions.episodes import CANCELLED, Episode
from assistant.transitions.item import FINISHED, WAITING, Item
from assistant.transitions.knowledge import KnowledgeCites
from assistant.transitions.sources import StoredRecord, read_patient_records
from assistant.transitions.stay import Stay

KIND = "transition"
CLOSED = "closed"
PERIOD_DAYS = 30  # the TCM service period starts on the day of discharge (knowledge/tcm.md)

__all__ = ["KIND", "Checklist", "Item", "build_checklist"]


@dataclass
class Checklist:
    episode: Episode
    as_of: date
    complexity: dict[str, Any]
    items: list[Item]
    medication_changes: list[dict[str, Any]]
    missing: list[str]
    setting: str = "unknown"
    actions: list[item_actions.Action] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every required item is done, waived or not applicable: the episode closes."""
        return all(item.status in FINISHED for item in self.items if item.required)

    @property
    def state(self) -> str:
        """``cancelled`` (ADT A13), ``closed`` (complete, or the 30-day TCM service period is over) or ``open``."""
        if self.episode.status == CANCELLED:
            return CANCELLED
        over = self.as_of >= self.episode.discharge_date + timedelta(days=PERIOD_DAYS)
        return CLOSED if self.complete or over else "open"

    def to_dict(self) -> dict[str, Any]:
        episode = self.episode
        return {
            "patient_id": episode.patient_id, "episode_id": episode.id, "encounter_id": episode.encounter_id,
            "encounter_ids": list(episode.encounter_ids), "discharge_date": episode.discharge_date.isoformat(),
            "kind": KIND, "as_of": self.as_of.isoformat(), "episode_status": self.state,
            "facility": episode.facility, "disposition": episode.disposition, "setting": self.setting,
            "complexity": self.complexity, "items": [item.to_dict() for item in self.items],
            "medication_changes": self.medication_changes, "missing": self.missing,
            "episode_sources": list(episode.sources), "actions": [a.to_dict() for a in self.actions],
        }  # fmt: skip

    def next_due(self) -> Item | None:
        """The nearest deadline still to meet (the worklist sorts on it)."""
        order = {item.id: n for n, item in enumerate(self.items)}  # on a tie, the checklist's own order (TCM first)
        waiting = [i for i in self.items if i.due is not None and i.status in WAITING]
        return min(waiting, key=lambda i: (i.due, not i.required, order[i.id]), default=None)


def build_checklist(
    engine: Engine,
    episode: Episode,
    as_of: date,
    history: list[Episode] | None = None,
    records: list[StoredRecord] | None = None,
    patient: PatientRow | None = None,
    cite: KnowledgeCites | None = None,
    actions: list[item_actions.Action] | None = None,
) -> Checklist:
    """The checklist of ``episode`` as of ``as_of``; ``history`` is the patient's other episodes (readmissions),
    ``patient`` their store row (language, deceased), ``actions`` what people did to the items (read when None).

    ``cite``: the service layer, the worklist and the eval pass a strict ``KnowledgeCites`` (a sentence missing from
    the index raises); without one, a document not indexed at all is named without a span, for readers that use
    only the dates and statuses (the guidance TCM rule, which cites its own sentences)."""
    records = records if records is not None else read_patient_records(engine, episode.patient_id)
    cite = cite or KnowledgeCites(engine, strict=False)  # callers that show the checklist pass a strict one
    stay = Stay(engine, episode, as_of, history or [], records, cite, patient)
    where = tcm.setting(stay)
    medication_records = stay.of_kind(Medication)
    after = meds.discharge_list(stay.summary_sections, medication_records, set(episode.encounter_ids), stay.discharged)
    before = meds.pre_admission_list(
        stay.summary_sections, medication_records, stay.admitted, stay.summary_documents, set(episode.encounter_ids)
    )
    changes = meds.diff(before, after) if after.present else []
    level = tcm.complexity(stay, changes)
    claimed: set[int] = set()  # source offsets of clauses an item already cites
    found = tcm.items(stay, level, where)
    found.append(followups.summary_item(stay))
    found.extend(reconciliation.items(stay, changes, before, after))
    found.extend(conditions.items(stay, where, claimed))
    found.extend(education.items(stay, claimed))
    found.extend(needs.items(stay))
    found.extend(followups.follow_up_items(stay, claimed))
    if episode.status == CANCELLED:
        for item in found:
            item.status = "not_applicable"
            item.evidence.append("the discharge was cancelled (ADT A13)")
    elif where.kind == "died":
        for item in found:
            item.status = "not_applicable"
            item.evidence.append(where.explanation)
        found.append(conditions.deceased(stay, where))
    done = actions if actions is not None else item_actions.for_episodes(engine, [episode.id])[episode.id]
    item_actions.apply(found, done)
    return Checklist(
        episode, as_of, level, found, [c.to_dict() for c in changes], sorted(set(stay.missing)), where.kind, list(done)
    )
