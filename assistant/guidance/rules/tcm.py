"""Transitional Care Management (CPT 99495 / 99496) after a discharge: the interactive contact within 2 business
days (weekends and US federal holidays skipped) and the face-to-face visit within 7 or 14 days.

Why through the transitions engine: the checklist a care coordinator opens and the guidance item must show the
same deadline, so both come from ``build_checklist`` (episodes, business days, the complexity suggestion). Only
episodes still inside the 30-day TCM service period on the as-of date give items; a step the record shows done is
not suggested again.
"""

from __future__ import annotations

from datetime import date, timedelta

from assistant.business_days import holiday_name
from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.transitions import episodes
from assistant.transitions.checklist import Item, build_checklist
from assistant.transitions.episodes import Episode
from assistant.transitions.sources import StoredRecord, read_patient_records

NAME = "tcm"
KNOWLEDGE = "tcm"
PERIOD_DAYS = 30
CONTACT = ("The Transitional Care Management (TCM) deadline to reach the patient or caregiver with an interactive "
           "contact is 2 business days after discharge.")
BUSINESS_DAYS = ("For TCM, business days means Monday through Friday excluding holidays, regardless of the "
                 "practice's own office hours.")
VISIT_HIGH = ("Transitional Care Management code 99496 requires high-complexity medical decision making and a "
              "face-to-face visit within 7 calendar days of discharge.")
VISIT_MODERATE = ("Transitional Care Management code 99495 requires at least moderate-complexity medical decision "
                  "making and a face-to-face visit within 14 days of discharge.")
PERIOD = ("The Transitional Care Management service period lasts 30 days and starts on the day of discharge, "
          "according to RVUDoc.")
QUALIFY = ("A discharge qualifies for Transitional Care Management when the patient leaves an inpatient hospital "
           "setting for a community setting.")
STILL_TO_DO = ("open", "overdue")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    if facts.engine is None:
        return []
    episodes.sync(facts.engine, {facts.patient.id})
    history = episodes.list_episodes(facts.engine, {facts.patient.id})
    in_period = [e for e in history if e.status == episodes.OPEN
                 and e.discharge_date <= facts.as_of < e.discharge_date + timedelta(days=PERIOD_DAYS)]
    if not in_period:
        return []
    stored = read_patient_records(facts.engine, facts.patient.id)
    items = []
    for episode in in_period:
        checklist = build_checklist(facts.engine, episode, facts.as_of, history=history, records=stored)
        steps = {step.id: step for step in checklist.items}
        evidence = _discharge_evidence(episode, stored)
        notes = _disposition_notes(steps["tcm-contact"])
        contact, visit = steps["tcm-contact"], steps["tcm-visit"]
        if contact.status in STILL_TO_DO and contact.due is not None:
            items.append(item(
                facts, NAME, measure="TCM", owner_role="care_coordinator", priority="high", due=contact.due,
                action=f"Call the patient or caregiver (phone, in person or secure message with a real conversation) "
                       f"for the TCM interactive contact by {_day(contact.due)}",
                rationale=f"Discharged {episode.discharge_date.isoformat()}"
                          f"{' from ' + episode.facility if episode.facility else ''}: the contact is due 2 business "
                          f"days later, weekends and federal holidays not counted{_holidays(episode, contact.due)}.",
                evidence=evidence, notes=notes,
                citations=[facts.cite(KNOWLEDGE, CONTACT), facts.cite(KNOWLEDGE, BUSINESS_DAYS)],
            ))
        if visit.status in STILL_TO_DO and visit.due is not None:
            high = checklist.complexity["level"] == "high"
            items.append(item(
                facts, NAME, measure="TCM", owner_role="clinician", priority="high", due=visit.due,
                action=f"Offer the patient a TCM face-to-face visit (office, home, or real-time audio and video) by "
                       f"{_day(visit.due)}; the suggested level is {checklist.complexity['code']} and the clinician "
                       "decides the medical decision making level",
                rationale=f"Discharged {episode.discharge_date.isoformat()}: the face-to-face visit is due within "
                          f"{checklist.complexity['visit_days']} days ({checklist.complexity['level']} complexity "
                          "suggested from the record); a date on a weekend or holiday moves to the business day "
                          "before.",
                evidence=evidence, notes=(checklist.complexity["explanation"], *notes),
                citations=[facts.cite(KNOWLEDGE, VISIT_HIGH if high else VISIT_MODERATE), facts.cite(KNOWLEDGE, PERIOD)]
                + ([facts.cite(KNOWLEDGE, QUALIFY)] if notes else []),
            ))
    return items


def _discharge_evidence(episode: Episode, stored: list[StoredRecord]) -> list[Evidence]:
    """The records that opened the episode (an ADT A03, a FHIR Encounter, a discharge summary)."""
    places = {(source.get("document_id"), source.get("locator")) for source in episode.sources}
    return [Evidence.of(s.record, f"discharge on {episode.discharge_date.isoformat()}") for s in stored
            if (s.document_id, s.record.provenance.locator) in places]


def _disposition_notes(contact: Item) -> tuple[str, ...]:
    """Where the record names no discharge disposition, say so: whether TCM applies is then not known."""
    missing = [e for e in contact.evidence if "names no discharge disposition" in e]
    if not missing:
        return ()
    return ("Missing: the record names no discharge disposition, so whether the patient went to a community "
            "setting (and TCM applies) is not known; confirm it with the patient or the hospital.",)


def _holidays(episode: Episode, due: date) -> str:
    skipped = []
    day = episode.discharge_date + timedelta(days=1)
    while day <= due:
        name = holiday_name(day)
        if name and day.weekday() < 5:
            skipped.append(f"{name} {day.isoformat()}")
        day += timedelta(days=1)
    return f" ({', '.join(skipped)} skipped)" if skipped else ""


def _day(day: date) -> str:
    return f"{day.isoformat()} ({day.strftime('%A')})"
