"""The discharge summary itself, and what it names for after discharge: follow-up appointments and referrals,
and results still pending, each with who must follow it up and by when.

A follow-up's due date is the appointment date it names when that date is after the discharge, else the interval
it names ("in 1 week") counted from the discharge date (a date on a weekend or holiday moves earlier), else none.
A follow-up with the patient's own doctor is done when the record shows a visit after discharge by its due date
(the TCM visit is that visit); any other appointment is confirmed by a person. Plan-of-treatment tables give one
item per planned activity; their header rows, sub-headings and goals are not appointments.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from assistant.business_days import calendar_deadline, why_moved
from assistant.records.model import DocumentSection, Practitioner
from assistant.transitions import knowledge as k
from assistant.transitions.item import Item, text_id
from assistant.transitions.sources import record_citation
from assistant.transitions.stay import PLAN_LOINC, Line, Stay, is_heading
from assistant.transitions.text_lines import explicit_date, interval_days

FOLLOW_UP = re.compile(
    r"\b(follow[- ]?up|followup|appointment|appt|referr\w*|refer(?:red)? to|see (?:dr|your|the|a|an)\b|"
    r"see [a-z]+(?:ology|ics|ist|ists|ery)\b|clinic\b|visit with|check[- ]?up with)",
    re.IGNORECASE,
)
PENDING = re.compile(r"\b(pending|awaiting|not yet resulted|outstanding at discharge)\b", re.IGNORECASE)
OWN_DOCTOR = re.compile(
    r"\b(your (?:doctor|physician|primary care|pcp|family doctor|regular doctor)|primary care|"
    r"\bpcp\b)",
    re.IGNORECASE,
)
_TITLE_WORDS = re.compile(r"^[A-Z][A-Za-z]*(?:\s+[A-Z][A-Za-z]*){0,2}$")


def summary_item(stay: Stay) -> Item:
    facility = stay.episode.facility or "the discharging facility"
    cites = stay.knowledge(k.TCM_DOC_SUMMARY)
    if not stay.summary_sections:
        stay.missing.append("discharge summary")
        return Item(
            "discharge-summary",
            "documents",
            f"Request the discharge summary from {facility}: the record has none for this stay, so medications, "
            "follow-ups and pending results cannot be read from it.",
            stay.contact_due,
            "care_coordinator",
            True,
            "needs_input",
            ["no discharge summary dated within this stay is in the record"],
            [*stay.episode.sources[:1], *cites],
        )
    first = stay.summary_sections[0]
    section = first.record
    assert isinstance(section, DocumentSection)
    dated = section.document_date.date().isoformat() if section.document_date else "undated"
    return Item(
        "discharge-summary",
        "documents",
        f"Review the discharge summary ({section.document_title or 'discharge summary'}, {dated}) and note in the "
        "record that it was received and reviewed.",
        stay.visit_due,
        "care_manager",
        True,
        stay.status(stay.visit_due),
        [f"received: {section.provenance.source_path}"],
        [record_citation(first), *cites],
    )


def responsible(stay: Stay) -> tuple[str, list[dict[str, Any]]]:
    """Who should follow up a pending result: the discharging or attending physician, else the PCP."""
    for roles in (("discharging", "attending", "responsible"), ("pcp",)):
        for stored in stay.of_kind(Practitioner):
            person = stored.record
            assert isinstance(person, Practitioner)
            if person.role in roles and (roles == ("pcp",) or stored.document_id in stay.summary_documents):
                return f"{person.name or person.npi or 'unnamed'} ({person.role})", [record_citation(stored)]
    return "the discharging physician or the PCP (the record names neither)", []


def names_an_appointment(text: str) -> bool:
    """A follow-up word that names an appointment ("follow up with Dr. Patel", "appointment in 1 week"), not one
    that only points at one ("bring the log to follow-up")."""
    for match in FOLLOW_UP.finditer(text):
        before = text[: match.start()].lower().split()[-2:]
        after = text[match.end() :].lower().split()[:1]
        pointing = any(w in ("to", "at", "before", "until", "for", "your") for w in before)
        if (
            match.group(0).lower().startswith("follow")
            and pointing
            and not (after and after[0] in ("with", "in", "within", "on", "at", "appointment", "visit"))
        ):
            continue
        return True
    return False


def _not_an_appointment(line: Line) -> bool:
    """Plan-of-treatment header rows, sub-headings ("Planned Observations") and goals."""
    text = line.text
    if " | " in text and not re.search(r"\d", text):
        return True
    if text.lower().startswith(("goal", "planned activity", "name |")):
        return True
    return _TITLE_WORDS.match(text) is not None and not FOLLOW_UP.search(text)


def follow_up_items(stay: Stay, claimed: set[int]) -> list[Item]:
    """Follow-ups and pending results; ``claimed`` holds the source offsets of clauses another item already uses."""
    follow_ups: list[Item] = []
    pending: list[Item] = []
    seen: set[str] = set()
    who, who_cites = responsible(stay)
    instruction_docs = {id(s) for s in stay.instruction_sections}
    for stored in stay.summary_sections:
        section = stored.record
        assert isinstance(section, DocumentSection)
        in_plan = section.loinc == PLAN_LOINC
        for clause in stay.clauses_of(stored):
            key = " ".join(clause.text.lower().split())
            if key in seen or clause.span.start in claimed or is_heading(clause):
                continue
            if PENDING.search(clause.text):
                seen.add(key)
                pending.append(
                    Item(
                        text_id("pending", clause.text),
                        "pending_result",
                        f'Result pending at discharge: "{clause.text}". Make sure {who} sees it when it returns and '
                        "that the "
                        "patient hears the outcome.",
                        None,
                        "clinician",
                        True,
                        "open",
                        [f"named in the discharge summary section '{section.title}'", f"responsible: {who}"],
                        [stay.line_citation(clause), *who_cites, *stay.knowledge(k.RED_PENDING)],
                    )
                )
                continue
            if id(stored) not in instruction_docs:
                continue
            if in_plan and _not_an_appointment(clause):
                continue
            if not in_plan and not names_an_appointment(clause.text):
                continue
            seen.add(key)
            follow_ups.append(_follow_up(stay, clause, section))
    return follow_ups + pending


def _follow_up(stay: Stay, clause: Line, section: DocumentSection) -> Item:
    due, how = _due(stay, clause.text)
    referral = re.search(r"\brefer", clause.text, re.IGNORECASE) is not None
    what = "Referral" if referral else "Follow-up"
    item = Item(
        text_id("followup", clause.text),
        "follow_up",
        f'{what} named in the discharge summary: "{clause.text}". Confirm it is booked and the patient knows the date '
        "and how to get there.",
        due,
        "care_coordinator",
        True,
        stay.status(due),
        [f"from the section '{section.title}'", how],
        [stay.line_citation(clause), *stay.knowledge(k.RED_APPOINTMENTS)],
    )
    if OWN_DOCTOR.search(clause.text):
        visit = next((v for v in stay.visits if due is None or v.day <= due), None)
        if visit is not None:
            item.status = "done"
            item.evidence.append(f"{visit.description} (a visit with the patient's own practice)")
            item.citations.append(record_citation(visit.stored))
    return item


def _due(stay: Stay, text: str) -> tuple[date | None, str]:
    written = explicit_date(text)
    if written is not None:
        day, words = written
        if day > stay.discharged:
            return day, f"the appointment date '{words}' as written"
        if day < stay.discharged:
            return None, f"the date '{words}' is before the {stay.discharged.isoformat()} discharge; no due date is set"
    found = interval_days(text)
    if found is None:
        return None, "the line names no date or interval from discharge; no due date is set"
    days, words = found
    due = calendar_deadline(stay.discharged, days)
    moved = why_moved(stay.discharged + timedelta(days=days), due)
    return due, f"'{words}' counted from the discharge date" + (f"; {moved}" if moved else "")
