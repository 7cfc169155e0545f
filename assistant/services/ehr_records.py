"""One patient's records from an EHR (a CDS Hooks prefetch, or a fetch with the EHR's token) into the store, for a
caller who may see that patient; shared by the CDS Hooks services and the SMART launch.

Who may cause a write: the store only takes records that the caller could read once stored, decided before
anything is written (refusals are audited as ``access.denied``, and nothing of the refused records is kept):
- a caller who reaches every patient (admin, a key with ``--panel all``);
- a caller who may see a patient the records already match by one of the Patient's identifiers (MBI, MRN,
  the FHIR id);
- a caller on their own panel whose NPI the records name as the patient's primary care practitioner
  (``Patient.generalPractitioner`` pointing at a Practitioner with that NPI): the same rule that derives panels.
After the write, the ordinary panel check (``open_patient``) decides the read, as for every other front door.
Unchanged records are not written again (see ``assistant/ehr/records.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from assistant.context import AppContext
from assistant.ehr.prefetch import EhrData
from assistant.ehr.records import Stored, bundle_path, canonical_bundle, parse, store
from assistant.records.model import Practitioner
from assistant.records.store import PatientRow
from assistant.services import policy
from assistant.services.access import deny, may_see_patient, open_patient
from assistant.services.caller import Caller
from assistant.services.policy import Action
from assistant.services.updates import records_changed


@dataclass(frozen=True)
class Brought:
    patient: PatientRow
    stored: Stored


def _may_write(ctx: AppContext, caller: Caller, ehr: str, patient_fhir_id: str, content: bytes) -> None:
    if policy.reaches_every_patient(caller):
        return
    path = bundle_path(ctx.settings.resolved_data_dir, ehr, patient_fhir_id)
    parsed = parse(path, content)
    patient = next((p for p in parsed.patients if p.identifiers[0].value == patient_fhir_id), None)
    known: set[str] = set()
    for identifier in patient.identifiers if patient else []:
        known.update(ctx.patients.find_patient_ids(identifier.key))
    if any(may_see_patient(ctx, caller, patient_id) for patient_id in sorted(known)):
        return
    if patient is not None and policy.patient_rule(caller) == "panel":
        pcp = {
            r.npi
            for r in parsed.records
            if isinstance(r, Practitioner) and r.role == "pcp" and r.npi and r.patient_key == patient.key
        }
        if pcp & set(ctx.patients.user_npis(caller.user)):
            return
    deny(ctx, caller, Action.READ_PATIENT, min(known) if known else None, "this patient is not on your panel")


def bring_in(ctx: AppContext, caller: Caller, ehr: str, patient_fhir_id: str, data: EhrData) -> Brought:
    """Store the records (unless unchanged), update episodes and guidance, and open the patient for the caller."""
    content = canonical_bundle(data.resources)
    if not ctx.patients.is_ingested(hashlib.sha256(content).hexdigest()):
        _may_write(ctx, caller, ehr, patient_fhir_id, content)
    path = bundle_path(ctx.settings.resolved_data_dir, ehr, patient_fhir_id)
    stored = store(ctx.ingest_deps, path, content, f"the {ehr} records of Patient/{patient_fhir_id}")
    if stored.ingested:
        records_changed(ctx, stored.patient_ids)  # without a knowledge index, guidance below says what is missing
    return Brought(open_patient(ctx, caller, f"fhir|{patient_fhir_id}"), stored)
