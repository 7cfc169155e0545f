"""Transitional Care Management items: where the patient went, the suggested complexity, the interactive contact
within 2 business days and the face-to-face visit within 7 or 14 days.

Deadlines come from ``assistant.business_days`` (weekends and federal holidays skipped; a calendar-day deadline
that lands on one moves earlier, never later). The complexity is a suggestion read from the record (a readmission
within 30 days, a heart failure, COPD or acute MI diagnosis of the stay, a new or changed anticoagulant, insulin or
opioid), explained with what it rests on; the clinician decides the medical decision making level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from assistant.business_days import add_business_days, calendar_deadline, why_moved
from assistant.transitions import knowledge as k
from assistant.transitions import medications as meds
from assistant.transitions.episodes import CANCELLED
from assistant.transitions.item import Item
from assistant.transitions.sources import record_citation
from assistant.transitions.stay import Stay

CONTACT_BUSINESS_DAYS = 2
HIGH_VISIT_DAYS, MODERATE_VISIT_DAYS = 7, 14
READMISSION_DAYS = 30
# NUBC discharge status codes that send the patient to another facility rather than home (knowledge/tcm.md).
NOT_COMMUNITY = {"02", "03", "04", "05", "09", "51", "61", "62", "63", "64", "65", "66", "70", "43"}
NOT_COMMUNITY_WORDS = ("snf", "skilled nursing", "long_term_care", "long term care", "other_facility", "psych",
                       "rehab", "acute_transfer", "short-term general hospital", "intermediate care",
                       "medical facility", "nursing facility", "swing bed", "critical access")  # fmt: skip
DIED = {"20", "40", "41", "42"}
DIED_WORDS = ("expired", "died", "death", "deceased")
HOSPICE = {"50", "51"}
HIGH_ACUITY = {"I50": "heart failure", "J44": "COPD", "I21": "acute myocardial infarction"}
HIGH_ACUITY_WORDS = {"heart failure": "heart failure", "chronic obstructive": "COPD", "copd": "COPD",
                     "myocardial infarction": "acute myocardial infarction"}  # fmt: skip
HIGH_RISK_FOR_COMPLEXITY = {"anticoagulant", "insulin", "opioid"}


@dataclass(frozen=True)
class Setting:
    """Where the patient went: ``community``, ``facility``, ``hospice``, ``died`` or ``unknown``."""

    kind: str
    explanation: str

    @property
    def tcm_applies(self) -> bool | None:
        return {"community": True, "hospice": True, "facility": False, "died": False}.get(self.kind)


def setting(stay: Stay) -> Setting:
    disposition = (stay.episode.disposition or "").strip()
    code = disposition.split(" ", 1)[0].zfill(2) if disposition[:2].strip().isdigit() else ""
    lowered = disposition.lower()
    if code in DIED or any(word in lowered for word in DIED_WORDS):
        return Setting("died", f"discharge disposition '{disposition}': the patient died")
    if stay.patient is not None and stay.patient.deceased:
        return Setting("died", "the patient is recorded as deceased")
    if not disposition:
        return Setting("unknown", "the record names no discharge disposition, so whether TCM applies is not shown")
    if code in NOT_COMMUNITY or any(word in lowered for word in NOT_COMMUNITY_WORDS):
        return Setting("facility", f"discharged to '{disposition}', not a community setting: TCM may not apply")
    if code in HOSPICE or "hospice" in lowered:
        return Setting("hospice", f"discharged to '{disposition}' (hospice care at home, a community setting)")
    return Setting("community", f"discharged to '{disposition}'")


def acuity(code: str, text: str | None) -> str | None:
    for prefix, label in HIGH_ACUITY.items():
        if code.upper().replace(".", "").startswith(prefix):
            return label
    lowered = (text or "").lower()
    return next((label for word, label in HIGH_ACUITY_WORDS.items() if word in lowered), None)


def complexity(stay: Stay, changes: list[meds.MedicationChange]) -> dict[str, Any]:
    """Suggest 99496 (high) or 99495 (moderate) from signals in the record; the clinician decides the MDM."""
    signals: list[dict[str, Any]] = []
    start = stay.admitted - timedelta(days=READMISSION_DAYS)
    for other in stay.history:
        if other.id != stay.episode.id and other.status != CANCELLED and start <= other.discharge_date < stay.admitted:
            signals.append(
                {
                    "signal": f"readmission: discharged {other.discharge_date.isoformat()}, within "
                    f"{READMISSION_DAYS} days before this admission",
                    "citations": other.sources[:1],
                }
            )
    seen: set[str] = set()
    for diagnosis in stay.diagnoses:
        label = acuity(diagnosis.code.code if diagnosis.code else "", diagnosis.text)
        if label and diagnosis.text.lower() not in seen:
            seen.add(diagnosis.text.lower())
            signals.append(
                {"signal": f"diagnosis of this stay: {diagnosis.text} ({label})", "citations": [diagnosis.citation]}
            )
    for change in changes:
        if change.high_risk in HIGH_RISK_FOR_COMPLEXITY and change.change in ("new", "dose_changed"):
            signals.append(
                {
                    "signal": f"high-risk medication {change.change.replace('_', ' ')}: {change.name} "
                    f"({change.high_risk})",
                    "citations": change.citations,
                }
            )
    high = bool(signals)
    if high:
        why = (
            "Suggested high complexity (99496, face-to-face visit within 7 days) because the record shows: "
            + "; ".join(s["signal"] for s in signals)
            + ". The clinician decides the medical decision making level."
        )
    else:
        why = (
            "No high-complexity signal found in the record (a readmission within 30 days, a heart failure, COPD or "
            "acute MI diagnosis for this stay, a new or changed anticoagulant, insulin or opioid): suggested "
            "moderate complexity (99495, face-to-face visit within 14 days). A visit within 7 days still qualifies, "
            "and the clinician decides the level."
        )
    return {
        "level": "high" if high else "moderate",
        "code": "99496" if high else "99495",
        "visit_days": HIGH_VISIT_DAYS if high else MODERATE_VISIT_DAYS,
        "explanation": why,
        "signals": signals,
        "citations": stay.knowledge(k.TCM_HIGH if high else k.TCM_MODERATE),
    }


def items(stay: Stay, level: dict[str, Any], where: Setting) -> list[Item]:
    """The contact and the visit; sets ``stay.contact_due`` and ``stay.visit_due`` for the other items."""
    episode_cites = stay.episode.sources[:3]
    contact_due = add_business_days(stay.discharged, CONTACT_BUSINESS_DAYS)
    stay.contact_due = contact_due
    contacts = sorted([*stay.calls, *[v for v in stay.visits if v.day <= stay.as_of]], key=lambda c: c.day)
    contact = Item(
        "tcm-contact",
        "tcm",
        f"Reach the patient or caregiver for the TCM interactive contact (phone, in person or electronic) by "
        f"{contact_due.isoformat()} ({contact_due.strftime('%A')}): {CONTACT_BUSINESS_DAYS} business days after the "
        f"{stay.discharged.isoformat()} discharge, weekends and federal holidays not counted.",
        contact_due,
        "care_manager",
        True,
        stay.status(contact_due),
        [where.explanation],
        [*episode_cites, *stay.knowledge(k.TCM_CONTACT, k.TCM_BUSINESS_DAYS)],
    )
    if contacts:
        first = contacts[0]
        contact.status = "done" if first.day <= contact_due else "late"
        contact.evidence.append(
            first.description + ("" if first.day <= contact_due else f", after the {contact_due} deadline")
        )
        contact.citations.append(record_citation(first.stored))
    visit_days = level["visit_days"]
    raw_due = stay.discharged + timedelta(days=visit_days)
    visit_due = calendar_deadline(stay.discharged, visit_days)
    stay.visit_due = visit_due
    moved = why_moved(raw_due, visit_due)
    visit = Item(
        "tcm-visit",
        "tcm",
        f"Book the TCM face-to-face visit for no later than {visit_due.isoformat()} ({visit_due.strftime('%A')}): "
        f"within {visit_days} days of discharge for {level['level']} complexity ({level['code']}).",
        visit_due,
        "care_coordinator",
        True,
        stay.status(visit_due),
        [where.explanation, level["explanation"], *([moved] if moved else [])],
        [*episode_cites, *stay.knowledge(k.TCM_HIGH if level["level"] == "high" else k.TCM_MODERATE)],
    )
    in_time = next((v for v in stay.visits if v.day <= visit_due), None)
    if in_time is not None:
        visit.status = "done"
        visit.evidence.append(in_time.description)
        visit.citations.append(record_citation(in_time.stored))
    elif stay.visits:
        first = stay.visits[0]
        if first.day <= stay.as_of:
            visit.status = "late"
        visit.evidence.append(
            f"{first.description}, after the {visit_due.isoformat()} deadline: an earlier slot would "
            f"keep {level['code']} possible"
        )
        visit.citations.append(record_citation(first.stored))
    if where.tcm_applies is False:
        for item in (contact, visit):
            if item.status not in ("done", "late"):
                item.status = "not_applicable"
            item.citations.extend(stay.knowledge(k.TCM_QUALIFY, k.TCM_COMMUNITY))
    return [contact, visit]
