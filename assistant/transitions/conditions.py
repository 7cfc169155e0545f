"""Items from the condition protocols and the patient's situation: the Timely Follow-Up visit after a heart
failure, COPD, diabetes or asthma stay (with daily weights for heart failure), STEADI and a falls-prevention referral
after a fall-related admission, Medicaid coordination for a dual-eligible patient, hospice, and a patient who died.

The stay's condition comes from its own diagnoses (coded conditions and reasons of the stay's encounters, HL7 DG1,
the discharge and admission diagnosis sections), never from the problem list: a heart failure on the problem list of
a patient admitted for pneumonia is not a heart failure exacerbation. TFU windows (knowledge/timely-follow-up.md)
are counted in calendar days from discharge and, like every deadline here, move earlier off a weekend or holiday;
any visit after discharge by then closes the item (the TCM visit counts when it falls inside the window).

The CARA falls-prevention referral is offered on STEADI's own merit: the knowledge base found no source for a
falls-prevention program within CARA or LEAD, and the item says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from assistant.business_days import calendar_deadline, why_moved
from assistant.records.model import Code, Coverage
from assistant.transitions import knowledge as k
from assistant.transitions.item import Item
from assistant.transitions.sources import StoredRecord, read_patient_entries, record_citation
from assistant.transitions.stay import Diagnosis, Line, Stay
from assistant.transitions.tcm import Setting

FALL_SNOMED = {"1912002", "217082002", "161898004"}  # Fall (event), Accidental fall (event), Falls (finding)
FALL_WORDS = re.compile(r"\b(falls?|fell|fallen)\b", re.IGNORECASE)
WEIGH = re.compile(
    r"\b(weigh (?:yourself|every|each|daily|in)|daily weights?|weigh-ins?|weights? (?:daily|every|each)|"
    r"check your weight|record your weight)\b",
    re.IGNORECASE,
)
THRESHOLD = re.compile(
    r"\b(gain\w*|up|increase\w*|more than|over)\b[^.]*?\d+(?:\.\d+)?\s*(?:lbs?|pounds?|kg|"
    r"kilograms?)\b",
    re.IGNORECASE,
)
DUALS = ("full", "partial")


@dataclass(frozen=True)
class TfuCondition:
    """A condition with a Timely Follow-Up window."""

    name: str
    icd10: tuple[str, ...]
    snomed: frozenset[str]
    words: re.Pattern[str]
    days: int
    sentence: k.Sentence


CONDITIONS = (
    TfuCondition(
        "heart failure",
        ("I50", "I110", "I130", "I132"),
        frozenset({"84114007", "42343007", "85232009", "10633002", "88805009"}),
        re.compile(r"\b(heart failure|chf|congestive)\b", re.IGNORECASE),
        14,
        k.TFU_HEART_FAILURE,
    ),
    TfuCondition(
        "COPD",
        ("J44", "J43"),
        frozenset({"13645005", "195951007"}),
        re.compile(r"\b(copd|chronic obstructive)\b", re.IGNORECASE),
        30,
        k.TFU_COPD,
    ),
    TfuCondition(
        "diabetes",
        ("E08", "E09", "E10", "E11", "E13"),
        frozenset({"44054006", "46635009", "73211009", "420422005"}),
        re.compile(r"\b(diabet\w*|hyperglyc\w*|hypoglyc\w*|dka)\b", re.IGNORECASE),
        14,
        k.TFU_DIABETES,
    ),
    TfuCondition(
        "asthma",
        ("J45", "J46"),
        frozenset({"195967001"}),
        re.compile(r"\basthma\w*\b", re.IGNORECASE),
        14,
        k.TFU_ASTHMA,
    ),
)


def _coded(code: Code | None, icd10: tuple[str, ...], snomed: frozenset[str]) -> bool:
    if code is None:
        return False
    value = code.code.upper().replace(".", "")
    return (code.system == "snomed" and code.code in snomed) or (code.system != "snomed" and value.startswith(icd10))


def has(stay: Stay, condition: TfuCondition, principal_only: bool = True) -> list[Diagnosis]:
    """The stay's diagnoses of this condition; by default only the principal ones (what the stay was for)."""
    return [
        d
        for d in stay.diagnoses
        if (d.principal or not principal_only)
        and (_coded(d.code, condition.icd10, condition.snomed) or condition.words.search(d.text))
    ]


def items(stay: Stay, where: Setting, claimed: set[int]) -> list[Item]:
    found: list[Item] = []
    for condition in CONDITIONS:
        diagnoses = has(stay, condition)
        if diagnoses:
            found.append(_timely_follow_up(stay, condition, diagnoses))
    weights = _daily_weights(stay, bool(has(stay, CONDITIONS[0], principal_only=False)), claimed)
    if weights is not None:
        found.append(weights)
    found.extend(_falls(stay))
    found.extend(_medicaid(stay))
    if where.kind == "hospice":
        found.append(_hospice(stay, where))
    return found


def _timely_follow_up(stay: Stay, condition: TfuCondition, diagnoses: list[Diagnosis]) -> Item:
    due = calendar_deadline(stay.discharged, condition.days)
    moved = why_moved(stay.discharged + timedelta(days=condition.days), due)
    item = Item(
        f"tfu-{condition.name.lower().replace(' ', '-')}",
        "condition",
        f"Timely Follow-Up after a {condition.name} stay: a follow-up visit within {condition.days} days of "
        "discharge, by "
        f"{due.isoformat()} ({due.strftime('%A')}); the TCM visit counts when it falls inside the window.",
        due,
        "care_coordinator",
        True,
        stay.status(due),
        [f"diagnosis of this stay: {d.text}" for d in diagnoses[:3]] + ([moved] if moved else []),
        [*[d.citation for d in diagnoses[:2]], *stay.knowledge(condition.sentence, k.TFU_TCM_COUNTS)],
    )
    visit = next((v for v in stay.visits if v.day <= due), None)
    if visit is not None:
        item.status = "done"
        item.evidence.append(visit.description)
        item.citations.append(record_citation(visit.stored))
    return item


def _daily_weights(stay: Stay, heart_failure: bool, claimed: set[int]) -> Item | None:
    weigh = [c for c in stay.instruction_clauses if WEIGH.search(c.text)]
    if not weigh and not heart_failure:
        return None
    threshold = [c for c in stay.instruction_clauses if THRESHOLD.search(c.text)]
    used: list[Line] = list({line.span.start: line for line in [*weigh, *threshold]}.values())
    claimed.update(line.span.start for line in used)
    cites = [stay.line_citation(line) for line in used]
    if weigh and threshold:
        text = (
            f'Daily weights: the discharge instructions say "{weigh[0].text}" and "{threshold[0].text}". Ask '
            "the patient to say back when to weigh, the weight gain that means calling, and whom to call; check "
            "there is a scale at home."
        )
        status = stay.status(stay.contact_due)
    elif weigh:
        text = (
            f'Daily weights: the discharge instructions say "{weigh[0].text}" but give no weight-gain threshold: '
            "ask the clinician for one, then teach it back with the patient; check there is a scale at home."
        )
        status = "needs_input"
    else:
        text = (
            "Daily weights after a heart failure stay: the discharge instructions name no daily weights or "
            "weight-gain threshold: ask the clinician for the plan, then teach it back; check there is a scale at "
            "home."
        )
        status = "needs_input"
    evidence = [f'instruction: "{line.text}"' for line in used] or ["no daily-weights instruction in the record"]
    if heart_failure:
        evidence.insert(0, "heart failure diagnosis of this stay")
    return Item(
        "daily-weights",
        "education",
        text,
        stay.contact_due,
        "care_manager",
        True,
        status,
        evidence,
        [*cites, *stay.knowledge(k.RED_EDUCATE, k.BOOST_TEACH_BACK)],
    )


def _falls(stay: Stay) -> list[Item]:
    falls = [d for d in stay.diagnoses if _is_fall(d)]
    if not falls:
        return []
    evidence = [f"fall-related diagnosis of this stay: {d.text}" for d in falls[:3]]
    cites = [d.citation for d in falls[:2]]
    referral_due = calendar_deadline(stay.discharged, 30)
    return [
        Item(
            "falls-steadi",
            "condition",
            "Fall-related admission: screen and assess with CDC STEADI at the TCM visit (Timed Up-and-Go, 30-Second "
            "Chair Stand, 4-Stage Balance, orthostatic blood pressure, a review of fall-risk medicines) and share the "
            "result with the clinician.",
            stay.visit_due,
            "nurse",
            True,
            stay.status(stay.visit_due),
            evidence,
            [*cites, *stay.knowledge(k.STEADI_AFTER_FALL, k.STEADI_ASSESS)],
        ),
        Item(
            "falls-referral",
            "condition",
            "Offer a falls-prevention referral (physical therapy, or a community class such as Tai Chi or A Matter of "
            "Balance) after talking it through with the clinician. A CARA falls-prevention program is unconfirmed: "
            "check the ACO's own arrangement before promising one.",
            referral_due,
            "care_manager",
            True,
            stay.status(referral_due),
            [*evidence, "the CARA link is unconfirmed; the referral stands on STEADI"],
            [*cites, *stay.knowledge(k.STEADI_INTERVENE, k.CARA_FALLS_UNCONFIRMED)],
        ),
    ]


def _is_fall(diagnosis: Diagnosis) -> bool:
    code = diagnosis.code
    if code is not None:
        value = code.code.upper().replace(".", "")
        if code.system == "snomed" and code.code in FALL_SNOMED:
            return True
        if code.system != "snomed" and value[:1] == "W" and value[1:3].isdigit() and int(value[1:3]) <= 19:
            return True
    return FALL_WORDS.search(diagnosis.text) is not None


def _active_coverages(stay: Stay) -> list[StoredRecord]:
    found = []
    for stored in stay.of_kind(Coverage):
        coverage = stored.record
        assert isinstance(coverage, Coverage)
        if (coverage.end is None or coverage.end >= stay.discharged) and (
            coverage.start is None or coverage.start <= stay.discharged
        ):
            found.append(stored)
    return found


def _medicaid(stay: Stay) -> list[Item]:
    coverages = _active_coverages(stay)
    duals = [s for s in coverages if s.record.dual_status in DUALS]  # type: ignore[union-attr]
    if duals:
        status = duals[-1].record.dual_status  # type: ignore[union-attr]
        return [
            Item(
                "medicaid-coordination",
                "condition",
                f"{str(status).capitalize()} dual-eligible: share the discharge plan with the patient's Medicaid plan "
                "or "
                "state Medicaid office and line up the long-term services and supports it pays for (home care, "
                "transport, "
                "meals); update the joint care plan. Check whether the state is a LEAD Medicaid partner before "
                "promising "
                "an integrated benefit.",
                stay.visit_due,
                "community_health_worker",
                True,
                stay.status(stay.visit_due),
                [f"{s.record.payer} coverage, dual status {s.record.dual_status}" for s in duals],  # type: ignore[union-attr]
                [
                    *[record_citation(s) for s in duals[:2]],
                    *stay.knowledge(k.DUAL_LTSS, k.DUAL_CARE_PLANS, k.DUAL_PARTNER_STATE),
                ],
            )
        ]
    unknown = [s for s in coverages if s.record.dual_status == "unknown"]  # type: ignore[union-attr]
    if unknown:
        return [
            Item(
                "medicaid-status",
                "condition",
                "Confirm and record the patient's Medicaid status (full or partial dual): Medicare and Medicaid "
                "coverage are "
                "both on file without a dual status, and Medicaid may pay for services after discharge.",
                stay.visit_due,
                "community_health_worker",
                False,
                "needs_input",
                [f"{s.record.payer} coverage without a dual status code" for s in unknown],  # type: ignore[union-attr]
                [*[record_citation(s) for s in unknown[:2]], *stay.knowledge(k.DUAL_RECORD_STATUS)],
            )
        ]
    return []


def _hospice(stay: Stay, where: Setting) -> Item:
    return Item(
        "hospice",
        "condition",
        "Discharged to hospice: confirm the hospice agency and its contact, agree with the hospice team who leads care "
        "and who calls the patient, and align the ACO's outreach with the hospice plan (no duplicate calls).",
        stay.contact_due,
        "care_manager",
        True,
        stay.status(stay.contact_due),
        [where.explanation],
        [*stay.episode.sources[:1], *stay.knowledge(k.BOOST_PALLIATIVE, k.TCM_COMMUNITY)],
    )


def deceased(stay: Stay, where: Setting) -> Item:
    """The one thing left when the patient died: stop outreach for this discharge and close the episode."""
    entries = [
        e for e in read_patient_entries(stay.engine, stay.episode.patient_id) if getattr(e.record, "deceased", False)
    ]
    cites = [*[record_citation(e) for e in entries[:1]], *stay.episode.sources[:1]]
    return Item(
        "deceased",
        "documents",
        "The patient died: stop calls and letters for this discharge, tell the PCP and the care team, record the "
        "death in the care management record, and close the episode.",
        stay.contact_due,
        "care_manager",
        True,
        stay.status(stay.contact_due),
        [where.explanation],
        [*cites, *stay.knowledge(k.TCM_QUALIFY)],
    )
