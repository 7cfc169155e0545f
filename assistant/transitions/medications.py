"""Medication reconciliation input: the pre-admission and discharge lists of one stay, and their difference.

Where the lists come from, in this order:
- discharge list: medication entries of a discharge summary's "Hospital Discharge Medications" section (C-CDA
  LOINC 10183-2 or 75311-1), or FHIR MedicationRequests written for the stay's encounter on the day of discharge
  (discharge prescriptions; orders earlier in the stay are not what the patient goes home with);
- pre-admission list: entries of the same summary's medications (10160-0) or admission medications (42346-7)
  section; otherwise the medications active at admission in the patient's other sources (a CCD, a FHIR bundle),
  leaving out orders that belong to the stay itself.
A list the record lacks is reported as missing; nothing is guessed. An entry that says there is no medication (the
C-CDA "No Known Medications" pattern: a negated entry coded SNOMED 410942007 "drug or medication") is no drug:
the list it sits in is present and empty.

Statuses: on a discharge list, C-CDA's ``completed`` (the entry's own administration period, common in vendor
lists) does not mean the drug was stopped; only stopped, cancelled, aborted or entered-in-error entries are
stopped, and on-hold, held or suspended ones are held.

Matching is by ingredient name (the words before the first number of the drug's name), because the same drug
arrives as different RxNorm codes for different strengths; a changed strength or dose is "dose changed". The
high-risk classes (anticoagulants, insulin, opioids, diuretics, antiplatelets) come from a short list of
ingredient names below, not from a drug-class service: Caretrail runs offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.records.model import DocumentSection, Medication
from assistant.transitions.sources import StoredRecord, record_citation

DISCHARGE_LIST_LOINC = {"10183-2", "75311-1"}
PRE_ADMISSION_LIST_LOINC = {"10160-0", "42346-7"}
HELD_STATUSES = {"on-hold", "held", "suspended"}
STOPPED_STATUSES = {"stopped", "cancelled", "entered-in-error", "aborted"}
NO_MEDICATION_CODES = {"410942007"}  # SNOMED "drug or medication", the placeholder of a negated list entry

HIGH_RISK_CLASSES: dict[str, tuple[str, ...]] = {
    "anticoagulant": ("warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban", "enoxaparin", "heparin",
                      "dalteparin", "fondaparinux"),
    "insulin": ("insulin",),
    "opioid": ("oxycodone", "hydrocodone", "morphine", "hydromorphone", "fentanyl", "tramadol", "methadone",
               "codeine", "tapentadol", "oxymorphone", "buprenorphine", "meperidine"),
    "diuretic": ("furosemide", "torsemide", "bumetanide", "hydrochlorothiazide", "chlorthalidone", "metolazone",
                 "spironolactone", "eplerenone", "triamterene", "amiloride", "indapamide", "ethacrynic"),
    "antiplatelet": ("clopidogrel", "prasugrel", "ticagrelor", "aspirin", "dipyridamole", "cilostazol",
                     "ticlopidine"),
}  # fmt: skip

_NAME_END = re.compile(r"\d")
_WORD = re.compile(r"[a-z]+")
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml|unit|units|meq|%)\b", re.IGNORECASE)


def drug_name(medication: Medication) -> str:
    return medication.code.display or medication.code.code


def ingredient(medication: Medication) -> str:
    """``"Furosemide 40 MG Oral Tablet"`` -> ``"furosemide"``: what two entries must share to be one drug."""
    name = drug_name(medication).lower()
    match = _NAME_END.search(name)
    head = name[: match.start()] if match else name
    words = _WORD.findall(head)
    return " ".join(words) or name.strip()


def high_risk_class(medication: Medication) -> str | None:
    words = set(_WORD.findall(drug_name(medication).lower()))
    for klass, names in HIGH_RISK_CLASSES.items():
        if words & set(names):
            return klass
    return None


def _strength(medication: Medication) -> tuple[str, ...]:
    """Strength in the name and the dose, normalised: what a dose change changes."""
    found = [f"{float(v):g} {u.lower().rstrip('s')}" for v, u in _STRENGTH.findall(drug_name(medication))]
    dose = (medication.dose or "").strip().lower()
    return (*found, re.sub(r"\s+", " ", dose))


@dataclass
class MedicationList:
    """One list (pre-admission or discharge): its entries and where the list itself is written."""

    label: str
    entries: list[StoredRecord] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)  # the section(s) or documents holding the list

    @property
    def present(self) -> bool:
        return bool(self.entries) or bool(self.citations)


@dataclass
class MedicationChange:
    change: str  # "new" | "stopped" | "dose_changed" | "held" | "unchanged"
    name: str
    high_risk: str | None
    before: StoredRecord | None
    after: StoredRecord | None
    citations: list[dict[str, Any]]

    def describe(self, stored: StoredRecord | None) -> str | None:
        if stored is None:
            return None
        med = stored.record
        assert isinstance(med, Medication)
        return " ".join(part for part in (drug_name(med), med.dose, f"({med.status})" if med.status else None) if part)

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "medication": self.name, "high_risk_class": self.high_risk,
                "pre_admission": self.describe(self.before), "discharge": self.describe(self.after),
                "citations": self.citations}  # fmt: skip


def _xpath(locator: str) -> str:
    return locator.rsplit(" (line ", 1)[0]


def _section_of(stored: StoredRecord, sections: list[StoredRecord]) -> StoredRecord | None:
    """The C-CDA section an entry sits in: same stored document, the section's XPath a prefix of the entry's."""
    path = _xpath(stored.record.provenance.locator)
    for section in sections:
        if section.document_id == stored.document_id and path.startswith(
            _xpath(section.record.provenance.locator) + "/"
        ):
            return section
    return None


def is_placeholder(medication: Medication) -> bool:
    """A "no known medications" entry: no drug at all."""
    name = (medication.code.display or medication.code.code or "").strip().lower()
    return (
        medication.code.code in NO_MEDICATION_CODES
        or name in ("drug or medication", "")
        or name.startswith(("no known", "no medication", "none"))
    )


def _section_lists(
    summary_sections: list[StoredRecord], medications: list[StoredRecord], loincs: set[str], label: str
) -> MedicationList:
    wanted = [s for s in summary_sections if isinstance(s.record, DocumentSection) and s.record.loinc in loincs]
    found = MedicationList(label, citations=[record_citation(s) for s in wanted])
    for stored in medications:
        if _section_of(stored, wanted) is not None and not is_placeholder(stored.record):  # type: ignore[arg-type]
            found.entries.append(stored)
    return found


def _category(medication: Medication) -> str | None:
    """FHIR MedicationRequest/Statement category, when the normalised record carries one."""
    value = getattr(medication, "category", None)
    return str(value).lower() if value else None


def _discharge_prescription(medication: Medication, stay_encounter_ids: set[str], discharged: date) -> bool:
    if _category(medication) == "discharge":
        return True
    written = medication.authored_on.date() if medication.authored_on else medication.start
    return (
        medication.resource_type == "MedicationRequest"
        and medication.encounter_id in stay_encounter_ids
        and written == discharged
    )


def discharge_list(
    summary_sections: list[StoredRecord],
    medications: list[StoredRecord],
    stay_encounter_ids: set[str] | None = None,
    discharged: date | None = None,
) -> MedicationList:
    found = _section_lists(summary_sections, medications, DISCHARGE_LIST_LOINC, "discharge")
    for stored in medications:
        med = stored.record
        if (
            isinstance(med, Medication)
            and stored not in found.entries
            and not is_placeholder(med)
            and discharged is not None
            and _discharge_prescription(med, stay_encounter_ids or set(), discharged)
        ):
            found.entries.append(stored)
            found.citations.append(record_citation(stored))
    return found


def pre_admission_list(
    summary_sections: list[StoredRecord],
    medications: list[StoredRecord],
    admitted: date,
    summary_documents: set[str],
    stay_encounter_ids: set[str],
) -> MedicationList:
    found = _section_lists(summary_sections, medications, PRE_ADMISSION_LIST_LOINC, "pre-admission")
    if found.present:
        return found
    latest: dict[str, StoredRecord] = {}
    for stored in medications:
        med = stored.record
        if not isinstance(med, Medication):
            continue
        if stored.document_id in summary_documents and med.provenance.format == "ccda":
            continue  # a C-CDA summary's own lists were read above; a FHIR bundle also holds other sources
        if med.encounter_id and med.encounter_id in stay_encounter_ids:
            continue  # an order written during the stay is not what the patient took before it
        if (
            _category(med) == "discharge"
            or is_placeholder(med)
            or (med.status or "active") not in {"active", "new", "intended", "on-hold"}
        ):
            continue
        if (med.start and med.start > admitted) or (med.stop and med.stop < admitted):
            continue
        key = ingredient(med)
        if key not in latest or (med.start or date.min) >= (latest[key].record.start or date.min):  # type: ignore[union-attr]
            latest[key] = stored
    found.entries = list(latest.values())
    documents: dict[str, StoredRecord] = {}
    for stored in found.entries:
        documents.setdefault(stored.document_id, stored)
    found.citations = [
        {
            "type": "document",
            "document_id": s.document_id,
            "source_path": s.record.provenance.source_path,
            "format": s.record.provenance.format,
        }
        for s in documents.values()
    ]
    return found


def _by_ingredient(entries: list[StoredRecord]) -> dict[str, StoredRecord]:
    found: dict[str, StoredRecord] = {}
    for stored in entries:
        assert isinstance(stored.record, Medication)
        found.setdefault(ingredient(stored.record), stored)
    return found


def diff(before: MedicationList, after: MedicationList) -> list[MedicationChange]:
    """One line per drug on either list, each cited to both lists (the entry, or the list it is absent from)."""
    old, new = _by_ingredient(before.entries), _by_ingredient(after.entries)
    changes: list[MedicationChange] = []
    for key, stored in new.items():
        med = stored.record
        assert isinstance(med, Medication)
        previous = old.get(key)
        status = (med.status or "").lower()
        if status in HELD_STATUSES:
            change = "held"
        elif status in STOPPED_STATUSES:
            change = "stopped"
        elif previous is None:
            change = "new"
        elif _strength(previous.record) != _strength(med):  # type: ignore[arg-type]
            change = "dose_changed"
        else:
            change = "unchanged"
        cites = [record_citation(previous)] if previous else list(before.citations)
        changes.append(
            MedicationChange(
                change, drug_name(med), high_risk_class(med), previous, stored, cites + [record_citation(stored)]
            )
        )
    for key, stored in old.items():
        if key in new:
            continue
        med = stored.record
        assert isinstance(med, Medication)
        changes.append(
            MedicationChange(
                "stopped",
                drug_name(med),
                high_risk_class(med),
                stored,
                None,
                [record_citation(stored), *after.citations],
            )
        )
    order = {"new": 0, "dose_changed": 1, "held": 2, "stopped": 3, "unchanged": 4}
    return sorted(changes, key=lambda c: (order[c.change], c.high_risk is None, c.name.lower()))
