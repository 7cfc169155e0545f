"""Medicare Annual Wellness Visit (HCPCS G0438 initial, G0439 subsequent): a Medicare patient with no AWV in the 12
months before the as-of date is due one.

Why only Medicare: the AWV is a Medicare benefit. With no coverage on file the rule cannot tell, so for a patient
aged 65 or older it says that the coverage is missing instead of assuming Medicare.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.records.roster import one_year_before

NAME = "annual_wellness_visit"
KNOWLEDGE = "annual-wellness-visit"
AWV_CODES = {"G0438", "G0439"}
MEDICARE_PAYERS = ("medicare", "medicare_advantage")
INITIAL = "The first, or initial, Medicare Annual Wellness Visit (AWV) is billed with HCPCS code G0438."
REPEAT = "Repeat, or subsequent, Medicare Annual Wellness Visits are billed with HCPCS code G0439."
FALLS = ("The Annual Wellness Visit includes a review of fall risk, which makes the AWV a natural place for yearly "
         "STEADI falls screening.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    coverages = [c for c in facts.of_kind("coverage") if _active(c, facts.as_of)]
    medicare = [c for c in coverages if c.payer in MEDICARE_PAYERS]
    visits = sorted((day, record) for record in facts.records if (day := _awv_day(record)) is not None)
    recent = [v for v in visits if one_year_before(facts.as_of) < v[0] <= facts.as_of]
    if recent:
        return []
    last = f"the last one on file was {visits[-1][0].isoformat()}" if visits else "none is on file"
    if not medicare:
        if facts.of_kind("coverage") or not _aged_65(facts):
            return []
        return [item(
            facts, NAME, measure="AWV", owner_role="care_coordinator", priority="low",
            due=facts.as_of + timedelta(days=30),
            action="Confirm the patient's Medicare coverage and record it; if covered, offer an Annual Wellness Visit",
            rationale=f"Missing: no coverage record on file, so whether an AWV is covered is not known (the patient "
                      f"is 65 or older; {last}).",
            evidence=[Evidence.of(source, "no coverage record on file") for source in facts.sources[:1]]
            or [Evidence("no coverage record on file")],
            citations=[facts.cite(KNOWLEDGE, INITIAL)],
        )]
    evidence = [Evidence.of(c, f"{c.payer} coverage active on {facts.as_of.isoformat()}") for c in medicare]
    evidence += [Evidence.of(record, f"last Annual Wellness Visit on {day.isoformat()}") for day, record in visits[-1:]]
    return [item(
        facts, NAME, measure="AWV", owner_role="care_coordinator", priority="medium",
        due=facts.as_of + timedelta(days=30),
        action=f"Book an Annual Wellness Visit ({'G0439' if visits else 'G0438, or G0439 if one was held elsewhere'}); "
               "it is also a natural place for the yearly falls screening",
        rationale=f"Medicare patient with no Annual Wellness Visit in the 12 months before "
                  f"{facts.as_of.isoformat()}: {last}.",
        evidence=evidence,
        citations=[facts.cite(KNOWLEDGE, REPEAT if visits else INITIAL), facts.cite(KNOWLEDGE, FALLS)],
    )]


def _active(coverage: Any, day: date) -> bool:
    return (coverage.start is None or coverage.start <= day) and (coverage.end is None or day <= coverage.end)


def _awv_day(record: Any) -> date | None:
    if record.kind == "claim":
        return record.from_date if {c.code for c in record.procedures} & AWV_CODES else None
    if record.kind == "encounter":
        codes = {c.code for c in record.types} | ({record.type.code} if record.type else set())
        return record.start.date() if record.start and codes & AWV_CODES else None
    if record.kind == "procedure":
        codes = {record.code.code, *(c.code for c in record.codes)}
        return record.performed.date() if record.performed and codes & AWV_CODES else None
    return None


def _aged_65(facts: PatientFacts) -> bool:
    born = facts.patient.birth_date
    if born is None:
        return False
    return (facts.as_of.year - born.year - ((facts.as_of.month, facts.as_of.day) < (born.month, born.day))) >= 65
