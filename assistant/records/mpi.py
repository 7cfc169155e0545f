"""Master patient index: decides which store patient a source's patient entry (or bare key) is.

Why a fixed order of rules: a care team must be able to predict and explain every join. Strong
identifiers come first (MBI, including previous MBIs from the CCLF9 crosswalk; then MRN + assigning
system; then the FHIR Patient.id; then any other exact identifier). Only when none matches do we try
normalized name + birth date, and then only when exactly one candidate exists and nothing strong
contradicts it (a different MBI, a different MRN from the same hospital, a different sex). A wrong
merge mixes two people's records, which is worse than a duplicate, so anything doubtful creates a new
patient and the roster audit reports the pair as a likely duplicate.

Every resolution of a document's patient writes an ``mpi_links`` row naming the rule and the evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from assistant.records.model import FHIR, HICN, MBI, MRN, Identifier, Patient
from assistant.records.names import family_name, first_given, given_names_match, normalize_mbi
from assistant.records.tables import MpiLinkTable, PatientIdentifierTable, PatientTable

PREVIOUS = "previous"  # assigner of a previous MBI or HICN (CCLF9 crosswalk)
CROSSWALK_SYSTEMS = (MBI, HICN)  # Medicare ids whose previous values the CCLF9 crosswalk carries

# Rule names written to mpi_links.rule
RULE_NEW = "new"
RULE_STUB = "stub"
RULE_MBI = "mbi"
RULE_MBI_CROSSWALK = "mbi_crosswalk"
RULE_MRN = "mrn"
RULE_FHIR = "fhir"
RULE_IDENTIFIER = "identifier"
RULE_NAME_DOB = "name_dob"


@dataclass(frozen=True)
class Resolution:
    patient_id: str
    rule: str
    created: bool
    evidence: dict[str, Any] = field(default_factory=dict)


def normalize_identifier(ident: Identifier) -> Identifier:
    """MBIs without dashes, upper case; everything else trimmed."""
    system = ident.system.strip()
    value = ident.value.strip()
    if system == MBI:
        value = normalize_mbi(value)
    assigner = ident.assigner.strip() if ident.assigner else None
    return Identifier(system=system, value=value, assigner=assigner or None)


def identifier_from_key(key: str) -> Identifier:
    """Parse ``"system|value"`` or ``"system|assigner|value"`` (the form of ``Identifier.key``)."""
    parts = key.strip().split("|")
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        raise ValueError(f"not a patient key (expected system|value or system|assigner|value): {key!r}")
    if len(parts) == 2:
        return normalize_identifier(Identifier(system=parts[0], value=parts[1]))
    return normalize_identifier(Identifier(system=parts[0], assigner=parts[1], value="|".join(parts[2:])))


def normalize_key(key: str) -> str:
    return identifier_from_key(key).key


def patient_id_for_key(key: str) -> str:
    """Deterministic internal id from the first identifier key seen, so a re-run after a crash matches."""
    return "pt-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# The statements the MPI runs for every patient of every document, built once: building a statement costs
# more than SQLite takes to answer it.
_HOLDERS_ANY_ASSIGNER = select(PatientIdentifierTable.patient_id, PatientIdentifierTable.assigner).where(
    PatientIdentifierTable.system == bindparam("system"), PatientIdentifierTable.value == bindparam("value")
)
_HOLDER = select(PatientIdentifierTable.patient_id, PatientIdentifierTable.assigner).where(
    PatientIdentifierTable.system == bindparam("system"),
    PatientIdentifierTable.assigner == bindparam("assigner"),
    PatientIdentifierTable.value == bindparam("value"),
)
_LINK = (
    select(MpiLinkTable.patient_id, MpiLinkTable.rule, MpiLinkTable.evidence)
    .join(PatientTable, PatientTable.id == MpiLinkTable.patient_id)
    .where(MpiLinkTable.document_id == bindparam("document_id"), MpiLinkTable.source_key == bindparam("key"))
)
_ASSIGNERS = select(PatientIdentifierTable.assigner).where(
    PatientIdentifierTable.patient_id == bindparam("patient_id"),
    PatientIdentifierTable.system == bindparam("system"),
    PatientIdentifierTable.value == bindparam("value"),
)
_PATIENT_ID = select(PatientTable.id).where(PatientTable.id == bindparam("patient_id"))
_INSERT_LINK = insert(MpiLinkTable)
_INSERT_IDENTIFIER = insert(PatientIdentifierTable)
_INSERT_PATIENT = insert(PatientTable)
_PATIENT = select(PatientTable.__table__).where(PatientTable.id == bindparam("patient_id"))
_BORN_ON = (
    select(PatientTable.id, PatientTable.given, PatientTable.family, PatientTable.sex)
    .where(PatientTable.birth_date == bindparam("birth_date"))
    .order_by(PatientTable.id)
)
_IDENTIFIERS_OF = (
    select(PatientIdentifierTable.system, PatientIdentifierTable.value, PatientIdentifierTable.assigner)
    .where(PatientIdentifierTable.patient_id == bindparam("patient_id"))
    .order_by(PatientIdentifierTable.id)
)


def _sql(session: Session) -> Connection:
    """The session's own connection (same transaction), for the prebuilt Core statements above.

    Why not ``session.execute``: it runs even a Core statement through the ORM's execution path, twice the
    cost of the statement on SQLite, and the MPI runs a dozen per patient. The MPI never loads or changes ORM
    objects, so there is never anything the session would have to flush first.
    """
    return session.connection()


def find_by_identifier(session: Session, ident: Identifier) -> list[str]:
    """Patient ids holding this identifier. An MBI (or HICN) matches current and previous values alike, since
    the crosswalk says both name the same beneficiary; the patient holding it as current comes first."""
    if ident.system in CROSSWALK_SYSTEMS:
        rows = _sql(session).execute(_HOLDERS_ANY_ASSIGNER, {"system": ident.system, "value": ident.value}).all()
    else:
        params = {"system": ident.system, "assigner": ident.assigner or "", "value": ident.value}
        rows = _sql(session).execute(_HOLDER, params).all()
    ordered = sorted(rows, key=lambda row: (row.assigner == PREVIOUS, row.patient_id))
    seen: list[str] = []
    for row in ordered:
        if row.patient_id not in seen:
            seen.append(row.patient_id)
    return seen


def identifiers_of(session: Session, patient_id: str) -> list[Identifier]:
    rows = _sql(session).execute(_IDENTIFIERS_OF, {"patient_id": patient_id})
    return [Identifier(system=r.system, value=r.value, assigner=r.assigner or None) for r in rows]


def _rule_order(ident: Identifier) -> int:
    if ident.system == MBI:
        return 1 if ident.assigner == PREVIOUS else 0
    return {MRN: 2, FHIR: 3}.get(ident.system, 4)


def _rule_for(ident: Identifier, session: Session, patient_id: str) -> str:
    if ident.system in CROSSWALK_SYSTEMS:
        params = {"patient_id": patient_id, "system": ident.system, "value": ident.value}
        held_as = _sql(session).scalars(_ASSIGNERS, params).all()  # how the patient holds this MBI/HICN
        if ident.assigner == PREVIOUS or PREVIOUS in held_as:
            return RULE_MBI_CROSSWALK
        return RULE_MBI if ident.system == MBI else RULE_IDENTIFIER
    return {MRN: RULE_MRN, FHIR: RULE_FHIR}.get(ident.system, RULE_IDENTIFIER)


def _now() -> datetime:
    return datetime.now(UTC)


# Writes below are single INSERT statements rather than ORM objects: an ORM add makes the next query flush
# the session's unit of work first, and those flushes were most of the cost of ingesting a patient.


def _existing_link(session: Session, document_id: str, key: str) -> Resolution | None:
    link = _sql(session).execute(_LINK, {"document_id": document_id, "key": key}).first()
    if link is None:
        return None
    return Resolution(link.patient_id, link.rule, False, dict(link.evidence or {}))


def _write_link(session: Session, document_id: str, key: str, resolution: Resolution) -> None:
    _sql(session).execute(
        _INSERT_LINK,
        {
            "document_id": document_id,
            "source_key": key,
            "patient_id": resolution.patient_id,
            "rule": resolution.rule,
            "evidence": resolution.evidence,
            "created_at": _now(),
        },
    )


def _patient_exists(session: Session, patient_id: str) -> bool:
    return _sql(session).execute(_PATIENT_ID, {"patient_id": patient_id}).first() is not None


def _new_patient_id(session: Session, key: str) -> str:
    candidate = patient_id_for_key(key)
    n = 1
    while _patient_exists(session, candidate):
        n += 1
        candidate = patient_id_for_key(f"{key}#{n}")
    return candidate


def _attach_identifiers(
    session: Session, patient_id: str, idents: list[Identifier], document_id: str
) -> list[dict[str, str]]:
    """Add identifiers the patient does not have yet; return conflicts (identifier already on another patient)."""
    conflicts: list[dict[str, str]] = []
    for ident in idents:
        key = {"system": ident.system, "assigner": ident.assigner or "", "value": ident.value}
        held_by = _sql(session).scalar(_HOLDER, key)
        if held_by is None:
            _sql(session).execute(_INSERT_IDENTIFIER, {**key, "patient_id": patient_id, "document_id": document_id})
        elif held_by != patient_id:
            conflicts.append({"identifier": ident.key, "held_by": held_by})
    return conflicts


def _insert_identifiers(session: Session, patient_id: str, idents: list[Identifier], document_id: str) -> None:
    """A new patient's identifiers in one statement. Only for a patient just created because no store patient
    held any of them (``find_by_identifier`` said so for each), so there is nothing to check them against."""
    rows = {
        (ident.system, ident.assigner or "", ident.value): {
            "system": ident.system, "assigner": ident.assigner or "", "value": ident.value,
            "patient_id": patient_id, "document_id": document_id,
        }
        for ident in idents
    }  # fmt: skip
    _sql(session).execute(_INSERT_IDENTIFIER, list(rows.values()))


def _demographics(patient: Patient) -> dict[str, Any]:
    return {
        "given": list(patient.given),
        "family": patient.family,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "language": patient.language,
        "phone": patient.phone,
        "address": patient.address.model_dump(mode="json") if patient.address else None,
    }


def enrich(session: Session, patient_id: str, patient: Patient) -> bool:
    """Fill display fields the store does not know yet; never overwrite what an earlier source said.

    First-source-wins keeps ids and display stable across re-runs; disagreements between sources are
    visible in each document's own patient entry (records of kind "patient").
    """
    row = _sql(session).execute(_PATIENT, {"patient_id": patient_id}).one()
    changes: dict[str, Any] = {
        name: value
        for name, value in _demographics(patient).items()
        if value not in (None, [], "") and getattr(row, name) in (None, [], "")
    }
    if patient.deceased and not row.deceased:
        changes["deceased"] = True
    if row.stub:
        changes["stub"] = False
    if not changes:
        return False
    changes["updated_at"] = _now()
    _sql(session).execute(update(PatientTable).where(PatientTable.id == patient_id).values(**changes))
    return True


def _create_patient(session: Session, key: str, patient: Patient | None) -> str:
    """Insert a new patient (a stub when only an identifier is known) and return its id."""
    now = _now()
    values: dict[str, Any] = {
        "id": _new_patient_id(session, key),
        "given": [],
        "deceased": False,
        "stub": patient is None,
        "created_at": now,
        "updated_at": now,
    }
    if patient is not None:
        values.update(_demographics(patient))
        values["deceased"] = patient.deceased
    _sql(session).execute(_INSERT_PATIENT, values)
    return str(values["id"])


def _strong_conflicts(incoming: list[Identifier], held: list[Identifier]) -> list[str]:
    """Strong identifiers that say two entries are different people."""
    reasons: list[str] = []
    in_mbis = {i.value for i in incoming if i.system == MBI}
    held_mbis = {i.value for i in held if i.system == MBI}
    in_current = {i.value for i in incoming if i.system == MBI and i.assigner != PREVIOUS}
    held_current = {i.value for i in held if i.system == MBI and i.assigner != PREVIOUS}
    if in_current and held_current and not (in_mbis & held_mbis):
        reasons.append(f"different MBI ({', '.join(sorted(in_current))} vs {', '.join(sorted(held_current))})")
    held_mrn = {(i.assigner or ""): i.value for i in held if i.system == MRN}
    for ident in incoming:
        if ident.system == MRN and (ident.assigner or "") in held_mrn:
            other = held_mrn[ident.assigner or ""]
            if other != ident.value:
                reasons.append(f"different MRN from {ident.assigner or 'the same system'} ({ident.value} vs {other})")
    return reasons


def name_dob_candidates(session: Session, patient: Patient, exclude: set[str] | None = None) -> list[Row[Any]]:
    """Store patients with the same birth date whose normalized family and first given name agree."""
    if patient.birth_date is None or not patient.family:
        return []
    family = family_name(patient.family)
    given = first_given(patient.given)
    if not family or not given:
        return []
    rows = _sql(session).execute(_BORN_ON, {"birth_date": patient.birth_date}).all()
    return [
        row
        for row in rows
        if row.id not in (exclude or set())
        and family_name(row.family) == family
        and given_names_match(first_given(row.given or []), given)
    ]


def resolve_entry(session: Session, patient: Patient, document_id: str) -> Resolution:
    """Resolve a document's Patient entry to a store patient, creating or enriching as needed."""
    idents = [normalize_identifier(i) for i in patient.identifiers]
    key = idents[0].key
    previous = _existing_link(session, document_id, key)
    if previous is not None:
        enrich(session, previous.patient_id, patient)
        _attach_identifiers(session, previous.patient_id, idents, document_id)
        return previous

    source = {"source_path": patient.provenance.source_path, "locator": patient.provenance.locator}
    for ident in sorted(idents, key=_rule_order):
        found = find_by_identifier(session, ident)
        if not found:
            continue
        patient_id = found[0]
        rule = _rule_for(ident, session, patient_id)
        enrich(session, patient_id, patient)
        conflicts = _attach_identifiers(session, patient_id, idents, document_id)
        evidence: dict[str, Any] = {"matched": ident.key, **source}
        if len(found) > 1:
            evidence["also_held_by"] = found[1:]
        if conflicts:
            evidence["conflicts"] = conflicts
        resolution = Resolution(patient_id, rule, False, evidence)
        _write_link(session, document_id, key, resolution)
        return resolution

    evidence = {"identifiers": [i.key for i in idents], **source}
    candidates = name_dob_candidates(session, patient)
    if len(candidates) == 1:
        candidate = candidates[0]
        reasons = _strong_conflicts(idents, identifiers_of(session, candidate.id))
        if candidate.sex and patient.sex and candidate.sex != patient.sex:
            reasons.append(f"different sex ({patient.sex} vs {candidate.sex})")
        if not reasons:
            enrich(session, candidate.id, patient)
            _attach_identifiers(session, candidate.id, idents, document_id)
            evidence["name"] = {"family": family_name(patient.family), "given": first_given(patient.given)}
            evidence["birth_date"] = patient.birth_date.isoformat() if patient.birth_date else None
            resolution = Resolution(candidate.id, RULE_NAME_DOB, False, evidence)
            _write_link(session, document_id, key, resolution)
            return resolution
        evidence["not_linked"] = {"candidate": candidate.id, "reasons": reasons}
    elif len(candidates) > 1:
        evidence["not_linked"] = {
            "candidates": [c.id for c in candidates],
            "reasons": ["several patients share this name and birth date"],
        }

    patient_id = _create_patient(session, key, patient)
    _insert_identifiers(session, patient_id, idents, document_id)
    resolution = Resolution(patient_id, RULE_NEW, True, evidence)
    _write_link(session, document_id, key, resolution)
    return resolution


def resolve_key(session: Session, key: str, document_id: str, source_path: str) -> Resolution:
    """Resolve a ``patient_key`` that a record names but its document does not describe.

    Found by identifier, or else a stub patient is created with just that identifier; a later document
    carrying the full Patient matches the identifier and fills in the stub.
    """
    ident = identifier_from_key(key)
    norm = ident.key
    previous = _existing_link(session, document_id, norm)
    if previous is not None:
        return previous
    found = find_by_identifier(session, ident)
    if found:
        resolution = Resolution(
            found[0], _rule_for(ident, session, found[0]), False, {"matched": norm, "source_path": source_path}
        )
    else:
        patient_id = _create_patient(session, norm, None)
        _insert_identifiers(session, patient_id, [ident], document_id)
        resolution = Resolution(patient_id, RULE_STUB, True, {"identifiers": [norm], "source_path": source_path})
    _write_link(session, document_id, norm, resolution)
    return resolution
