"""CMS165 Controlling High Blood Pressure: a denominator patient whose blood pressure is not controlled, or has no
reading this year; and a hypertensive patient not yet in the measure for want of a qualifying visit."""

from __future__ import annotations

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import due_within, item
from assistant.measures import cms165
from assistant.measures.engine import is_gap
from assistant.measures.period import calendar_year
from assistant.measures.results import INITIAL_POPULATION, NUMERATOR

NAME = "cms165_gap"
KNOWLEDGE = "hypertension-gap-closure"
UNCONTROLLED = ("A hypertension patient whose most recent blood pressure is 140/90 or higher stays in the CMS165 gap "
                "until a later reading in the same year is below 140/90.")
NO_READING = ("A hypertension patient with no blood pressure reading in the measurement period cannot meet the "
              "CMS165 numerator until a reading is recorded.")
REPEAT = ("Care teams should schedule a repeat office blood pressure check, because readings taken during an "
          "emergency department visit do not count toward CMS165.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    result = facts.measures[cms165.MEASURE]
    populations = result.populations
    numerator = result.evidence.get(NUMERATOR, ())
    no_reading = not any(e.record_id for e in numerator)
    if is_gap(result):
        reason = "; ".join(e.reason for e in numerator) or "no blood pressure reading this year"
        return [item(
            facts, NAME, measure=cms165.MEASURE, owner_role="care_manager", priority="high",
            action="Schedule a repeat blood pressure check (office visit or a home monitor that reports to the "
                   "practice) and flag the result for the clinician's medication review",
            rationale=f"CMS165 gap: {reason}.", due=due_within(facts, 14), evidence=numerator,
            citations=[facts.cite(KNOWLEDGE, NO_READING if no_reading else UNCONTROLLED),
                       facts.cite(KNOWLEDGE, REPEAT)],
        )]
    if not populations[INITIAL_POPULATION]:
        assert facts.data is not None  # gather() always sorts the records for the measures
        diagnosis = cms165.essential_hypertension_diagnosis(facts.data, calendar_year(facts.as_of))
        if diagnosis and facts.patient.birth_date is None:
            return [item(
                facts, NAME, measure=cms165.MEASURE, owner_role="care_manager", priority="medium",
                action="Record the patient's birth date, so the CMS165 age range (18-85) can be checked",
                rationale="Hypertension is on file but the birth date is missing, so whether the patient is in the "
                          "CMS165 denominator cannot be decided.",
                due=due_within(facts, 30), evidence=diagnosis, citations=[facts.cite(KNOWLEDGE, NO_READING)],
                notes=("Missing: Patient.birthDate.",),
            )]
        if diagnosis:
            return [item(
                facts, NAME, measure=cms165.MEASURE, owner_role="care_manager", priority="medium",
                action="Book an office, telehealth or home visit with a blood pressure reading this year",
                rationale="Hypertension is on file but there is no qualifying outpatient visit yet this year, so the "
                          "patient is not in the CMS165 denominator.",
                due=due_within(facts, 30), evidence=diagnosis, citations=[facts.cite(KNOWLEDGE, NO_READING)],
                notes=("A qualifying visit would bring the patient into CMS165; the reading at that visit would "
                       "then count toward the numerator if it is below 140/90.",),
            )]
    return []
