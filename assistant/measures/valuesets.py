"""The value sets the two LEAD eCQMs name, loaded once from the expansions copied into ``valuesets/``.

Why expansions and not a terminology server: Caretrail runs offline, and an expansion is exactly what the
stewards' reference engine matches against. A code is in a value set when its (system, code) pair is in the
expansion, as CQL's ``in`` defines it; display text and versions never matter.

Code systems are compared by the short names the records model uses ("snomed", "icd10", "cpt", ...): connectors
map source URIs onto those, and this module maps the expansions' URIs the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.records.model import Code
from assistant.records.vocabulary import code_system_name

VALUESET_DIR = Path(__file__).parent / "valuesets"

# The value sets by the names the CQL gives them (OIDs from the measures' `valueset` declarations).
OIDS = {
    "Advanced Illness": "2.16.840.1.113883.3.464.1003.110.12.1082",
    "Annual Wellness Visit": "2.16.840.1.113883.3.526.3.1240",
    "Chronic Kidney Disease, Stage 5": "2.16.840.1.113883.3.526.3.1002",
    "Dementia Medications": "2.16.840.1.113883.3.464.1003.196.12.1510",
    "Diabetes": "2.16.840.1.113883.3.464.1003.103.12.1001",
    "Dialysis Services": "2.16.840.1.113883.3.464.1003.109.12.1013",
    "Encounter Inpatient": "2.16.840.1.113883.3.666.5.307",
    "End Stage Renal Disease": "2.16.840.1.113883.3.526.3.353",
    "ESRD Monthly Outpatient Services": "2.16.840.1.113883.3.464.1003.109.12.1014",
    "Essential Hypertension": "2.16.840.1.113883.3.464.1003.104.12.1011",
    "Frailty Device": "2.16.840.1.113883.3.464.1003.118.12.1300",
    "Frailty Diagnosis": "2.16.840.1.113883.3.464.1003.113.12.1074",
    "Frailty Encounter": "2.16.840.1.113883.3.464.1003.101.12.1088",
    "Frailty Symptom": "2.16.840.1.113883.3.464.1003.113.12.1075",
    "HbA1c Laboratory Test": "2.16.840.1.113883.3.464.1003.198.12.1013",
    "Home Healthcare Services": "2.16.840.1.113883.3.464.1003.101.12.1016",
    "Hospice Care Ambulatory": "2.16.840.1.113883.3.526.3.1584",
    "Hospice Diagnosis": "2.16.840.1.113883.3.464.1003.1165",
    "Hospice Encounter": "2.16.840.1.113883.3.464.1003.1003",
    "Kidney Transplant": "2.16.840.1.113883.3.464.1003.109.12.1012",
    "Kidney Transplant Recipient": "2.16.840.1.113883.3.464.1003.109.12.1029",
    "Office Visit": "2.16.840.1.113883.3.464.1003.101.12.1001",
    "Palliative Care Diagnosis": "2.16.840.1.113883.3.464.1003.1167",
    "Palliative Care Encounter": "2.16.840.1.113883.3.464.1003.101.12.1090",
    "Palliative Care Intervention": "2.16.840.1.113883.3.464.1003.198.12.1135",
    "Pregnancy": "2.16.840.1.113883.3.526.3.378",
    "Preventive Care Services Established Office Visit, 18 and Up": "2.16.840.1.113883.3.464.1003.101.12.1025",
    "Preventive Care Services Initial Office Visit, 18 and Up": "2.16.840.1.113883.3.464.1003.101.12.1023",
    "Telephone Visits": "2.16.840.1.113883.3.464.1003.101.12.1080",
    "Virtual Encounter": "2.16.840.1.113883.3.464.1003.101.12.1089",
}


@dataclass(frozen=True)
class ValueSet:
    name: str
    oid: str
    codes: frozenset[tuple[str, str]]  # (system short name, code)

    def contains(self, code: Code) -> bool:
        return (code_system_name(code.system), code.code) in self.codes

    def first_match(self, codes: Iterable[Code]) -> Code | None:
        """The first of ``codes`` in this value set (CQL: a concept is ``in`` a value set if any coding is)."""
        return next((code for code in codes if self.contains(code)), None)


def _load(name: str, oid: str) -> ValueSet:
    path = VALUESET_DIR / f"ValueSet-{oid}.json"
    resource = json.loads(path.read_text(encoding="utf-8"))
    contains = (resource.get("expansion") or {}).get("contains") or []
    codes = frozenset((code_system_name(str(c["system"])), str(c["code"])) for c in contains if c.get("code"))
    if not codes:
        raise ValueError(f"{path}: value set {name!r} has an empty expansion")
    return ValueSet(name=name, oid=oid, codes=codes)


@cache
def value_set(name: str) -> ValueSet:
    """The named value set, read from disk on first use and kept for the life of the process."""
    return _load(name, OIDS[name])
