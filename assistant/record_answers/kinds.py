"""The kinds of observation a question can ask for by name ("her A1c", "last blood pressure"), and how each is
recognised in the record.

Why codes and not words: the same result arrives as "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c" or "A1C
(POC)"; its LOINC code is what the sources share. HbA1c reuses the eCQM value set the measures read (CMS122's
"HbA1c Laboratory Test") and blood pressure reuses CMS165's test (a blood-pressure profile, the panel code, or a
systolic/diastolic component), so a question and a measure never disagree on what counts. The other kinds name
their common LOINC codes here. A record whose code is not LOINC (a local code, text only) is matched on its display
text instead, with the same words the question is matched with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.measures.cms165 import is_blood_pressure
from assistant.measures.common import codes_of, in_value_set
from assistant.records.model import Observation
from assistant.records.vocabulary import code_system_name


@dataclass(frozen=True)
class ObservationKind:
    key: str
    label: str  # how an answer names it: "HbA1c", "blood pressure"
    words: re.Pattern[str]  # how a question (or a non-LOINC display) names it
    loinc: frozenset[str] = field(default_factory=frozenset)
    value_set: str | None = None  # an eCQM value set of the measures, when one defines the kind
    blood_pressure: bool = False

    def matches(self, observation: Observation) -> bool:
        codes = codes_of(observation)
        if self.blood_pressure and is_blood_pressure(observation):
            return True
        if self.value_set and in_value_set(codes, self.value_set):
            return True
        if any(code_system_name(c.system) == "loinc" and c.code in self.loinc for c in codes):
            return True
        local = [c for c in codes if code_system_name(c.system) != "loinc"]
        return any(self.words.search(f"{c.display or ''} {c.code}") for c in local)


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


KINDS: tuple[ObservationKind, ...] = (
    ObservationKind("hba1c", "HbA1c", _words(r"\b(?:hb\s?a1c|hgb\s?a1c|a1c|hemoglobin a1c|glycated h(?:a)?emoglobin|"
                                             r"glycosylated h(?:a)?emoglobin)\b"),
                    frozenset({"4548-4", "17856-6", "4549-2", "17855-8", "59261-8", "41995-2"}),
                    value_set="HbA1c Laboratory Test"),
    ObservationKind("bp", "blood pressure", _words(r"\b(?:blood pressures?|bps?)\b"),
                    frozenset({"85354-9", "55284-4"}), blood_pressure=True),
    ObservationKind("weight", "weight", _words(r"\b(?:weight|weighs|weighed|body weight)\b"),
                    frozenset({"29463-7", "3141-9", "3142-7", "8341-0", "8335-2", "75292-3"})),
    ObservationKind("bmi", "BMI", _words(r"\b(?:bmi|body mass index)\b"), frozenset({"39156-5", "59574-4"})),
    ObservationKind("ldl", "LDL cholesterol", _words(r"\b(?:ldl|low[- ]density lipoprotein)\b"),
                    frozenset({"13457-7", "18262-6", "2089-1", "69419-0", "96259-7", "55440-2"})),
    ObservationKind("egfr", "eGFR", _words(r"\b(?:e?gfr|glomerular filtration rate)\b"),
                    frozenset({"33914-3", "48642-3", "48643-1", "62238-1", "69405-9", "98979-8", "88293-6",
                               "88294-4", "50044-7", "94677-2", "77147-7"})),
    ObservationKind("creatinine", "creatinine", _words(r"\bcreatinine\b"), frozenset({"2160-0", "38483-4"})),
    ObservationKind("potassium", "potassium", _words(r"\b(?:potassium|k\+)"), frozenset({"2823-3", "6298-4"})),
    ObservationKind("bnp", "BNP", _words(r"\b(?:nt-?pro-?bnp|bnp|natriuretic peptide)\b"),
                    frozenset({"30934-4", "42637-9", "33762-6", "83107-3", "83108-1", "71425-3"})),
    ObservationKind("glucose", "glucose", _words(r"\b(?:blood sugar|blood glucose|glucose)\b(?! management)"),
                    frozenset({"2345-7", "2339-0", "41653-7", "14749-6", "1558-6"})),
    ObservationKind("inr", "INR", _words(r"\binr\b"), frozenset({"6301-6", "34714-6", "46418-0"})),
    ObservationKind("tsh", "TSH", _words(r"\b(?:tsh|thyrotropin)\b"), frozenset({"3016-3", "11580-8"})),
    ObservationKind("heart_rate", "heart rate", _words(r"\b(?:heart rate|pulse rate|pulse)\b(?! ?ox)"),
                    frozenset({"8867-4"})),
    ObservationKind("spo2", "oxygen saturation", _words(r"\b(?:o2 sat\w*|oxygen saturation|spo2|pulse ox\w*)"),
                    frozenset({"2708-6", "59408-5", "59417-6"})),
)  # fmt: skip


def named_kinds(question: str) -> list[ObservationKind]:
    """Every kind the question names, in the order of ``KINDS`` (HbA1c before glucose: "A1c" names no glucose)."""
    return [kind for kind in KINDS if kind.words.search(question)]
