"""Facility stays and visits from encounters and CCLF claims: what the LEAD claims-based estimates count.

Why one module: readmission, Days at Home and Timely Follow-Up all start from "when was this person in a
hospital, an observation unit, a SNF or an ED, and when did they see a clinician afterwards". The same stay often
arrives twice (an ADT or FHIR encounter from the hospital and, months later, the CCLF1 claim); stays of one
setting that overlap or touch are merged, keeping every source as evidence, so a stay is counted once.

CCLF claim type codes (CLM_TYPE_CD, CCLF Information Packet): 60 and 61 inpatient, 20 and 30 SNF, 40 outpatient
(ED visits there need revenue-center lines we do not read), 71 and 72 Part B physician / DME.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from assistant.measures.results import Evidence

INPATIENT, OBSERVATION, SNF, EMERGENCY = "inpatient", "observation", "snf", "emergency"
FACILITY_SETTINGS = (INPATIENT, OBSERVATION, SNF, EMERGENCY)
_CLAIM_SETTINGS = {"60": INPATIENT, "61": INPATIENT, "20": SNF, "30": SNF}
_VISIT_CLASSES = {"office", "home", "virtual"}
# E&M visit codes that count as a follow-up visit on a Part B claim (office/outpatient, home, TCM, AWV, telehealth).
_VISIT_CODE_RANGES = ((99202, 99215), (99341, 99350), (99421, 99423), (99441, 99443), (99495, 99496))
_VISIT_HCPCS = {"G0438", "G0439", "G2012"}
ELECTIVE_ADMISSION = "3"  # NUBC admission type: a planned stay is not an unplanned readmission


@dataclass(frozen=True)
class Stay:
    setting: str
    start: date
    end: date  # the discharge day (the start day for an ED visit)
    diagnoses: tuple[str, ...]  # ICD-10 codes, principal first
    planned: bool
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Visit:
    day: date
    evidence: Evidence


def _day(value: date | datetime | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _icd10(codes: Any) -> tuple[str, ...]:
    return tuple(c.code.replace(".", "").upper() for c in codes if c.system == "icd10")


def _encounter_stay(record: Any) -> Stay | None:
    setting = record.encounter_class
    if setting not in FACILITY_SETTINGS:
        return None
    start = _day(record.start)
    if start is None:
        return None
    end = _day(record.end) or start
    reason = f"{setting} encounter {start.isoformat()} to {end.isoformat()}"
    return Stay(setting, start, max(start, end), _icd10(record.reasons), False, (Evidence.of(record, reason),))


def _claim_stay(record: Any) -> Stay | None:
    setting = _CLAIM_SETTINGS.get(record.claim_type or "")
    start = _day(record.from_date)
    if setting is None or start is None:
        return None
    end = _day(record.thru_date) or start
    planned = record.admission_type == ELECTIVE_ADMISSION
    reason = f"{record.file_type} {setting} claim {start.isoformat()} to {end.isoformat()}"
    return Stay(setting, start, max(start, end), _icd10(record.diagnoses), planned, (Evidence.of(record, reason),))


def _merge(stays: list[Stay]) -> list[Stay]:
    """Overlapping or touching stays of one setting are one stay, with every source as evidence."""
    merged: list[Stay] = []
    for stay in sorted(stays, key=lambda s: (s.setting, s.start, s.end)):
        last = merged[-1] if merged else None
        if last and last.setting == stay.setting and stay.start <= last.end:
            merged[-1] = Stay(last.setting, last.start, max(last.end, stay.end),
                              last.diagnoses or stay.diagnoses, last.planned and stay.planned,
                              last.evidence + stay.evidence)
        else:
            merged.append(stay)
    return sorted(merged, key=lambda s: (s.start, s.end, s.setting))


def facility_stays(records: list[Any]) -> list[Stay]:
    found = []
    for record in records:
        stay = None
        if record.kind == "encounter":
            stay = _encounter_stay(record)
        elif record.kind == "claim":
            stay = _claim_stay(record)
        if stay is not None:
            found.append(stay)
    return _merge(found)


def _is_visit_code(code: str) -> bool:
    if code.upper() in _VISIT_HCPCS:
        return True
    return code.isdigit() and any(low <= int(code) <= high for low, high in _VISIT_CODE_RANGES)


def clinician_visits(records: list[Any]) -> list[Visit]:
    """Office, home and virtual encounters, and Part B claims with an E&M visit code."""
    visits = []
    for record in records:
        if record.kind == "encounter" and record.encounter_class in _VISIT_CLASSES:
            day = _day(record.start)
            if day:
                visits.append(Visit(day, Evidence.of(record, f"{record.encounter_class} visit {day.isoformat()}")))
        elif record.kind == "claim" and record.file_type == "CCLF5":
            day = _day(record.from_date)
            codes = [c.code for c in record.procedures]
            if day and any(_is_visit_code(code) for code in codes):
                visits.append(Visit(day, Evidence.of(record, f"Part B visit {'/'.join(codes)} {day.isoformat()}")))
    return sorted(visits, key=lambda v: v.day)
