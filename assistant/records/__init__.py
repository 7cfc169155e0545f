"""Normalized patient records: the one shape every connector emits and every engine reads."""

from assistant.records.model import (
    Address,
    Claim,
    Code,
    Condition,
    Coverage,
    DocumentSection,
    Encounter,
    Identifier,
    Medication,
    Observation,
    ParsedDocument,
    Patient,
    Practitioner,
    Procedure,
    Provenance,
    Record,
)

__all__ = [
    "Address",
    "Claim",
    "Code",
    "Condition",
    "Coverage",
    "DocumentSection",
    "Encounter",
    "Identifier",
    "Medication",
    "Observation",
    "ParsedDocument",
    "Patient",
    "Practitioner",
    "Procedure",
    "Provenance",
    "Record",
]
