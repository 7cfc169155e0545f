"""One discharge as the checklist's item builders read it: the episode, the records, the discharge summary, the
stay's diagnoses, what happened after discharge, the deadlines, and how to cite each of them.

Why one object: the TCM, medication, follow-up, education, needs and condition items all read the same records
and cite them the same way; building those views once per checklist keeps the item modules small and a checklist
fast (the worklist builds thousands of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Engine

from assistant.records.model import Claim, Code, Condition, DocumentSection, Encounter
from assistant.records.store import PatientRow
from assistant.transitions.episodes import DISCHARGE_SUMMARY, Episode
from assistant.transitions.knowledge import KnowledgeCites, Sentence
from assistant.transitions.sources import PatientChunks, StoredRecord, record_citation
from assistant.transitions.text_lines import Span, as_date, clauses, lines

SUMMARY_WINDOW_BEFORE, SUMMARY_WINDOW_AFTER = 30, 14  # days around discharge a summary may be dated
VISIT_CLASSES = {"office", "home", "virtual"}
VISIT_CPT = {"99495", "99496", *(str(c) for c in range(99202, 99216)), *(str(c) for c in range(99341, 99351))}
DISCHARGE_DIAGNOSIS_LOINC = {"11535-2", "46241-6", "42347-5"}  # discharge and admission diagnosis sections
INSTRUCTION_LOINC = {"8653-8", "69730-0", "18776-5", "42344-2"}  # instructions, plan of treatment, discharge diet
PLAN_LOINC = "18776-5"
_INSTRUCTION_TITLE = re.compile(
    r"instruction|follow|red flag|warning|education|home health|dme|equipment|discharge "
    r"plan|after you leave|when to call",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    """A line or clause of a discharge-summary section, with the section it came from."""

    span: Span
    stored: StoredRecord

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def section(self) -> DocumentSection:
        assert isinstance(self.stored.record, DocumentSection)
        return self.stored.record


def is_heading(line: Line) -> bool:
    """The section's own title line ("Follow-up:", "Pending Results:") or a short label ending in a colon."""
    text = line.text.strip()
    title = (line.section.title or "").strip().rstrip(":").lower()
    return text.rstrip(":").strip().lower() == title or (text.endswith(":") and len(text.split()) <= 3)


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis of this stay: a coded condition or encounter reason, or a line of a diagnosis section.

    ``principal``: the reason for the stay (the first reason of a stay encounter or DG1, the first line of a
    diagnosis section, or a coded condition of the stay when no encounter names a reason); the others are
    secondary (a diabetes listed on a fall admission)."""

    code: Code | None
    text: str
    citation: dict[str, Any]
    principal: bool = True


@dataclass(frozen=True)
class Event:
    """Something the record shows happened (or is booked) after discharge: a visit, a call."""

    day: date
    stored: StoredRecord
    description: str


@dataclass
class Stay:
    engine: Engine
    episode: Episode
    as_of: date
    history: list[Episode]
    records: list[StoredRecord]
    cite: KnowledgeCites
    patient: PatientRow | None = None
    contact_due: date | None = None  # set once the TCM items are built
    visit_due: date | None = None
    missing: list[str] = field(default_factory=list)

    @cached_property
    def chunks(self) -> PatientChunks:
        return PatientChunks(self.engine, self.episode.patient_id)

    @property
    def discharged(self) -> date:
        return self.episode.discharge_date

    @property
    def admitted(self) -> date:
        return self.episode.admitted_on or self.episode.discharge_date

    def knowledge(self, *sentences: Sentence) -> list[dict[str, Any]]:
        return [self.cite(s) for s in sentences]

    def of_kind(self, kind: type) -> list[StoredRecord]:
        return [s for s in self.records if isinstance(s.record, kind)]

    def status(self, due: date | None) -> str:
        return "overdue" if due is not None and self.as_of > due else "open"

    def after_discharge(self, day: date | None) -> bool:
        return day is not None and day >= self.discharged

    # -- the discharge summary ------------------------------------------------------------------------------

    @cached_property
    def summary_sections(self) -> list[StoredRecord]:
        """Discharge-summary sections of this stay: from a document that opened the episode, or dated near it."""
        linked = {source["document_id"] for source in self.episode.sources}
        earliest = (
            self.admitted - timedelta(days=1)
            if self.episode.admitted_on
            else self.discharged - timedelta(days=SUMMARY_WINDOW_BEFORE)
        )
        latest = self.discharged + timedelta(days=SUMMARY_WINDOW_AFTER)
        found = []
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            if section.document_type != DISCHARGE_SUMMARY:
                continue
            dated = as_date(section.document_date)
            if stored.document_id in linked or (dated is not None and earliest <= dated <= latest):
                found.append(stored)
        return found

    @cached_property
    def summary_documents(self) -> set[str]:
        return {s.document_id for s in self.summary_sections}

    def lines_of(self, stored: StoredRecord) -> list[Line]:
        section = stored.record
        assert isinstance(section, DocumentSection)
        return [Line(span, stored) for span in lines(section.text, section.provenance.start or 0)]

    def clauses_of(self, stored: StoredRecord) -> list[Line]:
        return [Line(piece, line.stored) for line in self.lines_of(stored) for piece in clauses(line.span)]

    @cached_property
    def instruction_sections(self) -> list[StoredRecord]:
        """Sections that tell the patient or the team what to do next (instructions, plan, follow-up, DME)."""
        found = []
        for stored in self.summary_sections:
            section = stored.record
            assert isinstance(section, DocumentSection)
            if section.loinc in INSTRUCTION_LOINC or _INSTRUCTION_TITLE.search(section.title or ""):
                found.append(stored)
        return found

    @cached_property
    def instruction_clauses(self) -> list[Line]:
        return [clause for stored in self.instruction_sections for clause in self.clauses_of(stored)]

    @cached_property
    def summary_clauses(self) -> list[Line]:
        return [clause for stored in self.summary_sections for clause in self.clauses_of(stored)]

    def line_citation(self, line: Line, end: int | None = None) -> dict[str, Any]:
        """The clause (or, with ``end``, the clause and the lines after it up to ``end``) as written in the source."""
        stored = line.stored
        finish = end if end is not None else line.span.end
        quote = line.text
        if end is not None:
            section = line.section
            base = section.provenance.start or 0
            quote = section.text[line.span.start - base : finish - base]
        return record_citation(
            stored,
            line.span.start,
            finish,
            quote=quote,
            chunk_id=self.chunks.at(stored, line.span.start, finish),
        )

    # -- the stay's diagnoses -------------------------------------------------------------------------------

    @cached_property
    def diagnoses(self) -> list[Diagnosis]:
        """Coded conditions and reasons of the stay's encounters, and the lines of its diagnosis sections."""
        found: list[Diagnosis] = []
        stay = set(self.episode.encounter_ids)
        reasons: list[Diagnosis] = []
        for stored in self.of_kind(Encounter):  # FHIR reasonCode, HL7 DG1
            encounter = stored.record
            assert isinstance(encounter, Encounter)
            if encounter.id in stay:
                for n, reason in enumerate(encounter.reasons):
                    reasons.append(Diagnosis(reason, reason.display or reason.code, record_citation(stored), n == 0))
        for stored in self.of_kind(Condition):
            cond = stored.record
            assert isinstance(cond, Condition)
            if cond.encounter_id in stay:
                text = cond.code.display or cond.code.code
                found.append(Diagnosis(cond.code, text, record_citation(stored), not reasons))
        found.extend(reasons)
        for stored in self.summary_sections:
            section = stored.record
            assert isinstance(section, DocumentSection)
            if section.loinc in DISCHARGE_DIAGNOSIS_LOINC:
                first = True
                for line in self.lines_of(stored):
                    if is_heading(line) or (
                        " | " in line.text and line.text.lower().startswith(("name |", "diagnosis |"))
                    ):
                        continue  # the section's title or a table header
                    found.append(Diagnosis(None, line.text, self.line_citation(line), first))
                    first = False
        return found

    # -- what the record shows happened after discharge ----------------------------------------------------

    @cached_property
    def visits(self) -> list[Event]:
        """Face-to-face visits on or after discharge, held or booked."""
        found = []
        for stored in self.of_kind(Encounter):
            enc = stored.record
            assert isinstance(enc, Encounter)
            day = as_date(enc.start)
            if (
                enc.encounter_class in VISIT_CLASSES
                and enc.id not in self.episode.encounter_ids
                and self.after_discharge(day)
                and enc.status not in ("cancelled", "entered-in-error")
            ):
                assert day is not None
                how = "booked" if day > self.as_of or enc.status == "planned" else "held"
                found.append(
                    Event(
                        day,
                        stored,
                        f"{enc.encounter_class} visit {how} for {day.isoformat()}"
                        + (
                            " (telehealth counts only with real-time audio and video)"
                            if enc.encounter_class == "virtual"
                            else ""
                        ),
                    )
                )
        for stored in self.of_kind(Claim):
            claim = stored.record
            assert isinstance(claim, Claim)
            codes = {c.code for c in claim.procedures}
            if codes & VISIT_CPT and self.after_discharge(claim.from_date):
                assert claim.from_date is not None
                found.append(
                    Event(
                        claim.from_date,
                        stored,
                        f"claim for a visit ({', '.join(sorted(codes & VISIT_CPT))}) on {claim.from_date.isoformat()}",
                    )
                )
        return sorted(found, key=lambda v: v.day)

    @cached_property
    def calls(self) -> list[Event]:
        """Interactive contacts logged after discharge and by the as-of date: phone or care-manager notes."""
        found: dict[str, Event] = {}
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            day = as_date(section.document_date)
            title = f"{section.document_title or ''} {section.title}".lower()
            if (
                (
                    section.document_type in ("care_manager_note", "phone_note")
                    or re.search(r"phone|telephone|\bcall", title)
                )
                and self.after_discharge(day)
                and day is not None
                and day <= self.as_of
            ):
                found.setdefault(
                    stored.document_id,
                    Event(day, stored, f"{section.document_title or section.title} dated {day.isoformat()}"),
                )
        return sorted(found.values(), key=lambda c: c.day)
