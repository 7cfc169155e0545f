"""The facts a template's placeholders are filled with, each read from the record or the settings and cited.

Nothing is typed in: the first name comes from a source document's own Patient entry (cited to it), the discharge
date from the transitions engine's episode (cited to the records that describe the discharge), the appointment
from a planned encounter on record, the medication changes from the transitions engine's reconciliation diff (each
cited to both lists), and the organization's name and callback number from the settings. A fact the record lacks
stops the draft with one line saying what is missing, instead of a message with a guess in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from assistant.errors import CaretrailError
from assistant.outreach.dates import format_date
from assistant.outreach.purposes import PURPOSES
from assistant.outreach.templates import Template
from assistant.records.model import Encounter, Patient
from assistant.records.store import PatientRow
from assistant.transitions import episodes
from assistant.transitions.checklist import build_checklist
from assistant.transitions.sources import read_patient_records, record_citation

PLANNED_STATUSES = {"planned", "booked", "arrived", "triaged"}
ORG_SETTING = "CARETRAIL_OUTREACH_ORG_NAME"
CALLBACK_SETTING = "CARETRAIL_OUTREACH_CALLBACK_NUMBER"


class MissingFact(CaretrailError):
    """The record (or the settings) lacks a fact the message needs: no draft, and the reason in one line."""

    status_code = 422
    exit_code = 1


@dataclass
class Fact:
    name: str
    value: Any  # a str, a date, or a list of medication changes
    citations: list[dict[str, Any]] = field(default_factory=list)

    def render(self, template: Template) -> str:
        """The value as ``template``'s language writes it (dates and change words differ; names do not)."""
        if isinstance(self.value, date):
            return format_date(self.value, template.language)
        if self.name == "medication_changes":
            words = template.meta.get("change_words") or {}
            separator = str(template.meta.get("list_separator", "; "))
            return separator.join(f"{c['medication']} ({words.get(c['change'], c['change'])})" for c in self.value)
        return str(self.value)


@dataclass
class Settings:
    """The two settings a message may quote, passed in plain (engines never read the settings object)."""

    org_name: str | None
    callback_number: str | None


def _source_citation(document_id: str, entry: Patient, field_name: str, quote: str) -> dict[str, Any]:
    provenance = entry.provenance
    return {
        "type": "record",
        "document_id": document_id,
        "record_id": entry.key,
        "kind": "patient",
        "source_path": provenance.source_path,
        "format": provenance.format,
        "locator": provenance.locator,
        "start": provenance.start,
        "end": provenance.end,
        "field": field_name,
        "quote": quote,
    }


def first_name(patient: PatientRow, sources: list[tuple[str, Patient]]) -> Fact:
    if not patient.given:
        raise MissingFact(
            "the record has no first name for this patient (Patient.name.given), so no message can greet them"
        )
    name = patient.given[0]
    cited = [
        _source_citation(doc, entry, "name.given[0]", name)
        for doc, entry in sources
        if entry.given and entry.given[0] == name
    ]
    return Fact("first_name", name, cited[:1])


def language_citation(patient: PatientRow, sources: list[tuple[str, Patient]]) -> dict[str, Any] | None:
    for doc, entry in sources:
        if entry.language and entry.language == patient.language:
            return _source_citation(doc, entry, "communication.language", entry.language)
    return None


def setting_facts(values: Settings) -> list[Fact]:
    missing = [
        name
        for name, value in ((ORG_SETTING, values.org_name), (CALLBACK_SETTING, values.callback_number))
        if not (value or "").strip()
    ]
    if missing:
        raise MissingFact(
            f"set {' and '.join(missing)}: every message names the organization and a number to call "
            "back (TCPA healthcare-message exemption)"
        )
    return [
        Fact("org_name", values.org_name, [{"type": "setting", "name": ORG_SETTING}]),
        Fact("callback_number", values.callback_number, [{"type": "setting", "name": CALLBACK_SETTING}]),
    ]


def _latest_episode(engine: Engine, patient_id: str, as_of: date) -> tuple[episodes.Episode, list[episodes.Episode]]:
    episodes.sync(engine, {patient_id})
    found = episodes.list_episodes(engine, {patient_id})
    live = [e for e in found if e.discharge_date <= as_of and e.status != episodes.CANCELLED]
    if not live:
        raise MissingFact(f"no discharge on or before {as_of.isoformat()} in this patient's records")
    return live[0], found


def discharge_date(engine: Engine, patient_id: str, as_of: date) -> Fact:
    episode, _ = _latest_episode(engine, patient_id, as_of)
    return Fact("discharge_date", episode.discharge_date, list(episode.sources))


def medication_changes(engine: Engine, patient_id: str, as_of: date) -> Fact:
    episode, history = _latest_episode(engine, patient_id, as_of)
    checklist = build_checklist(engine, episode, as_of, history=history)
    changes = [c for c in checklist.medication_changes if c["change"] in ("new", "stopped", "dose_changed", "held")]
    if not changes:
        lacking = ", ".join(checklist.missing) or "no changes between the lists"
        raise MissingFact(f"no medication change at the discharge of {episode.discharge_date.isoformat()} ({lacking})")
    citations = [citation for change in changes for citation in change["citations"]]
    return Fact(
        "medication_changes",
        [{"change": c["change"], "medication": short_name(c["medication"])} for c in changes],
        citations,
    )


_STRENGTH_END = re.compile(
    r"^(.*?\d+(?:\.\d+)?\s*(?:MG|MCG|G|ML|MEQ|UNT|UNITS?|%)(?:/\s*\d*\s*(?:ML|HR|ACTUAT))?)\b", re.IGNORECASE
)


def short_name(display: str) -> str:
    """``Apixaban 5 MG Oral Tablet`` -> ``Apixaban 5 MG``: the drug and its strength, the record's own words (a
    prefix of the cited display), without the dose form that makes a text message harder to read."""
    match = _STRENGTH_END.match(display)
    return match.group(1).strip() if match else display


def appointment_date(engine: Engine, patient_id: str, as_of: date) -> Fact:
    upcoming = []
    for stored in read_patient_records(engine, patient_id):
        record = stored.record
        if isinstance(record, Encounter) and (record.status or "").lower() in PLANNED_STATUSES and record.start:
            day = record.start.date()
            if day >= as_of:
                upcoming.append((day, stored))
    if not upcoming:
        raise MissingFact(
            f"no upcoming visit on or after {as_of.isoformat()} in this patient's records (an "
            "Encounter with status planned, booked or arrived)"
        )
    day, stored = min(upcoming, key=lambda pair: pair[0])
    return Fact("appointment_date", day, [record_citation(stored)])


def gather(
    purpose: str,
    engine: Engine,
    patient: PatientRow,
    sources: list[tuple[str, Patient]],
    as_of: date,
    settings: Settings,
    message: str | None = None,
    author: str | None = None,
) -> dict[str, Fact]:
    """Every fact ``purpose``'s templates use, or ``MissingFact`` naming the first one the record lacks."""
    wanted = PURPOSES[purpose].placeholders
    facts = {fact.name: fact for fact in setting_facts(settings)}
    facts["first_name"] = first_name(patient, sources)
    if "discharge_date" in wanted:
        facts["discharge_date"] = discharge_date(engine, patient.id, as_of)
    if "appointment_date" in wanted:
        facts["appointment_date"] = appointment_date(engine, patient.id, as_of)
    if "medication_changes" in wanted:
        facts["medication_changes"] = medication_changes(engine, patient.id, as_of)
    if "message" in wanted:
        if not (message or "").strip():
            raise MissingFact('free_text needs the message text (--text, or "text" in the request)')
        facts["message"] = Fact("message", " ".join(message.split()), [{"type": "care_team", "by": author}])
    return facts
