"""The transition-of-care checklist for one episode: what the care team should do next, by when, and why.

Items (each ``{"id", "category", "text", "due", "owner_role", "required", "status", "evidence", "citations"}``):
- TCM interactive contact within 2 business days of discharge, and the face-to-face visit within 7 days (high
  complexity, 99496) or 14 days (moderate, 99495), the level suggested from the record and explained; deadlines
  from ``assistant.business_days`` (weekends and federal holidays skipped, a deadline on one moved earlier);
- the discharge summary: received (cited) or to be requested;
- medication reconciliation: the pre-admission versus discharge difference, one line per change, high-risk classes
  flagged, due no later than the face-to-face visit;
- follow-up appointments, referrals and results pending at discharge named in the discharge summary, each with
  who should follow it up.
An item the record already shows as done (a call or visit after discharge, a booked visit, a reconciliation
logged) is marked done with that evidence; an input the record lacks is named in the item, never guessed.
Statuses: ``open``, ``overdue`` (past due on the as-of date), ``done``, ``late`` (done after its deadline),
``needs_input`` and ``not_applicable``. The checklist suggests; the clinician decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from assistant.business_days import add_business_days, calendar_deadline, why_moved
from assistant.records.model import Claim, Condition, DocumentSection, Encounter, Medication, Practitioner, Procedure
from assistant.transitions import medications as meds
from assistant.transitions.episodes import CANCELLED, DISCHARGE_SUMMARY, Episode
from assistant.transitions.sources import (
    StoredRecord,
    chunk_at,
    knowledge_citation,
    read_patient_records,
    record_citation,
)

KIND = "transition"
CONTACT_BUSINESS_DAYS = 2
HIGH_VISIT_DAYS, MODERATE_VISIT_DAYS = 7, 14
READMISSION_DAYS = 30
SUMMARY_WINDOW_BEFORE, SUMMARY_WINDOW_AFTER = 30, 14  # days around discharge a summary may be dated

# Knowledge sections that define each deadline or step (file knowledge/<doc_id>.md, heading).
K_CONTACT = ("tcm", "TCM deadline for the interactive contact")
K_CODES = ("tcm", "Which TCM code: 99495 or 99496")
K_PERIOD = ("tcm", "TCM service period and date of service")
K_QUALIFY = ("tcm", "Which discharges qualify for TCM")
K_DOCUMENT = ("tcm", "What to document for TCM")
K_RED = ("care-transitions", "RED steps before the patient leaves the hospital")
KNOWLEDGE_SECTIONS = (K_CONTACT, K_CODES, K_PERIOD, K_QUALIFY, K_DOCUMENT, K_RED)

VISIT_CLASSES = {"office", "home", "virtual"}
VISIT_CPT = {"99495", "99496", *(str(c) for c in range(99202, 99216)), *(str(c) for c in range(99341, 99351))}
MED_REC_CODES = {"1111F", "430193006"}  # CPT II "discharge medications reconciled"; SNOMED medication reconciliation
# NUBC discharge status codes that send the patient to another facility rather than home (knowledge/tcm.md).
NOT_COMMUNITY = {"02", "03", "04", "05", "09", "20", "30", "43", "51", "61", "62", "63", "64", "65", "66", "70"}
NOT_COMMUNITY_WORDS = ("expired", "snf", "skilled nursing", "long_term_care", "other_facility", "psych", "rehab")
HIGH_ACUITY = {"I50": "heart failure", "J44": "COPD", "I21": "acute myocardial infarction"}
HIGH_ACUITY_WORDS = {"heart failure": "heart failure", "chronic obstructive": "COPD", "copd": "COPD",
                     "myocardial infarction": "acute myocardial infarction"}  # fmt: skip
HIGH_RISK_FOR_COMPLEXITY = {"anticoagulant", "insulin", "opioid"}
INSTRUCTION_LOINC = {"8653-8", "18776-5", "69730-0"}
PLAN_LOINC = "18776-5"

_FOLLOW_UP = re.compile(r"\b(follow[- ]?up|appointment|appt|referr\w*|refer(?:red)? to|see (?:dr|your|the)\b|"
                        r"clinic\b|visit with)", re.IGNORECASE)
_PENDING = re.compile(r"\b(pending|awaiting|not yet resulted|outstanding at discharge)\b", re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "fourteen": 14}  # fmt: skip
_INTERVAL = re.compile(r"\b(?:in|within)\s+(\d+|" + "|".join(_NUMBERS) + r")\s+(day|week)s?\b", re.IGNORECASE)


@dataclass
class Item:
    id: str
    category: str
    text: str
    due: date | None
    owner_role: str
    required: bool
    status: str
    evidence: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "text": self.text,
                "due": self.due.isoformat() if self.due else None, "owner_role": self.owner_role,
                "required": self.required, "status": self.status, "evidence": self.evidence,
                "citations": self.citations}  # fmt: skip


@dataclass
class Checklist:
    episode: Episode
    as_of: date
    complexity: dict[str, Any]
    items: list[Item]
    medication_changes: list[dict[str, Any]]
    missing: list[str]

    def to_dict(self) -> dict[str, Any]:
        episode = self.episode
        return {
            "patient_id": episode.patient_id, "episode_id": episode.id, "encounter_id": episode.encounter_id,
            "encounter_ids": list(episode.encounter_ids), "discharge_date": episode.discharge_date.isoformat(),
            "kind": KIND, "as_of": self.as_of.isoformat(), "episode_status": episode.status,
            "facility": episode.facility, "disposition": episode.disposition, "complexity": self.complexity,
            "items": [item.to_dict() for item in self.items], "medication_changes": self.medication_changes,
            "missing": self.missing, "episode_sources": list(episode.sources),
        }  # fmt: skip

    def next_due(self) -> Item | None:
        """The nearest deadline still to meet (the worklist sorts on it)."""
        waiting = [i for i in self.items if i.due is not None and i.status in ("open", "overdue")]
        return min(waiting, key=lambda i: (i.due, not i.required), default=None)


class _Builder:
    def __init__(self, engine: Engine, episode: Episode, as_of: date, history: list[Episode],
                 records: list[StoredRecord]) -> None:
        self.engine = engine
        self.episode = episode
        self.as_of = as_of
        self.history = history
        self.records = records
        self.discharged = episode.discharge_date
        self.admitted = episode.admitted_on or episode.discharge_date
        self.missing: list[str] = []
        self._knowledge: dict[tuple[str, str], dict[str, Any]] = {}
        self.summary_sections = self._summary_sections()
        self.summary_documents = {s.document_id for s in self.summary_sections}

    # -- helpers ---------------------------------------------------------------------------------------

    def knowledge(self, ref: tuple[str, str]) -> dict[str, Any]:
        if ref not in self._knowledge:
            self._knowledge[ref] = knowledge_citation(self.engine, *ref)
        return self._knowledge[ref]

    def of_kind(self, kind: type) -> list[StoredRecord]:
        return [s for s in self.records if isinstance(s.record, kind)]

    def status(self, due: date | None) -> str:
        return "overdue" if due is not None and self.as_of > due else "open"

    def _summary_sections(self) -> list[StoredRecord]:
        """Discharge-summary sections of this stay: from a document that opened the episode, or dated near it."""
        linked = {source["document_id"] for source in self.episode.sources}
        earliest = self.admitted - timedelta(days=1) if self.episode.admitted_on else \
            self.discharged - timedelta(days=SUMMARY_WINDOW_BEFORE)
        latest = self.discharged + timedelta(days=SUMMARY_WINDOW_AFTER)
        found = []
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            if section.document_type != DISCHARGE_SUMMARY:
                continue
            dated = section.document_date.date() if section.document_date else None
            if stored.document_id in linked or (dated is not None and earliest <= dated <= latest):
                found.append(stored)
        return found

    def _lines(self, stored: StoredRecord) -> list[tuple[str, int, int]]:
        """A section's lines with their offsets in the decoded source."""
        section = stored.record
        assert isinstance(section, DocumentSection)
        base = section.provenance.start or 0
        found, offset = [], 0
        for line in section.text.split("\n"):
            stripped = line.strip()
            if stripped:
                start = offset + line.index(stripped)
                found.append((stripped, base + start, base + start + len(stripped)))
            offset += len(line) + 1
        return found

    def line_citation(self, stored: StoredRecord, text: str, start: int, end: int) -> dict[str, Any]:
        return record_citation(stored, start, end, quote=text, chunk_id=chunk_at(self.engine, stored, start, end))

    def _after_discharge(self, day: date | None) -> bool:
        return day is not None and day >= self.discharged

    # -- what the record shows was done ----------------------------------------------------------------

    def visits(self) -> list[tuple[date, StoredRecord, str]]:
        """Face-to-face visits on or after discharge, held or booked: (date, record, description)."""
        found = []
        for stored in self.of_kind(Encounter):
            enc = stored.record
            assert isinstance(enc, Encounter)
            day = enc.start.date() if enc.start else None
            if enc.encounter_class in VISIT_CLASSES and enc.id not in self.episode.encounter_ids and \
                    self._after_discharge(day):
                assert day is not None
                how = "booked" if day > self.as_of else "held"
                found.append((day, stored, f"{enc.encounter_class} visit {how} for {day.isoformat()}"
                              + (" (telehealth counts only with real-time audio and video)"
                                 if enc.encounter_class == "virtual" else "")))
        for stored in self.of_kind(Claim):
            claim = stored.record
            assert isinstance(claim, Claim)
            codes = {c.code for c in claim.procedures}
            if codes & VISIT_CPT and self._after_discharge(claim.from_date):
                assert claim.from_date is not None
                found.append((claim.from_date, stored, f"claim for a visit ({', '.join(sorted(codes & VISIT_CPT))}) "
                              f"on {claim.from_date.isoformat()}"))
        return sorted(found, key=lambda v: v[0])

    def calls(self) -> list[tuple[date, StoredRecord, str]]:
        """Interactive contacts logged after discharge: phone or care-manager notes (visits count too)."""
        found = []
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            day = section.document_date.date() if section.document_date else None
            title = f"{section.document_title or ''} {section.title}".lower()
            if (section.document_type in ("care_manager_note", "phone_note") or re.search(r"phone|telephone|\bcall",
                                                                                          title)) \
                    and self._after_discharge(day) and day is not None and day <= self.as_of:
                found.append((day, stored, f"{section.document_title or section.title} dated {day.isoformat()}"))
        return sorted(found, key=lambda c: c[0])

    # -- TCM ---------------------------------------------------------------------------------------------

    def community(self) -> tuple[bool | None, str]:
        disposition = (self.episode.disposition or "").strip()
        if not disposition:
            return None, "the record names no discharge disposition, so whether TCM applies is not shown"
        code = disposition.split(" ", 1)[0]
        lowered = disposition.lower()
        if code.zfill(2) in NOT_COMMUNITY or any(word in lowered for word in NOT_COMMUNITY_WORDS):
            return False, f"discharged to '{disposition}', not a community setting: TCM may not apply"
        return True, f"discharged to '{disposition}'"

    def complexity(self, changes: list[meds.MedicationChange]) -> dict[str, Any]:
        """Suggest 99496 (high) or 99495 (moderate) from signals in the record; the clinician decides the MDM."""
        signals: list[dict[str, Any]] = []
        start = self.admitted - timedelta(days=READMISSION_DAYS)
        for other in self.history:
            if other.id != self.episode.id and other.status != CANCELLED and start <= other.discharge_date < \
                    self.admitted:
                signals.append({"signal": f"readmission: discharged {other.discharge_date.isoformat()}, within "
                                          f"{READMISSION_DAYS} days before this admission",
                                "citations": other.sources[:1]})
        for stored in self.of_kind(Condition):
            cond = stored.record
            assert isinstance(cond, Condition)
            if cond.encounter_id not in self.episode.encounter_ids:
                continue
            label = self._acuity(cond.code.code, cond.code.display)
            if label:
                signals.append({"signal": f"diagnosis of this stay: {cond.code.display or cond.code.code} ({label})",
                                "citations": [record_citation(stored)]})
        for stored in self.of_kind(Encounter):  # the stay's own diagnoses (FHIR reasonCode, HL7 DG1)
            stay = stored.record
            assert isinstance(stay, Encounter)
            if stay.id not in self.episode.encounter_ids:
                continue
            for reason in stay.reasons:
                label = self._acuity(reason.code, reason.display)
                if label:
                    signals.append({"signal": f"diagnosis of this stay: {reason.display or reason.code} ({label})",
                                    "citations": [record_citation(stored)]})
        for stored in self.summary_sections:
            section = stored.record
            assert isinstance(section, DocumentSection)
            if section.loinc != "11535-2":
                continue
            for text, begin, end in self._lines(stored):
                label = self._acuity("", text)
                if label:
                    signals.append({"signal": f"discharge diagnosis: {text} ({label})",
                                    "citations": [self.line_citation(stored, text, begin, end)]})
        for change in changes:
            if change.high_risk in HIGH_RISK_FOR_COMPLEXITY and change.change in ("new", "dose_changed"):
                signals.append({"signal": f"high-risk medication {change.change.replace('_', ' ')}: {change.name} "
                                          f"({change.high_risk})", "citations": change.citations})
        high = bool(signals)
        days = HIGH_VISIT_DAYS if high else MODERATE_VISIT_DAYS
        if high:
            why = ("Suggested high complexity (99496, face-to-face visit within 7 days) because the record shows: "
                   + "; ".join(s["signal"] for s in signals) + ". The clinician decides the medical decision making "
                   "level.")
        else:
            why = ("No high-complexity signal found in the record (a readmission within 30 days, a heart failure, "
                   "COPD or acute MI diagnosis for this stay, a new or changed anticoagulant, insulin or opioid): "
                   "suggested moderate complexity (99495, face-to-face visit within 14 days). A visit within 7 days "
                   "still qualifies, and the clinician decides the level.")
        return {"level": "high" if high else "moderate", "code": "99496" if high else "99495", "visit_days": days,
                "explanation": why, "signals": signals, "citations": [self.knowledge(K_CODES)]}

    @staticmethod
    def _acuity(code: str, text: str | None) -> str | None:
        for prefix, label in HIGH_ACUITY.items():
            if code.upper().replace(".", "").startswith(prefix):
                return label
        lowered = (text or "").lower()
        return next((label for word, label in HIGH_ACUITY_WORDS.items() if word in lowered), None)

    def tcm_items(self, complexity: dict[str, Any], applies: bool | None, why_applies: str) -> list[Item]:
        episode_cites = self.episode.sources[:3]
        contact_due = add_business_days(self.discharged, CONTACT_BUSINESS_DAYS)
        contacts = sorted([*self.calls(), *[v for v in self.visits() if v[0] <= self.as_of]], key=lambda c: c[0])
        contact = Item(
            "tcm-contact", "tcm",
            f"Reach the patient or caregiver for the TCM interactive contact (phone, in person or electronic) by "
            f"{contact_due.isoformat()} ({contact_due.strftime('%A')}): {CONTACT_BUSINESS_DAYS} business days after "
            f"the {self.discharged.isoformat()} discharge, weekends and federal holidays not counted.",
            contact_due, "care_manager", True, self.status(contact_due), [why_applies],
            [*episode_cites, self.knowledge(K_CONTACT)],
        )
        if contacts:
            day, stored, what = contacts[0]
            contact.status = "done" if day <= contact_due else "late"
            contact.evidence.append(what + ("" if day <= contact_due else f", after the {contact_due} deadline"))
            contact.citations.append(record_citation(stored))
        visit_days = complexity["visit_days"]
        raw_due = self.discharged + timedelta(days=visit_days)
        visit_due = calendar_deadline(self.discharged, visit_days)
        moved = why_moved(raw_due, visit_due)
        visit = Item(
            "tcm-visit", "tcm",
            f"Book the TCM face-to-face visit for no later than {visit_due.isoformat()} ({visit_due.strftime('%A')}): "
            f"within {visit_days} days of discharge for {complexity['level']} complexity ({complexity['code']}).",
            visit_due, "care_coordinator", True, self.status(visit_due),
            [why_applies, complexity["explanation"], *([moved] if moved else [])],
            [*episode_cites, self.knowledge(K_CODES)],
        )
        visits = self.visits()
        in_time = next((v for v in visits if v[0] <= visit_due), None)
        if in_time is not None:
            visit.status = "done"
            visit.evidence.append(in_time[2])
            visit.citations.append(record_citation(in_time[1]))
        elif visits:
            day, stored, what = visits[0]
            if day <= self.as_of:
                visit.status = "late"
            visit.evidence.append(f"{what}, after the {visit_due.isoformat()} deadline: an earlier slot would keep "
                                  f"{complexity['code']} possible")
            visit.citations.append(record_citation(stored))
        if applies is False:
            for item in (contact, visit):
                if item.status not in ("done", "late"):
                    item.status = "not_applicable"
                item.citations.append(self.knowledge(K_QUALIFY))
        return [contact, visit]

    # -- discharge summary, medications, follow-ups -------------------------------------------------------

    def summary_item(self) -> Item:
        facility = self.episode.facility or "the discharging facility"
        cites = [self.knowledge(K_DOCUMENT)]
        if not self.summary_sections:
            self.missing.append("discharge summary")
            return Item("discharge-summary", "documents",
                        f"Request the discharge summary from {facility}: the record has none for this stay, so "
                        "medications, follow-ups and pending results cannot be read from it.", None, "care_coordinator",
                        True, "needs_input", ["no discharge summary dated within this stay is in the record"],
                        [*self.episode.sources[:1], *cites])
        first = self.summary_sections[0]
        section = first.record
        assert isinstance(section, DocumentSection)
        dated = section.document_date.date().isoformat() if section.document_date else "undated"
        return Item("discharge-summary", "documents",
                    f"Review the discharge summary ({section.document_title or 'discharge summary'}, {dated}) and "
                    "note in the record that it was received and reviewed.", None, "care_manager", True, "open",
                    [f"received: {section.provenance.source_path}"], [record_citation(first), *cites])

    def medication_items(self, changes: list[meds.MedicationChange], before: meds.MedicationList,
                         after: meds.MedicationList, visit_due: date) -> list[Item]:
        cites = [self.knowledge(K_PERIOD), self.knowledge(K_RED)]
        missing = [m.label for m in (before, after) if not m.present]
        self.missing.extend(f"{label} medication list" for label in missing)
        done = self._med_rec_done()
        high_risk = [c for c in changes if c.high_risk and c.change != "unchanged"]
        if missing:
            lacking = " and no ".join(missing)
            text = (f"Reconcile medications before the face-to-face visit: the record has no {lacking} medication list"
                    " (a discharge summary's Hospital Discharge Medications section, LOINC 10183-2, "
                    "and a medication list from before admission, LOINC 10160-0 or a CCD), so the lists cannot be "
                    "compared here; obtain them.")
            status = "needs_input"
        else:
            real = [c for c in changes if c.change != "unchanged"]
            text = (f"Reconcile the pre-admission and discharge medication lists no later than the face-to-face visit: "
                    f"{len(real)} change(s), {len(high_risk)} in a high-risk class.")
            status = self.status(visit_due)
        evidence = [f"{m.label} list: {len(m.entries)} entries" for m in (before, after) if m.present]
        reconcile = Item("med-rec", "medication", text, visit_due, "clinician", True, status, evidence,
                         [*before.citations[:2], *after.citations[:2], *cites])
        if done is not None:
            reconcile.status = "done"
            reconcile.evidence.append(done[1])
            reconcile.citations.append(record_citation(done[0]))
        items = [reconcile]
        if not after.present:
            return items
        wording = {
            "new": "New at discharge", "stopped": "Stopped (on the pre-admission list, not continued at discharge)",
            "dose_changed": "Dose changed at discharge", "held": "Held at discharge", "unchanged": "Continued",
        }  # fmt: skip
        if not before.present:
            wording["new"] = "On the discharge list (no pre-admission list to compare)"
        number = 0
        for change in changes:
            if change.change == "unchanged" and not change.high_risk:
                continue
            number += 1
            flag = f" [high-risk: {change.high_risk}]" if change.high_risk else ""
            detail = " -> ".join(d for d in (change.describe(change.before), change.describe(change.after)) if d)
            items.append(Item(
                f"med-{number}", "medication", f"{wording[change.change]}: {change.name}{flag}. Confirm with the "
                "patient and the prescriber that this is intended and understood.", visit_due, "clinician",
                change.high_risk is not None, "done" if done is not None else self.status(visit_due),
                [f"{change.change}: {detail}"], [*change.citations, *cites],
            ))
        return items

    def _med_rec_done(self) -> tuple[StoredRecord, str] | None:
        for stored in self.of_kind(Procedure):
            proc = stored.record
            assert isinstance(proc, Procedure)
            day = proc.performed.date() if proc.performed else None
            if proc.code.code in MED_REC_CODES and self._after_discharge(day) and day is not None and \
                    day <= self.as_of:
                return stored, f"medication reconciliation recorded on {day.isoformat()} ({proc.code.code})"
        for stored in self.of_kind(Claim):
            claim = stored.record
            assert isinstance(claim, Claim)
            if any(c.code in MED_REC_CODES for c in claim.procedures) and self._after_discharge(claim.from_date):
                return stored, f"claim line for medication reconciliation on {claim.from_date}"
        return None

    def responsible(self) -> tuple[str, list[dict[str, Any]]]:
        """Who should follow up a pending result: the discharging or attending physician, else the PCP."""
        for roles in (("discharging", "attending", "responsible"), ("pcp",)):
            for stored in self.of_kind(Practitioner):
                person = stored.record
                assert isinstance(person, Practitioner)
                if person.role in roles and (roles == ("pcp",) or stored.document_id in self.summary_documents):
                    return f"{person.name or person.npi or 'unnamed'} ({person.role})", [record_citation(stored)]
        return "the discharging physician or the PCP (the record names neither)", []

    def follow_up_items(self) -> list[Item]:
        follow_ups: list[Item] = []
        pending: list[Item] = []
        seen: set[str] = set()
        who, who_cites = self.responsible()
        for stored in self.summary_sections:
            section = stored.record
            assert isinstance(section, DocumentSection)
            lines = self._lines(stored)
            is_plan = section.loinc == PLAN_LOINC
            for index, (text, start, end) in enumerate(lines):
                key = text.lower()
                if key in seen:
                    continue
                if _PENDING.search(text):
                    seen.add(key)
                    pending.append(Item(
                        f"pending-{len(pending) + 1}", "pending_result",
                        f"Result pending at discharge: \"{text}\". Make sure {who} sees it when it returns and that "
                        "the patient hears the outcome.", None, "clinician", True, "open",
                        [f"named in the discharge summary section '{section.title}'", f"responsible: {who}"],
                        [self.line_citation(stored, text, start, end), *who_cites, self.knowledge(K_RED)],
                    ))
                    continue
                header = is_plan and index == 0 and " | " in text
                if header or not (section.loinc in INSTRUCTION_LOINC and (is_plan or _FOLLOW_UP.search(text))):
                    continue
                seen.add(key)
                due, how = self._interval_due(text)
                follow_ups.append(Item(
                    f"followup-{len(follow_ups) + 1}", "follow_up",
                    f"Follow-up named in the discharge summary: \"{text}\". Confirm it is booked and the patient "
                    "knows the date and how to get there.", due, "care_coordinator", True, self.status(due),
                    [f"from the section '{section.title}'", how],
                    [self.line_citation(stored, text, start, end), self.knowledge(K_RED)],
                ))
        return follow_ups + pending

    def _interval_due(self, text: str) -> tuple[date | None, str]:
        match = _INTERVAL.search(text)
        if match is None:
            return None, "the line names no interval from discharge; no due date is set"
        amount = match.group(1).lower()
        number = int(amount) if amount.isdigit() else _NUMBERS[amount]
        days = number * (7 if match.group(2).lower() == "week" else 1)
        due = calendar_deadline(self.discharged, days)
        moved = why_moved(self.discharged + timedelta(days=days), due)
        return due, f"'{match.group(0)}' counted from the discharge date" + (f"; {moved}" if moved else "")

    # -- all together --------------------------------------------------------------------------------------

    def build(self) -> Checklist:
        medication_records = self.of_kind(Medication)
        after = meds.discharge_list(self.summary_sections, medication_records)
        before = meds.pre_admission_list(self.summary_sections, medication_records, self.admitted,
                                         self.summary_documents, set(self.episode.encounter_ids))
        changes = meds.diff(before, after) if after.present else []
        complexity = self.complexity(changes)
        applies, why_applies = self.community()
        items = self.tcm_items(complexity, applies, why_applies)
        items.append(self.summary_item())
        items.extend(self.medication_items(changes, before, after, items[1].due or self.discharged))
        items.extend(self.follow_up_items())
        if self.episode.status == CANCELLED:
            for item in items:
                item.status = "not_applicable"
                item.evidence.append("the discharge was cancelled (ADT A13)")
        return Checklist(self.episode, self.as_of, complexity, items, [c.to_dict() for c in changes],
                         sorted(set(self.missing)))


def build_checklist(engine: Engine, episode: Episode, as_of: date, history: list[Episode] | None = None,
                    records: list[StoredRecord] | None = None) -> Checklist:
    """The checklist of ``episode`` as of ``as_of``; ``history`` is the patient's other episodes (readmissions)."""
    records = records if records is not None else read_patient_records(engine, episode.patient_id)
    return _Builder(engine, episode, as_of, history or [], records).build()
