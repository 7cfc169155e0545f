"""Language access (Section 1557, AHRQ RED): a patient whose preferred language is not English, with no outreach or
note on file in that language or with an interpreter, needs interpreter-supported calls and translated letters.

Why no item without a language: a missing preferred language says nothing about need, and asking every patient's
language is the registration desk's job, not a guidance item per patient.
"""

from __future__ import annotations

from datetime import timedelta

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules.common import item
from assistant.measures.results import Evidence
from assistant.records.roster import one_year_before
from assistant.records.vocabulary import LANGUAGE_NAMES

NAME = "language_access"
KNOWLEDGE = "language-access"
ENGLISH = "en"
NAMES: dict[str, str] = {}
for _name, _code in LANGUAGE_NAMES.items():
    NAMES.setdefault(_code, _name)
INTERPRETER = ("A qualified interpreter should be used for calls about discharge plans, medications and consent, "
               "because the 2024 Section 1557 rule requires qualified interpreters.")
LETTERS = ("Text messages and letters for patients with limited English proficiency should be written in the "
           "patient's preferred language and in plain language.")


def evaluate(facts: PatientFacts) -> list[GuidanceItem]:
    language = (facts.patient.language or "").lower()
    if not language or language == ENGLISH:
        return []
    name = NAMES.get(language, language)
    since = one_year_before(facts.as_of)
    for section in facts.of_kind("section"):
        dated = section.document_date.date() if section.document_date else None
        text = section.text.lower()
        if dated is not None and since <= dated <= facts.as_of and (name in text or "interpreter" in text):
            return []
    stated = [s for s in facts.sources if (s.language or "").lower() == language] or list(facts.sources[:1])
    return [item(
        facts, NAME, measure=None, owner_role="outreach", priority="medium", due=facts.as_of + timedelta(days=14),
        action=f"Arrange a qualified {name.title()} interpreter for calls and send letters and texts in "
               f"{name.title()}, in plain language",
        rationale=f"Preferred language {name.title()} ({language}); no note or outreach in {name.title()} or with an "
                  f"interpreter in the 12 months before {facts.as_of.isoformat()}.",
        evidence=[Evidence.of(s, f"preferred language {language}") for s in stated]
        or [Evidence(f"preferred language {language}")],
        citations=[facts.cite(KNOWLEDGE, INTERPRETER), facts.cite(KNOWLEDGE, LETTERS)],
    )]
