"""What the patient needs at home after discharge: home health and equipment, a caregiver, transport, access needs
(physical, sensory, cognitive), an interpreter, and care brought home for a homebound patient.

Each item is read from the record (the discharge disposition, a line of the discharge summary, the patient's
preferred language, a Coverage or a Housebound finding) and cites it; where the record is silent about support at
home, the caregiver item says so and asks (it is not required to close the episode). Words are matched in the
discharge summary's instructions for equipment (a cane named in a functional-status table is a limitation, not an
order) and anywhere in the summary for the rest.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.records.model import Condition, Coverage, Observation, Order
from assistant.transitions import knowledge as k
from assistant.transitions.item import Item
from assistant.transitions.sources import StoredRecord, read_patient_entries, record_citation
from assistant.transitions.stay import Line, Stay, is_heading
from assistant.transitions.text_lines import as_date

HOME_HEALTH = re.compile(
    r"\b(home health|home care|visiting nurse|vna|home nursing|home (?:physical|occupational|speech) "
    r"therapy|home pt|home infusion|skilled nursing visits?)\b",
    re.IGNORECASE,
)
EQUIPMENT = re.compile(
    r"\b(walker|wheelchair|rollator|cane|bedside commode|commode|hospital bed|home oxygen|oxygen|o2|"
    r"concentrator|cpap|bipap|nebuli[sz]er|glucometer|glucose meter|blood pressure cuff|bathroom scale|"
    r"scale|shower chair|grab bars?|durable medical equipment|dme)\b",
    re.IGNORECASE,
)
CAREGIVER = re.compile(
    r"\b(caregiver|care giver|lives alone|lives with|daughter|son|wife|husband|spouse|partner|"
    r"family member|neighbou?r|support at home|home alone)\b",
    re.IGNORECASE,
)
TRANSPORT = re.compile(
    r"\b(transportation|transport|no car|(?:cannot|can't|unable to|does not|doesn't) drive|needs? a ride|"
    r"rides?\b to|bus pass|paratransit)\b",
    re.IGNORECASE,
)
ACCESS = re.compile(
    r"\b(hard of hearing|hearing (?:loss|impair\w*|aid)|deaf|low vision|blind|visual(?:ly)? impair\w*|"
    r"memory impairment|memory loss|dementia|cognitive impairment|health literacy|"
    r"cannot read|unable to read|walking stick|cane|walker|wheelchair)\b",
    re.IGNORECASE,
)
HOUSEBOUND = "160685001"
HOME_HEALTH_DISPOSITION = re.compile(r"^0?6\b|home.?health", re.IGNORECASE)
ENGLISH = "en"


def items(stay: Stay) -> list[Item]:
    found = [
        *_home_health(stay),
        *_equipment(stay),
        _caregiver(stay),
        *_transport(stay),
        *_access(stay),
        *_interpreter(stay),
        *_homebound(stay),
    ]
    return [item for item in found if item is not None]


def _matches(pattern: re.Pattern[str], clauses: list[Line]) -> list[Line]:
    seen: set[int] = set()
    found = []
    for clause in clauses:
        if pattern.search(clause.text) and clause.span.start not in seen and not is_heading(clause):
            seen.add(clause.span.start)
            found.append(clause)
    return found


def _quote(found: list[Line], limit: int = 3) -> str:
    shown = "; ".join(f'"{line.text}"' for line in found[:limit])
    return shown + (f" and {len(found) - limit} more" if len(found) > limit else "")


def _home_health(stay: Stay) -> list[Item]:
    disposition = (stay.episode.disposition or "").strip()
    lines = _matches(HOME_HEALTH, stay.summary_clauses)
    by_disposition = bool(disposition) and HOME_HEALTH_DISPOSITION.search(disposition) is not None
    if not lines and not by_disposition:
        return []
    evidence = ([f"discharged to '{disposition}'"] if by_disposition else []) + [
        f'named in the discharge summary: "{line.text}"' for line in lines
    ]
    cites = ([*stay.episode.sources[:1]] if by_disposition else []) + [stay.line_citation(line) for line in lines]
    return [
        Item(
            "home-health",
            "services",
            "Confirm home health services start: the agency has the referral and the orders, the first visit is "
            "booked, "
            "and the patient knows the date. Home health use is also a LEAD High Needs criterion to check.",
            stay.contact_due,
            "care_coordinator",
            True,
            stay.status(stay.contact_due),
            evidence,
            [*cites, *stay.knowledge(k.RED_SERVICES, k.HOME_HEALTH_HIGH_NEEDS)],
        )
    ]


def _equipment(stay: Stay) -> list[Item]:
    lines = _matches(EQUIPMENT, stay.instruction_clauses)
    orders: list[StoredRecord] = []
    for stored in stay.of_kind(Order):
        order = stored.record
        assert isinstance(order, Order)
        ordered = as_date(order.authored_on)
        if order.resource_type == "DeviceRequest" and (
            order.encounter_id in stay.episode.encounter_ids
            or (ordered is not None and stay.admitted <= ordered <= stay.discharged)
        ):
            orders.append(stored)
    if not lines and not orders:
        return []
    named = [f'"{line.text}"' for line in lines] + [
        f"{s.record.code.display or s.record.code.code} ordered" for s in orders
    ]  # type: ignore[union-attr]
    return [
        Item(
            "equipment",
            "services",
            f"Confirm the equipment is delivered and the patient can use it: {'; '.join(named[:4])}"
            f"{' and more' if len(named) > 4 else ''}.",
            stay.contact_due,
            "care_coordinator",
            True,
            stay.status(stay.contact_due),
            [f"durable medical equipment named: {n}" for n in named],
            [
                *[stay.line_citation(line) for line in lines],
                *[record_citation(s) for s in orders],
                *stay.knowledge(k.RED_SERVICES),
            ],
        )
    ]


def _caregiver(stay: Stay) -> Item:
    lines = _matches(CAREGIVER, stay.summary_clauses)
    cites = stay.knowledge(k.BOOST_SUPPORT)
    if not lines:
        return Item(
            "caregiver",
            "support",
            "Ask who helps the patient at home (a caregiver, family, a neighbour) and whether they should join "
            "the call and the teach-back: the discharge record names no caregiver or support.",
            stay.contact_due,
            "care_manager",
            False,
            "needs_input",
            ["no caregiver or support at home is named in the discharge record"],
            cites,
        )
    alone = any(re.search(r"lives alone|home alone", line.text, re.IGNORECASE) for line in lines)
    text = (
        f"The patient lives alone ({_quote(lines)}): check who can help at home in the first days and include "
        "them in the teach-back."
        if alone
        else f"Include the people the record names ({_quote(lines)}) in the call and the teach-back, with the "
        "patient's agreement."
    )
    return Item(
        "caregiver",
        "support",
        text,
        stay.contact_due,
        "care_manager",
        False,
        stay.status(stay.contact_due),
        [f'named in the discharge summary: "{line.text}"' for line in lines],
        [*[stay.line_citation(line) for line in lines], *cites],
    )


def _transport(stay: Stay) -> list[Item]:
    lines = _matches(TRANSPORT, stay.summary_clauses)
    if not lines:
        return []
    return [
        Item(
            "transport",
            "access",
            f"Arrange transport to the follow-up visits ({_quote(lines)}), or offer the visit at home or by real-time "
            "video.",
            stay.visit_due,
            "community_health_worker",
            True,
            stay.status(stay.visit_due),
            [f'named in the discharge summary: "{line.text}"' for line in lines],
            [*[stay.line_citation(line) for line in lines], *stay.knowledge(k.RED_SERVICES, k.TCM_TELEHEALTH)],
        )
    ]


def _access(stay: Stay) -> list[Item]:
    equipment = {line.span.start for line in _matches(EQUIPMENT, stay.instruction_clauses)}
    lines = [line for line in _matches(ACCESS, stay.summary_clauses) if line.span.start not in equipment]
    if not lines:
        return []
    return [
        Item(
            "access",
            "access",
            f"Plan the call, the visit and the teach-back around the limitations the record names ({_quote(lines)}): "
            "include the caregiver, allow time, and check the patient can reach the visit.",
            stay.contact_due,
            "care_manager",
            False,
            stay.status(stay.contact_due),
            [f'named in the discharge summary: "{line.text}"' for line in lines],
            [*[stay.line_citation(line) for line in lines], *stay.knowledge(k.BOOST_LIMITATIONS, k.BOOST_SUPPORT)],
        )
    ]


def _interpreter(stay: Stay) -> list[Item]:
    language = ((stay.patient.language if stay.patient else None) or "").lower()
    if not language or language == ENGLISH:
        return []
    entries = [
        e
        for e in read_patient_entries(stay.engine, stay.episode.patient_id)
        if (getattr(e.record, "language", None) or "").lower() == language
    ]
    cites: list[dict[str, Any]] = [record_citation(e) for e in entries[:2]]
    return [
        Item(
            "interpreter",
            "access",
            f"Book a qualified interpreter (preferred language '{language}') for the interactive contact, the "
            "medication "
            "review and the teach-back; never a minor in the family.",
            stay.contact_due,
            "care_manager",
            True,
            stay.status(stay.contact_due),
            [f"preferred language recorded: {language}"],
            [*cites, *stay.knowledge(k.INTERPRETER, k.RED_LANGUAGE)],
        )
    ]


def _homebound(stay: Stay) -> list[Item]:
    found: list[tuple[StoredRecord, str]] = []
    for stored in stay.of_kind(Coverage):
        coverage = stored.record
        assert isinstance(coverage, Coverage)
        if coverage.homebound and (coverage.end is None or coverage.end >= stay.discharged):
            found.append((stored, f"{coverage.payer} coverage marks the patient homebound"))
    for stored in [*stay.of_kind(Condition), *stay.of_kind(Observation)]:
        record = stored.record
        assert isinstance(record, Condition | Observation)
        if isinstance(record, Condition) and record.clinical_status not in (None, "active"):
            continue
        if any(c.system == "snomed" and c.code == HOUSEBOUND for c in [record.code, *record.codes]):
            found.append((stored, "Housebound (SNOMED 160685001) recorded"))
    if not found:
        return []
    return [
        Item(
            "homebound",
            "access",
            "The patient is homebound: offer the TCM face-to-face visit at home, or by real-time audio and video, "
            "rather "
            "than in the clinic.",
            stay.visit_due,
            "care_coordinator",
            True,
            stay.status(stay.visit_due),
            [why for _, why in found],
            [*[record_citation(s) for s, _ in found[:2]], *stay.knowledge(k.HOMEBOUND_FOCUS, k.TCM_TELEHEALTH)],
        )
    ]
