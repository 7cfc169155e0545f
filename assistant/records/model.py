"""Normalized record model shared by all connectors.

Why one model: engines (guidance, checklists, outreach) must not care whether a fact came from a
FHIR bundle, a C-CDA section or a CCLF claim line. Every record carries ``Provenance`` so that a
citation can open the exact place it was read from, and a ``patient_key`` that names the patient by
one of its identifiers (``"mbi|1EG4TE5MK73"``, ``"fhir|example"``, ``"mrn|HOSP-A|12345"``); the patient
store resolves keys to internal ids through the master patient index.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# Identifier systems we normalise to. Source-specific URIs are mapped onto these by connectors.
MBI = "mbi"
MRN = "mrn"
SSN = "ssn"
FHIR = "fhir"
MEDICAID = "medicaid"
NPI = "npi"
HICN = "hicn"


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Provenance(_Base):
    """Where a record was read from, precisely enough to open it again.

    ``locator`` is format-specific: ``Patient/123`` or ``Bundle.entry[4]`` for FHIR, an XPath for
    C-CDA, ``PID-3[1]`` for HL7 v2, ``line 12`` for fixed-width claims. ``start``/``end`` are
    character offsets into the decoded source text for text-bearing records (narratives, notes).
    """

    source_path: str
    source_sha256: str
    format: str
    locator: str
    start: int | None = None
    end: int | None = None


class Code(_Base):
    system: str  # "loinc", "snomed", "icd10", "rxnorm", "cpt", "hcpcs" or the source URI
    code: str
    display: str | None = None


class Identifier(_Base):
    system: str  # one of the constants above, or the source URI when unknown
    value: str
    assigner: str | None = None  # source system for MRNs and account numbers

    @property
    def key(self) -> str:
        if self.assigner:
            return f"{self.system}|{self.assigner}|{self.value}"
        return f"{self.system}|{self.value}"


class Address(_Base):
    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Patient(_Base):
    kind: Literal["patient"] = "patient"
    identifiers: list[Identifier]
    given: list[str] = Field(default_factory=list)
    family: str | None = None
    birth_date: date | None = None
    sex: str | None = None  # "female" | "male" | "other" | "unknown"
    language: str | None = None  # BCP-47 primary tag, lower case: "en", "es", "zh", "vi", "ht"
    address: Address | None = None
    phone: str | None = None
    deceased: bool = False
    provenance: Provenance

    @property
    def key(self) -> str:
        """The first identifier names the patient inside its document."""
        return self.identifiers[0].key


class Coverage(_Base):
    kind: Literal["coverage"] = "coverage"
    patient_key: str
    payer: str  # "medicare" | "medicaid" | "medicare_advantage" | "commercial" | source text
    member_id: str | None = None
    dual_status: str | None = None  # "full" | "partial" | None; CMS dual status code kept in code
    dual_status_code: str | None = None
    medicare_status_code: str | None = None  # CMS BENE_MDCR_STUS_CD: 10/11 aged, 20/21 disabled, 31 ESRD only
    homebound: bool | None = None
    start: date | None = None
    end: date | None = None
    provenance: Provenance


class Encounter(_Base):
    kind: Literal["encounter"] = "encounter"
    id: str
    patient_key: str
    encounter_class: str  # "inpatient" | "emergency" | "office" | "home" | "virtual" | "observation" | "other"
    type: Code | None = None
    start: datetime | None = None
    end: datetime | None = None
    discharge_disposition: str | None = None
    facility: str | None = None
    reasons: list[Code] = Field(default_factory=list)
    # As the source wrote them, for rule engines that must match codes and statuses exactly (eCQMs):
    status: str | None = None  # FHIR Encounter.status: "finished", "in-progress", "cancelled", ...
    class_code: str | None = None  # the source's class code before mapping, e.g. ActCode "AMB", "EMER", "IMP"
    types: list[Code] = Field(default_factory=list)  # every coding of every type, not only the first
    discharge_codes: list[Code] = Field(default_factory=list)  # every coding of the discharge disposition
    provenance: Provenance


class Condition(_Base):
    kind: Literal["condition"] = "condition"
    id: str
    patient_key: str
    code: Code
    clinical_status: str | None = None  # "active" | "resolved" | "inactive" | ...
    onset: date | None = None
    abatement: date | None = None
    encounter_id: str | None = None
    codes: list[Code] = Field(default_factory=list)  # every coding of the code, for value-set matching
    verification_status: str | None = None  # "confirmed" | "unconfirmed" | "refuted" | "entered-in-error" ...
    # Onset and abatement exactly as written (``onset`` falls back to the recorded date; these never do):
    # the start of onset[x] and the end of abatement[x] (a dateTime, or a Period's start / end).
    onset_at: datetime | None = None
    abatement_at: datetime | None = None
    provenance: Provenance


class Observation(_Base):
    kind: Literal["observation"] = "observation"
    id: str
    patient_key: str
    code: Code  # LOINC when present
    value: float | None = None
    value_text: str | None = None
    unit: str | None = None
    effective: datetime | None = None
    components: list[Observation] = Field(default_factory=list)
    device: str | None = None  # device reference or model for remote monitoring readings
    encounter_id: str | None = None
    codes: list[Code] = Field(default_factory=list)  # every coding of the code, for value-set matching
    status: str | None = None  # FHIR Observation.status: "final", "amended", "corrected", "preliminary", ...
    categories: list[Code] = Field(default_factory=list)  # e.g. observation-category "laboratory", "survey"
    value_type: str | None = None  # which value[x] the source used: "Quantity", "CodeableConcept", "string", ...
    value_codes: list[Code] = Field(default_factory=list)  # codings of a CodeableConcept value
    unit_code: str | None = None  # the UCUM code of a Quantity value ("mm[Hg]", "%"), when given
    # effective[x] as written (``effective`` falls back to ``issued``; these never do): a dateTime gives
    # start == end, a Period its own bounds (either may be missing).
    effective_start: datetime | None = None
    effective_end: datetime | None = None
    profiles: list[str] = Field(default_factory=list)  # meta.profile, e.g. FHIR's vital-signs ".../bp"
    provenance: Provenance


class Medication(_Base):
    kind: Literal["medication"] = "medication"
    id: str
    patient_key: str
    code: Code  # RxNorm when present
    dose: str | None = None
    status: str | None = None  # "active" | "stopped" | "completed" | "changed" | "new" ...
    start: date | None = None
    stop: date | None = None
    encounter_id: str | None = None
    # FHIR MedicationRequest details that eCQMs read (CQL's CumulativeMedicationDuration), as written:
    resource_type: str | None = None  # "MedicationRequest" | "MedicationStatement" | None for other sources
    intent: str | None = None  # "order" | "plan" | "proposal" ...
    codes: list[Code] = Field(default_factory=list)  # codings of medicationCodeableConcept only (not a reference)
    do_not_perform: bool | None = None
    authored_on: datetime | None = None
    validity_start: datetime | None = None  # dispenseRequest.validityPeriod.start
    bounds_start: datetime | None = None  # dosageInstruction[0].timing.repeat.boundsPeriod
    bounds_end: datetime | None = None
    supply_days: float | None = None  # dispenseRequest.expectedSupplyDuration, in days
    dispense_quantity: float | None = None  # dispenseRequest.quantity.value
    refills: int | None = None  # dispenseRequest.numberOfRepeatsAllowed
    dose_value: float | None = None  # doseAndRate[0]: doseQuantity.value, or the high of doseRange
    doses_per_day: float | None = None  # from timing.repeat frequency / period, or the count of timeOfDay
    provenance: Provenance


class Procedure(_Base):
    kind: Literal["procedure"] = "procedure"
    id: str
    patient_key: str
    code: Code
    performed: datetime | None = None
    encounter_id: str | None = None
    codes: list[Code] = Field(default_factory=list)  # every coding of the code, for value-set matching
    status: str | None = None  # FHIR Procedure.status: "completed", "in-progress", "not-done", ...
    performed_end: datetime | None = None  # performedDateTime itself, or performedPeriod.end
    provenance: Provenance


class Order(_Base):
    """A request for a service or a device (FHIR ServiceRequest, DeviceRequest).

    Why a record of its own: quality measures count orders as events (a hospice-care order, a walker ordered
    for a frail patient) with their status, intent and negation, which no other record kind carries.
    """

    kind: Literal["order"] = "order"
    id: str
    patient_key: str
    resource_type: str  # "ServiceRequest" | "DeviceRequest"
    code: Code
    codes: list[Code] = Field(default_factory=list)  # every coding of the code, for value-set matching
    status: str | None = None  # "draft" | "active" | "completed" | "revoked" ...
    intent: str | None = None  # "order" | "plan" | "proposal" ...
    do_not_perform: bool | None = None  # doNotPerform, or QI-Core's doNotPerform modifier extension
    authored_on: datetime | None = None
    encounter_id: str | None = None
    provenance: Provenance


class Practitioner(_Base):
    """A clinician on the patient's care team; ``patient_key`` is None for directory entries."""

    kind: Literal["practitioner"] = "practitioner"
    id: str
    patient_key: str | None = None
    npi: str | None = None
    name: str | None = None
    role: str | None = None  # "pcp", "attending", "care manager", specialty text...
    organization: str | None = None
    provenance: Provenance


class Claim(_Base):
    """A claim line from CCLF (Part A header, Part B physician)."""

    kind: Literal["claim"] = "claim"
    id: str
    patient_key: str
    claim_type: str  # CCLF claim type code, e.g. "60" inpatient, "71" Part B physician
    file_type: str  # "CCLF1", "CCLF5", ...
    from_date: date | None = None
    thru_date: date | None = None
    provider_npi: str | None = None
    facility_ccn: str | None = None
    diagnoses: list[Code] = Field(default_factory=list)
    procedures: list[Code] = Field(default_factory=list)
    amount: float | None = None
    # Institutional claims (CCLF1): what a claims-based transition-of-care trigger needs.
    drg: str | None = None  # MS-DRG
    discharge_status: str | None = None  # NUBC patient discharge status, e.g. "01" home, "06" home health
    admission_type: str | None = None  # NUBC admission type, e.g. "1" emergency
    bill_type: str | None = None  # facility type + classification + frequency, e.g. "111"
    # Professional claim lines (CCLF5).
    place_of_service: str | None = None  # CMS place of service code, e.g. "12" home, "31" SNF
    provenance: Provenance


class DocumentSection(_Base):
    """Narrative text: a C-CDA section, a note, a PDF page. The text is what gets indexed.

    ``provenance.start``/``end`` locate ``text`` in the decoded source when the text appears there
    verbatim; connectors that must rebuild text (XML narrative) keep the XPath in the locator and
    set offsets into ``text`` itself (start 0).
    """

    kind: Literal["section"] = "section"
    id: str
    patient_key: str
    document_id: str
    document_title: str | None = None
    document_type: str | None = None  # "discharge_summary", "ccd", "progress_note", "referral", ...
    document_date: datetime | None = None
    title: str
    loinc: str | None = None
    text: str
    provenance: Provenance


Record = Annotated[
    Coverage
    | Encounter
    | Condition
    | Observation
    | Medication
    | Procedure
    | Order
    | Practitioner
    | Claim
    | DocumentSection,
    Field(discriminator="kind"),
]


class ParsedDocument(_Base):
    """Everything one source file yields: the unit of transactional ingest."""

    source_path: str
    source_sha256: str
    format: str  # "fhir" | "fhir-ndjson" | "ccda" | "hl7v2" | "cclf" | "device-csv" | "document"
    patients: list[Patient] = Field(default_factory=list)
    records: list[Record] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


Observation.model_rebuild()
