"""The LEAD claims-based measures for one patient, as estimates before CMS reconciliation.

CMS computes ACR/readmission, UAMCC, Days at Home and Timely Follow-Up from a full year of claims with risk
adjustment and exclusions we do not have. What a care team needs mid-year is the per-patient signal: which stays
count, which readmission happened, how many days were spent away from home, which follow-up is due or was missed.
Every flag here is labelled an estimate and cites the encounters and claim lines it rests on; anything the facts
file marks unconfirmed is marked unconfirmed in the output too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from assistant.measures.results import Evidence
from assistant.measures.stays import EMERGENCY, INPATIENT, OBSERVATION, Stay, clinician_visits, facility_stays

ESTIMATE_NOTE = "estimate from the records on file, before CMS reconciliation and risk adjustment"
READMISSION_DAYS = 30

# Timely Follow-Up windows by condition and acuity (../shared/LEAD_FACTS.md, from Pearl Health's summary, which the
# facts file asks to check against the CMS MIF: so every TFU flag is marked unconfirmed). An inpatient or
# observation stay is taken as high acuity, an ED visit as medium or low acuity.
TFU_CONDITIONS: dict[str, tuple[tuple[str, ...], int, int]] = {
    # name: (ICD-10 prefixes, days after an inpatient/observation stay, days after an ED visit)
    "hypertension": (("I10", "I11", "I12", "I13", "I15", "I16"), 14, 30),
    "heart failure": (("I50",), 14, 14),
    "coronary artery disease": (("I20", "I21", "I22", "I24", "I25"), 7, 42),
    "diabetes": (("E08", "E09", "E10", "E11", "E13"), 14, 14),
    "asthma": (("J45",), 14, 14),
    "COPD": (("J44",), 30, 30),
}

# UAMCC's chronic condition groups: the exact cohort list is marked unconfirmed in the facts file, so this is the
# published shape (aged 65+, two or more of these groups) with the groups CMS's ACO measure documents use.
UAMCC_GROUPS: dict[str, tuple[str, ...]] = {
    "acute myocardial infarction": ("I21", "I22"),
    "Alzheimer's disease and related dementias": ("F01", "F02", "F03", "G30", "G31"),
    "atrial fibrillation": ("I48",),
    "chronic kidney disease": ("N18",),
    "COPD and asthma": ("J44", "J45"),
    "depression": ("F32", "F33"),
    "diabetes": ("E08", "E09", "E10", "E11", "E13"),
    "heart failure": ("I50",),
    "stroke and transient ischemic attack": ("I63", "G45"),
}


@dataclass(frozen=True)
class Flag:
    measure: str
    status: str  # readmission: "readmitted"; tfu: "met" | "due" | "missed"; uamcc: "in cohort"
    summary: str
    due: date | None = None
    unconfirmed: bool = False
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Estimates:
    patient_id: str
    as_of: date
    period_start: date
    days_at_home: int
    days_in_period: int
    flags: tuple[Flag, ...]
    notes: tuple[str, ...] = field(default=(ESTIMATE_NOTE,))


def readmissions(stays: list[Stay]) -> list[Flag]:
    """An index discharge followed by an unplanned inpatient admission within 30 days of it."""
    inpatient = [s for s in stays if s.setting == INPATIENT]
    flags = []
    for index, stay in zip(inpatient, inpatient[1:], strict=False):
        gap = (stay.start - index.end).days
        if 0 <= gap <= READMISSION_DAYS and not stay.planned:
            flags.append(Flag(
                "readmission", "readmitted",
                f"readmitted {stay.start.isoformat()}, {gap} days after the discharge of {index.end.isoformat()}",
                evidence=index.evidence + stay.evidence,
            ))
    return flags


def days_away(stays: list[Stay], start: date, end: date) -> tuple[int, list[Evidence]]:
    """Days from ``start`` to ``end`` (inclusive) spent in a hospital, observation unit, SNF or ED (a day with any
    part of a stay counts once)."""
    away: set[date] = set()
    evidence: list[Evidence] = []
    for stay in stays:
        first, last = max(stay.start, start), min(stay.end, end)
        if first > last:
            continue
        away.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        evidence.extend(stay.evidence)
    return len(away), evidence


def _condition(stay: Stay) -> str | None:
    principal = stay.diagnoses[:1]
    for name, (prefixes, _high, _low) in TFU_CONDITIONS.items():
        if principal and principal[0].startswith(prefixes):
            return name
    return None


def timely_follow_up(records: list[Any], stays: list[Stay], as_of: date) -> list[Flag]:
    """For each acute exacerbation (a stay or ED visit whose principal diagnosis is a TFU condition), whether a
    clinician visit followed within the condition's window: met, still due, or missed."""
    visits = clinician_visits(records)
    flags = []
    for stay in stays:
        if stay.setting not in (INPATIENT, OBSERVATION, EMERGENCY) or stay.end > as_of:
            continue
        condition = _condition(stay)
        if condition is None:
            continue
        _prefixes, high, low = TFU_CONDITIONS[condition]
        window = low if stay.setting == EMERGENCY else high
        due = stay.end + timedelta(days=window)
        seen = next((v for v in visits if stay.end < v.day <= due), None)
        if seen is not None:
            status, summary, evidence = "met", f"{condition}: seen {seen.day.isoformat()}", stay.evidence + (
                seen.evidence,)
        elif as_of <= due:
            status, summary, evidence = "due", f"{condition}: follow-up visit due by {due.isoformat()}", stay.evidence
        else:
            status, summary, evidence = "missed", f"{condition}: no visit by {due.isoformat()}", stay.evidence
        flags.append(Flag("timely_follow_up", status, f"{summary} ({window}-day window after the {stay.setting} "
                          f"discharge of {stay.end.isoformat()})", due=due, unconfirmed=True, evidence=evidence))
    return flags


def uamcc_cohort(records: list[Any], birth_date: date | None, as_of: date) -> Flag | None:
    """Aged 65+ with two or more chronic condition groups, each cited to a condition or claim that names it."""
    if birth_date is None:
        return None
    age = as_of.year - birth_date.year - ((as_of.month, as_of.day) < (birth_date.month, birth_date.day))
    if age < 65:
        return None
    groups: dict[str, Evidence] = {}
    for record in records:
        codes: tuple[str, ...] = ()
        if record.kind == "condition" and record.code is not None and record.code.system == "icd10":
            codes = (record.code.code.replace(".", "").upper(),)
        elif record.kind == "claim":
            codes = tuple(c.code.replace(".", "").upper() for c in record.diagnoses if c.system == "icd10")
        for name, prefixes in UAMCC_GROUPS.items():
            if name not in groups and any(code.startswith(prefixes) for code in codes):
                groups[name] = Evidence.of(record, f"{name} ({', '.join(codes)})")
    if len(groups) < 2:
        return None
    return Flag("uamcc", "in cohort", f"aged {age} with {len(groups)} chronic condition groups: "
                f"{', '.join(sorted(groups))}", unconfirmed=True, evidence=tuple(groups.values()))


def estimate(patient_id: str, records: list[Any], birth_date: date | None, as_of: date,
             period_start: date | None = None) -> Estimates:
    """All four estimates for one patient; the Days at Home period defaults to the calendar year of ``as_of``."""
    start = period_start or date(as_of.year, 1, 1)
    stays = [s for s in facility_stays(records) if s.start <= as_of]
    away, away_evidence = days_away(stays, start, as_of)
    days = (as_of - start).days + 1
    flags = readmissions(stays) + timely_follow_up(records, stays, as_of)
    cohort = uamcc_cohort(records, birth_date, as_of)
    if cohort is not None:
        flags.append(cohort)
    if away:
        flags.append(Flag("days_at_home", "days away", f"{away} of {days} days in a hospital, observation unit, "
                          f"SNF or ED since {start.isoformat()}", evidence=tuple(away_evidence)))
    return Estimates(patient_id, as_of, start, days - away, days, tuple(flags))
