"""The identifier types we detect, their Safe Harbor letter and the placeholder a redaction shows.

One table so that the recognizers, the transformations, the evaluation and the docs agree on names.
"""

from __future__ import annotations

# type -> (Safe Harbor letter(s) in 45 CFR 164.514(b)(2)(i), redaction placeholder)
PHI_TYPES: dict[str, tuple[str, str]] = {
    "PERSON": ("A", "[NAME]"),
    "LOCATION": ("B", "[LOCATION]"),
    "ADDRESS": ("B", "[ADDRESS]"),
    "ZIP": ("B", "[ZIP]"),
    "DATE": ("C", "[DATE]"),
    "AGE": ("C", "[AGE]"),
    "PHONE": ("D", "[PHONE]"),
    "FAX": ("E", "[FAX]"),
    "EMAIL": ("F", "[EMAIL]"),
    "SSN": ("G", "[SSN]"),
    "MRN": ("H", "[MRN]"),
    "MBI": ("I", "[MBI]"),
    "HEALTH_PLAN_ID": ("I", "[HEALTH_PLAN_ID]"),
    "ACCOUNT": ("J", "[ACCOUNT]"),
    "LICENSE": ("K", "[LICENSE]"),
    "VEHICLE_ID": ("L", "[VEHICLE_ID]"),
    "DEVICE_ID": ("M", "[DEVICE_ID]"),
    "URL": ("N", "[URL]"),
    "IP_ADDRESS": ("O", "[IP_ADDRESS]"),
    "NPI": ("R", "[NPI]"),
    "OTHER_ID": ("R", "[ID]"),
}

# Identifiers with a fixed shape: the ">= 0.99 recall" group.
STRUCTURED_TYPES = frozenset(
    {"MBI", "SSN", "PHONE", "FAX", "EMAIL", "DATE", "MRN", "NPI", "ZIP", "URL", "IP_ADDRESS"}
)


def placeholder(entity_type: str) -> str:
    return PHI_TYPES.get(entity_type, ("R", f"[{entity_type}]"))[1]
