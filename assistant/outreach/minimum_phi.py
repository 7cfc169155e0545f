"""Minimum necessary PHI in a patient message: first name only, no diagnosis in a text message unless the template
allows it, and never an MBI, a date of birth, an address or a full name.

Two checks, because each misses what the other sees. The PHI detector (``assistant.redaction.engine.detect``) finds
identifiers by shape and context in the English text and in the message itself (it reads English best; its
pattern recognizers, such as the MBI's, work in any script). The patient's own identifiers from the record (MBI and
other ids, family name, birth date in the usual spellings, address parts, phone) are also looked for literally, so a
planted identifier is caught in Chinese or Arabic text too, where the detector has no word boundaries to go by.

What a message may carry is exactly what the template's placeholders were filled with (the first name, the
organization's name and callback number, an appointment date, medication names): a detected span that lies inside
one of those values is allowed. Everything else the detector finds that identifies the patient blocks the draft; a
name or place that is not the patient's is a warning for the reviewer. Results name types and reasons, never the
identifier itself, so they can go into the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.outreach.dates import format_date
from assistant.records.store import PatientRow
from assistant.redaction.engine import Entity, detect

BLOCKED_TYPES = frozenset(
    {
        "MBI",
        "SSN",
        "MRN",
        "HEALTH_PLAN_ID",
        "ACCOUNT",
        "EMAIL",
        "ADDRESS",
        "ZIP",
        "LICENSE",
        "VEHICLE_ID",
        "DEVICE_ID",
        "IP_ADDRESS",
        "NPI",
        "OTHER_ID",
        "FAX",
    }
)
WARN_TYPES = frozenset({"PERSON", "LOCATION", "URL", "AGE", "DATE", "PHONE"})
# Words that name a diagnosis; a text message is read on a lock screen, so it names none unless the template says so.
DIAGNOSIS_WORDS = (
    "diabetes", "diabetic", "hypertension", "hypertensive", "heart failure", "chf", "copd", "emphysema", "asthma",
    "cancer", "tumor", "tumour", "hiv", "aids", "hepatitis", "dementia", "alzheimer", "depression", "schizophrenia",
    "bipolar", "substance use", "opioid use disorder", "alcohol use disorder", "kidney disease", "ckd", "dialysis",
    "stroke", "atrial fibrillation", "afib", "myocardial infarction", "heart attack", "pneumonia", "sepsis",
    "obesity", "osteoporosis", "parkinson", "epilepsy", "a1c", "hba1c", "glycemic",
)  # fmt: skip
ICD10 = re.compile(r"\b[A-TV-Z]\d{2}(?:\.\d{1,4})?\b")


@dataclass
class PhiCheck:
    blocked: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.blocked

    def to_dict(self) -> dict[str, Any]:
        return {
            "passes": self.passes,
            "blocked": self.blocked,
            "warnings": self.warnings,
            "rule": "first name only; no MBI, date of birth, address or full name; no diagnosis in SMS unless "
            "the template allows it",
        }

    def block(self, kind: str, reason: str) -> None:
        entry = {"type": kind, "reason": reason}
        if entry not in self.blocked:
            self.blocked.append(entry)

    def warn(self, kind: str, reason: str) -> None:
        entry = {"type": kind, "reason": reason}
        if entry not in self.warnings:
            self.warnings.append(entry)


def _contains(text: str, needle: str) -> bool:
    needle = needle.strip()
    if len(needle) < 2:
        return False
    if needle.isascii():
        # Latin letters and digits bound a Latin needle; a CJK character right beside it does not hide it.
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(needle)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None
    return needle.casefold() in text.casefold()


def _birth_date_forms(day: date) -> list[str]:
    return [
        day.isoformat(),
        f"{day.month}/{day.day}/{day.year}",
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month}-{day.day}-{day.year}",
        f"{day.month:02d}-{day.day:02d}-{day.year}",
        format_date(day, "en"),
    ]


def _identifier_values(patient: PatientRow) -> list[tuple[str, str]]:
    found = []
    for key in patient.identifiers:
        parts = key.split("|")
        value = parts[-1]
        system = parts[0]
        if system in ("fhir",):  # an opaque resource id in one source system, not something a patient knows
            continue
        if len(value) >= 4:
            found.append((system.upper(), value))
    return found


def _address_values(patient: PatientRow) -> list[str]:
    address = patient.address or {}
    values = [str(line) for line in address.get("lines") or []]
    if address.get("postal_code"):
        values.append(str(address["postal_code"]))
    return values


def _inside(entity: Entity, text: str, allowed: Iterable[str]) -> bool:
    """True when the entity lies inside where one filled value (the first name, a date we filled...) was written,
    give or take two characters of punctuation the detector may take with it."""
    for value in allowed:
        if not value:
            continue
        for match in re.finditer(re.escape(value), text):
            overlaps = entity.start < match.end() and match.start() < entity.end
            if overlaps and match.start() - 2 <= entity.start and entity.end <= match.end() + 2:
                return True
    return False


def check(
    texts: list[str],
    patient: PatientRow,
    allowed_values: list[str],
    *,
    channel: str,
    diagnosis_allowed: bool,
    conditions: Iterable[str] = (),
) -> PhiCheck:
    """Check each text of one draft (the message and its English source); ``allowed_values`` are the filled facts."""
    result = PhiCheck()
    family = (patient.family or "").strip()
    given = list(patient.given)
    birth = patient.birth_date
    for text in texts:
        if not text:
            continue
        for entity in detect(text):
            if _inside(entity, text, allowed_values):
                continue
            if entity.type in BLOCKED_TYPES:
                result.block(
                    entity.type,
                    f"the PHI detector found {entity.type} ({entity.recognizer}); a patient message never carries it",
                )
            elif entity.type == "PERSON" and family and _contains(entity.text, family):
                result.block("FULL_NAME", "the patient's full or family name; use the first name only")
            elif (
                entity.type == "DATE"
                and birth is not None
                and any(_contains(entity.text, form) for form in _birth_date_forms(birth))
            ):
                result.block("DATE_OF_BIRTH", "the patient's date of birth")
            elif entity.type == "PHONE":
                result.block("PHONE", "a phone number that is not the organization's callback number")
            elif entity.type in WARN_TYPES:
                result.warn(
                    entity.type,
                    f"the PHI detector found {entity.type} that is not a filled fact; check that it is needed",
                )
        # The patient's own identifiers, looked for literally in any script.
        for system, value in _identifier_values(patient):
            if _contains(text, value):
                result.block(system, f"the patient's {system} identifier")
        if family and _contains(text, family):
            result.block("FULL_NAME", "the patient's family name; use the first name only")
        if len(given) > 1 and _contains(text, " ".join(given)):
            result.block("FULL_NAME", "the patient's full given names; use the first name only")
        if birth is not None and any(_contains(text, form) for form in _birth_date_forms(birth)):
            result.block("DATE_OF_BIRTH", "the patient's date of birth")
        for value in _address_values(patient):
            if _contains(text, value):
                result.block("ADDRESS", "part of the patient's address")
        if (
            patient.phone
            and re.sub(r"\D", "", patient.phone)[-10:]
            and re.sub(r"\D", "", patient.phone)[-10:] in re.sub(r"\D", "", text)
            and not any(re.sub(r"\D", "", patient.phone)[-10:] in re.sub(r"\D", "", v) for v in allowed_values)
        ):
            result.block("PHONE", "the patient's own phone number")
        if channel == "sms" and not diagnosis_allowed:
            lowered = text.casefold()
            words = [w for w in DIAGNOSIS_WORDS if re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", lowered)]
            words += [c.casefold() for c in conditions if c and len(c) > 3 and c.casefold() in lowered]
            if words or ICD10.search(text):
                result.block(
                    "DIAGNOSIS",
                    "a diagnosis in a text message; this template does not allow one (a text is read on a lock screen)",
                )
    return result
