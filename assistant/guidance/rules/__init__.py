"""The rule registry: every module here is one rule, composed in this order (like presidio's recognizers).

A rule module has NAME, KNOWLEDGE (the knowledge document that defines it) and ``evaluate(facts) -> list of
GuidanceItem``. A rule whose input is missing says what is missing in its item instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from assistant.guidance.facts import PatientFacts
from assistant.guidance.item import GuidanceItem
from assistant.guidance.rules import (
    annual_wellness_visit,
    attribution,
    cms122_gap,
    cms165_gap,
    dual_eligible,
    falls,
    high_utilizer,
    homebound,
    language_access,
    medication_reconciliation,
    tcm,
    timely_follow_up,
)

Rule = Callable[[PatientFacts], list[GuidanceItem]]

RULE_MODULES: tuple[ModuleType, ...] = (
    cms165_gap, cms122_gap, timely_follow_up, high_utilizer, tcm, falls, annual_wellness_visit, dual_eligible,
    homebound, medication_reconciliation, language_access, attribution,
)
RULES: dict[str, Rule] = {module.NAME: module.evaluate for module in RULE_MODULES}
