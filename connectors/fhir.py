"""FHIR R4 JSON: Bundles (Synthea transaction bundles included), single resources, and Bulk FHIR NDJSON.

Why hand-mapping over plain dicts: Synthea bundles are 0.2-1 MB and mostly Claim and
ExplanationOfBenefit, which we do not map. We parse with ``json``, skip unmapped types at once,
validate only the mapped ones with ``fhir.resources`` (R4B models, which match R4 for these types)
and read the fields we need from the dict. A resource that fails validation is still read when the
fields we need are usable, and the failure becomes a warning: real-world files are never rejected
for strictness. Only unreadable files (bad JSON, wrong encoding, not FHIR at all) raise ParseError.

Conventions:

- Patients get ``Identifier("fhir", Patient.id)`` first, so ``patient.key == "fhir|<id>"``; other
  identifiers are mapped to our systems (MBI, MRN with the system as assigner, SSN, NPI, Medicaid).
- Records name their patient by key, resolving ``urn:uuid:`` references through ``fullUrl``,
  ``Patient/<id>`` (relative or absolute URL) and ``Patient?identifier=<system>|<value>``.
- Locators are ``<Type>/<id>`` (``Bundle.entry[i]`` or ``line N`` when a resource has no id);
  note sections are located at ``DocumentReference/<id>#content[i]`` with offsets into the decoded
  attachment text (for HTML attachments: into the text extracted by ``note_text.html_to_text``).
- Date-times keep the wall-clock time written in the source and drop the UTC offset, so that
  every connector yields naive datetimes that compare with each other.
- Dual status: the Blue Button ``.../variables/dual_NN`` monthly extensions (on Coverage or Patient;
  the latest month wins) or a Medicare and a Medicaid Coverage for the same patient (then
  ``dual_status="unknown"``). CMS codes 02, 04, 08 are full duals; 01, 03, 05, 06 are partial.
- Homebound: the extension :data:`HOMEBOUND_EXTENSION` (valueBoolean, on Coverage or Patient), or an
  active Condition or Observation coded SNOMED :data:`HOUSEBOUND_SNOMED` "Housebound"; it is set on
  the patient's Medicare Coverage records.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.records.model import (
    FHIR,
    MBI,
    MEDICAID,
    MRN,
    NPI,
    SSN,
    Code,
    Condition,
    Coverage,
    DocumentSection,
    Encounter,
    Identifier,
    Medication,
    Observation,
    Order,
    ParsedDocument,
    Patient,
    Practitioner,
    Procedure,
    Provenance,
)
from assistant.records.vocabulary import CODE_SYSTEM_NAMES, LANGUAGE_NAMES
from connectors import note_text
from connectors.errors import ParseError
from connectors.text import decode_text, iter_lines, sha256_bytes

FORMAT = "fhir"
NDJSON_FORMAT = "fhir-ndjson"

HOMEBOUND_EXTENSION = "urn:caretrail:fhir:extension:homebound"
HOUSEBOUND_SNOMED = "160685001"
BLUE_BUTTON_DUAL = re.compile(r"bluebutton\.cms\.gov/resources/variables/dual_(\d\d)$")
FULL_DUAL_CODES = {"02", "04", "08"}
PARTIAL_DUAL_CODES = {"01", "03", "05", "06"}

MBI_SYSTEMS = {
    "http://hl7.org/fhir/sid/us-mbi",
    "https://bluebutton.cms.gov/resources/identifier/mbi",
    "http://terminology.hl7.org/NamingSystem/cmsMBI",
    "https://terminology.hl7.org/NamingSystem/cmsMBI",
}
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MEDICARE_NUMBER_SYSTEM = "http://hl7.org/fhir/sid/us-medicare"

CODE_SYSTEMS = CODE_SYSTEM_NAMES

ENCOUNTER_CLASSES = {
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "EMER": "emergency",
    "AMB": "office",
    "HH": "home",
    "VR": "virtual",
    "OBSENC": "observation",
    "SS": "observation",
    "PRENC": "office",
}

# Discharge disposition codes to one vocabulary: NUBC patient status, the HL7 discharge-disposition
# code system and the SNOMED codes seen in FHIR examples.
DISCHARGE_DISPOSITIONS = {
    "01": "home",
    "02": "acute_transfer",
    "03": "snf",
    "04": "long_term_care",
    "05": "other_facility",
    "06": "home_health",
    "07": "ama",
    "20": "expired",
    "21": "other",
    "43": "acute_transfer",
    "50": "hospice",
    "51": "hospice",
    "61": "snf",
    "62": "rehab",
    "63": "long_term_care",
    "64": "long_term_care",
    "65": "psych",
    "66": "other_facility",
    "70": "other_facility",
    "home": "home",
    "alt-home": "home",
    "other-hcf": "other_facility",
    "hosp": "hospice",
    "long": "long_term_care",
    "aadvice": "ama",
    "exp": "expired",
    "psy": "psych",
    "rehab": "rehab",
    "snf": "snf",
    "oth": "other",
    "306689006": "home",
    "306691003": "other_facility",
    "306694006": "snf",
}

DOCUMENT_TYPES = {
    "18842-5": "discharge_summary",
    "11506-3": "progress_note",
    "34117-2": "history_and_physical",
    "11488-4": "consult_note",
    "57133-1": "referral",
    "34133-9": "ccd",
    "18761-7": "transfer_summary",
    "51847-2": "progress_note",
    "34746-8": "nurse_note",
    "28570-0": "procedure_note",
    "18776-5": "care_plan",
}

MAPPED_TYPES = {
    "Patient", "Coverage", "Encounter", "Condition", "Observation", "MedicationRequest",
    "MedicationStatement", "Procedure", "Practitioner", "DocumentReference", "ServiceRequest", "DeviceRequest",
}  # fmt: skip
# Resolved through references but not emitted as records.
LOOKUP_TYPES = {"Organization", "Device", "Medication", "Location"}

_MBI_RE = note_text.MBI_RE


# -------------------------------------------------------------------------------------------- helpers


def _first(items: Any) -> Any:
    if isinstance(items, list):
        return items[0] if items else None
    return items


def parse_datetime(value: Any) -> datetime | None:
    """FHIR date/dateTime/instant (partial dates allowed) as a naive wall-clock datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def parse_date(value: Any) -> date | None:
    moment = parse_datetime(value)
    return moment.date() if moment else None


def _period_start(resource: dict[str, Any], prefix: str) -> datetime | None:
    """``<prefix>DateTime`` / ``<prefix>Period.start`` / ``<prefix>Instant`` / ``<prefix>Date``."""
    for suffix in ("DateTime", "Instant", "Date"):
        if prefix + suffix in resource:
            return parse_datetime(resource[prefix + suffix])
    period = resource.get(prefix + "Period")
    if isinstance(period, dict):
        return parse_datetime(period.get("start"))
    return None


def to_code(concept: Any, prefer: Iterable[str] = ()) -> Code | None:
    """One Code from a CodeableConcept: the first coding in a preferred system, else the first coding."""
    if not isinstance(concept, dict):
        return None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")]
    text = concept.get("text")
    chosen = None
    for wanted in prefer:
        chosen = next((c for c in codings if CODE_SYSTEMS.get(c.get("system", "")) == wanted), None)
        if chosen:
            break
    if chosen is None and codings:
        chosen = next((c for c in codings if c.get("system") in CODE_SYSTEMS), codings[0])
    if chosen is None:
        return Code(system="text", code=text, display=text) if isinstance(text, str) and text else None
    system = chosen.get("system") or "unknown"
    return Code(
        system=CODE_SYSTEMS.get(system, system),
        code=str(chosen["code"]),
        display=chosen.get("display") or (text if isinstance(text, str) else None),
    )


def all_codes(concept: Any) -> list[Code]:
    """Every coding of a CodeableConcept (or a list of them), systems named as in ``to_code``.

    Why all of them: a value-set test (an eCQM's "Essential Hypertension") matches any coding, and the one
    ``to_code`` keeps may be another system's.
    """
    concepts = concept if isinstance(concept, list) else [concept]
    codes: list[Code] = []
    for item in concepts:
        if not isinstance(item, dict):
            continue
        for coding in item.get("coding") or []:
            if isinstance(coding, dict) and coding.get("code"):
                system = coding.get("system") or "unknown"
                display = coding.get("display")
                codes.append(Code(system=CODE_SYSTEMS.get(system, system), code=str(coding["code"]), display=display))
    return codes


def _choice_bounds(resource: dict[str, Any], prefix: str) -> tuple[datetime | None, datetime | None]:
    """``<prefix>[x]`` as written, as (start, end): a dateTime/instant is both, a Period gives its own bounds."""
    for suffix in ("DateTime", "Instant", "Date"):
        if prefix + suffix in resource:
            moment = parse_datetime(resource[prefix + suffix])
            return moment, moment
    period = resource.get(prefix + "Period")
    if isinstance(period, dict):
        return parse_datetime(period.get("start")), parse_datetime(period.get("end"))
    return None, None


# QI-Core marks a negated DeviceRequest with this modifier extension (the resource has no doNotPerform element).
QICORE_DO_NOT_PERFORM = "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-doNotPerform"


def _do_not_perform(resource: dict[str, Any]) -> bool | None:
    if isinstance(resource.get("doNotPerform"), bool):
        return bool(resource["doNotPerform"])
    for ext in resource.get("modifierExtension") or []:
        if not isinstance(ext, dict) or ext.get("url") != QICORE_DO_NOT_PERFORM:
            continue
        if isinstance(ext.get("valueBoolean"), bool):
            return bool(ext["valueBoolean"])
    return None


def map_identifier(raw: dict[str, Any]) -> Identifier | None:
    """A FHIR Identifier in our systems (see module docstring); unknown systems keep their URI."""
    value = raw.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    system = raw.get("system") or ""
    type_codes = {c.get("code") for c in ((raw.get("type") or {}).get("coding") or []) if isinstance(c, dict)}
    compact = value.replace("-", "").replace(" ", "").upper()
    if system in MBI_SYSTEMS:
        return Identifier(system=MBI, value=compact)
    if system == MEDICARE_NUMBER_SYSTEM or "MC" in type_codes:
        return Identifier(system=MBI if _MBI_RE.match(compact) else "hicn", value=compact)
    if system == SSN_SYSTEM or "SS" in type_codes:
        return Identifier(system=SSN, value=value.replace("-", "").replace(" ", ""))
    if system == NPI_SYSTEM or "NPI" in type_codes:
        return Identifier(system=NPI, value=value)
    if "MA" in type_codes:
        return Identifier(system=MEDICAID, value=value)
    if "MR" in type_codes:
        assigner = system or ((raw.get("assigner") or {}).get("display")) or "unknown"
        return Identifier(system=MRN, value=value, assigner=assigner)
    return Identifier(system=system or "unknown", value=value)


def decode_attachment(attachment: dict[str, Any]) -> tuple[str, bytes] | None:
    data = attachment.get("data")
    if not isinstance(data, str):
        return None
    content_type = str(attachment.get("contentType") or "").lower()
    return content_type, base64.b64decode(data, validate=False)


# ---------------------------------------------------------------------------------------- the parser


@dataclass
class _Context:
    path: Path
    digest: str
    doc_format: str
    by_reference: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    validated: dict[str, int] = field(default_factory=dict)  # resources validated so far, per type

    def provenance(self, locator: str, start: int | None = None, end: int | None = None) -> Provenance:
        return Provenance(
            source_path=str(self.path),
            source_sha256=self.digest,
            format=self.doc_format,
            locator=locator,
            start=start,
            end=end,
        )

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        if not isinstance(reference, dict):
            return None
        ref = reference.get("reference")
        if not isinstance(ref, str):
            return None
        if ref.startswith("#"):
            return None
        found = self.by_reference.get(ref)
        if found is None and "/" in ref and "?" not in ref:
            found = self.by_reference.get("/".join(ref.rstrip("/").split("/")[-2:]))
        return found

    def reference_id(self, reference: Any, wanted: str) -> str | None:
        """The id of a referenced resource of type ``wanted`` (resolving urn:uuid through fullUrl)."""
        found = self.resolve(reference)
        if found is not None:
            return str(found.get("id")) if found.get("resourceType") == wanted and found.get("id") else None
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(ref, str) and "?" not in ref:
            parts = ref.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == wanted:
                return parts[-1]
            if ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
                return ref.rsplit(":", 1)[-1]
        return None

    def patient_key(self, reference: Any) -> str | None:
        if not isinstance(reference, dict):
            return None
        ref = reference.get("reference")
        if isinstance(ref, str) and ref.startswith("Patient?identifier="):
            system, _, value = ref.split("=", 1)[1].partition("|")
            ident = map_identifier({"system": system, "value": value})
            return ident.key if ident else None
        identifier = reference.get("identifier")
        if not ref and isinstance(identifier, dict):
            ident = map_identifier(identifier)
            return ident.key if ident else None
        patient_id = self.reference_id(reference, "Patient")
        return f"{FHIR}|{patient_id}" if patient_id else None

    def display(self, reference: Any) -> str | None:
        """A human name for a referenced Organization/Location/Device/Practitioner."""
        found = self.resolve(reference)
        if found is not None:
            if found.get("name") and isinstance(found["name"], str):
                return found["name"]
            names = found.get("deviceName")
            if isinstance(names, list) and names and isinstance(names[0], dict) and names[0].get("name"):
                return str(names[0]["name"])
            concept = found.get("type")
            if isinstance(concept, dict) and concept.get("text"):
                return str(concept["text"])
        if isinstance(reference, dict):
            if reference.get("display"):
                return str(reference["display"])
            if isinstance(reference.get("reference"), str):
                return reference["reference"]
        return None


# Full FHIR validation (fhir.resources) costs about twice the mapping itself, so it is sampled. An export's
# conformance problems are systematic (one vendor, one version), so they show up in a sample:
# - small files (up to VALIDATE_WHOLE_UP_TO resources: single resources, hand-made or vendor examples) are
#   validated whole, since that is cheap and where a warning helps most;
# - in larger files, the first VALIDATION_SAMPLE resources of each type, in one file of every
#   VALIDATE_ONE_FILE_IN (chosen by content hash, so a file always gets the same warnings: a re-run after a
#   crash must reproduce the ledger exactly);
# - any resource whose mapping fails, always, so its warning names the failing path.
VALIDATION_SAMPLE = 5
VALIDATE_WHOLE_UP_TO = 10
VALIDATE_ONE_FILE_IN = 8


def _validation_quota(digest: str, resource_count: int) -> int:
    """How many resources of each type this file validates up front."""
    if resource_count <= VALIDATE_WHOLE_UP_TO:
        return resource_count
    return VALIDATION_SAMPLE if int(digest[:8], 16) % VALIDATE_ONE_FILE_IN == 0 else 0


def _check_valid(ctx: _Context, resource: dict[str, Any], where: str) -> None:
    """Validate with fhir.resources; problems become one warning line with the first failing path."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        ctx.warnings.append(f"{ctx.path} at {where}: not valid FHIR R4 at {loc}: {first.get('msg')}{more}; read anyway")
    except (KeyError, ValueError, TypeError) as exc:
        ctx.warnings.append(f"{ctx.path} at {where}: could not validate ({exc}); read anyway")


def _locator(resource: dict[str, Any], fallback: str) -> str:
    rid = resource.get("id")
    return f"{resource['resourceType']}/{rid}" if rid else fallback


def _human_name(raw: Any) -> tuple[list[str], str | None, str | None]:
    names = [n for n in raw or [] if isinstance(n, dict)]
    chosen = next((n for n in names if n.get("use") in ("official", "usual")), names[0] if names else None)
    if not chosen:
        return [], None, None
    given = [str(g) for g in chosen.get("given") or []]
    family = chosen.get("family")
    text = chosen.get("text") or " ".join([*(chosen.get("prefix") or []), *given, family or ""]).strip()
    return given, family, text or None


def _language(resource: dict[str, Any]) -> str | None:
    comms = [c for c in resource.get("communication") or [] if isinstance(c, dict)]
    chosen = next((c for c in comms if c.get("preferred") is True), comms[0] if comms else None)
    if not chosen:
        return None
    concept = chosen.get("language") or {}
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"]).replace("_", "-").split("-")[0].lower()
    text = str(concept.get("text") or "").strip().lower()
    return LANGUAGE_NAMES.get(text)


def _map_patient(ctx: _Context, r: dict[str, Any], locator: str) -> Patient:
    identifiers = [Identifier(system=FHIR, value=str(r["id"]))]
    for raw in r.get("identifier") or []:
        if isinstance(raw, dict):
            ident = map_identifier(raw)
            if ident and ident not in identifiers:
                identifiers.append(ident)
    given, family, _ = _human_name(r.get("name"))
    addresses = [a for a in r.get("address") or [] if isinstance(a, dict)]
    address = next((a for a in addresses if a.get("use") == "home"), addresses[0] if addresses else None)
    phones = [t for t in r.get("telecom") or [] if isinstance(t, dict) and t.get("system") == "phone"]
    phone = next((t for t in phones if t.get("use") in ("home", "mobile")), phones[0] if phones else None)
    return Patient(
        identifiers=identifiers,
        given=given,
        family=family,
        birth_date=parse_date(r.get("birthDate")),
        sex=r.get("gender"),
        language=_language(r),
        address=(
            {
                "lines": [str(x) for x in address.get("line") or []],
                "city": address.get("city"),
                "state": address.get("state"),
                "postal_code": address.get("postalCode"),
                "country": address.get("country"),
            }
            if address
            else None
        ),
        phone=phone.get("value") if phone else None,
        deceased=bool(r.get("deceasedBoolean")) or "deceasedDateTime" in r,
        provenance=ctx.provenance(locator),
    )


def _dual_code(resource: dict[str, Any]) -> str | None:
    latest: tuple[str, str] | None = None
    for ext in resource.get("extension") or []:
        match = BLUE_BUTTON_DUAL.search(str(ext.get("url", ""))) if isinstance(ext, dict) else None
        if match:
            coding = ext.get("valueCoding") or {}
            code = coding.get("code") if isinstance(coding, dict) else None
            if code and (latest is None or match.group(1) >= latest[0]):
                latest = (match.group(1), str(code))
    return latest[1] if latest else None


def _homebound_flag(resource: dict[str, Any]) -> bool | None:
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == HOMEBOUND_EXTENSION and "valueBoolean" in ext:
            return bool(ext["valueBoolean"])
    return None


def _payer(ctx: _Context, r: dict[str, Any]) -> str:
    """Medicare / Medicare Advantage / Medicaid / commercial from SOPT codes, then payer names."""
    for coding in (r.get("type") or {}).get("coding") or []:
        if not isinstance(coding, dict):
            continue
        code = str(coding.get("code") or "")
        system = str(coding.get("system") or "")
        if "sopt" in system.lower() or system == "urn:oid:2.16.840.1.113883.3.221.5":
            if code.startswith("11"):
                return "medicare_advantage"
            if code.startswith("1"):
                return "medicare"
            if code.startswith("2"):
                return "medicaid"
            if code[:1] in ("5", "6"):
                return "commercial"
    names = [str((r.get("type") or {}).get("text") or "")]
    codings = (r.get("type") or {}).get("coding") or []
    names += [f"{c.get('system', '')} {c.get('code', '')}" for c in codings if isinstance(c, dict)]
    names += [ctx.display(p) or "" for p in r.get("payor") or []]
    grouping = r.get("grouping")
    if isinstance(grouping, dict):
        names += [str(v) for v in grouping.values()]
    joined = " ".join(names).lower()
    if "medicare advantage" in joined:
        return "medicare_advantage"
    if "medicare" in joined:
        return "medicare"
    if "medicaid" in joined or "medi-cal" in joined:
        return "medicaid"
    text = next((n for n in names if n.strip()), "")
    return text.strip() or "unknown"


def _dual_status(code: str | None) -> str | None:
    if code in FULL_DUAL_CODES:
        return "full"
    if code in PARTIAL_DUAL_CODES:
        return "partial"
    return None


def _observation(ctx: _Context, r: dict[str, Any], locator: str, patient_key: str, obs_id: str) -> Observation:
    code = to_code(r.get("code"), prefer=("loinc",))
    if code is None:
        raise ValueError("Observation.code has no coding or text")
    value: float | None = None
    value_text: str | None = None
    unit: str | None = None
    unit_code: str | None = None
    value_type = next((key[5:] for key in r if key.startswith("value") and len(key) > 5 and key[5].isupper()), None)
    quantity = r.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        value = float(quantity["value"])
        unit = quantity.get("unit") or quantity.get("code")
        unit_code = quantity.get("code") if isinstance(quantity.get("code"), str) else None
    elif isinstance(r.get("valueInteger"), int):
        value = float(r["valueInteger"])
    elif isinstance(r.get("valueString"), str):
        value_text = r["valueString"]
    elif isinstance(r.get("valueBoolean"), bool):
        value_text = str(r["valueBoolean"]).lower()
    elif isinstance(r.get("valueCodeableConcept"), dict):
        concept = to_code(r["valueCodeableConcept"])
        value_text = concept.display or concept.code if concept else None
    elif isinstance(r.get("dataAbsentReason"), dict):
        absent = to_code(r["dataAbsentReason"])
        value_text = f"data absent: {absent.display or absent.code}" if absent else "data absent"
    device = ctx.display(r["device"]) if isinstance(r.get("device"), dict) else None
    components = []
    for index, comp in enumerate(r.get("component") or []):
        if not isinstance(comp, dict) or to_code(comp.get("code")) is None:
            continue
        comp_loc = f"{locator}.component[{index}]"
        components.append(
            _observation(ctx, {**comp, "resourceType": "Observation"}, comp_loc, patient_key, f"{obs_id}#{index}")
        )
    effective_start, effective_end = _choice_bounds(r, "effective")
    meta = r.get("meta") if isinstance(r.get("meta"), dict) else {}
    return Observation(
        codes=all_codes(r.get("code")),
        status=r.get("status") if isinstance(r.get("status"), str) else None,
        categories=all_codes(r.get("category") or []),
        value_type=value_type,
        value_codes=all_codes(r.get("valueCodeableConcept")),
        unit_code=unit_code,
        effective_start=effective_start,
        effective_end=effective_end,
        profiles=[str(p) for p in meta.get("profile") or [] if isinstance(p, str)],
        id=obs_id,
        patient_key=patient_key,
        code=code,
        value=value,
        value_text=value_text,
        unit=unit,
        effective=_period_start(r, "effective") or parse_datetime(r.get("issued")),
        components=components,
        device=device,
        encounter_id=ctx.reference_id(r.get("encounter"), "Encounter"),
        provenance=ctx.provenance(locator),
    )


def _medication_code(ctx: _Context, r: dict[str, Any]) -> Code | None:
    if isinstance(r.get("medicationCodeableConcept"), dict):
        return to_code(r["medicationCodeableConcept"], prefer=("rxnorm",))
    reference = r.get("medicationReference")
    if isinstance(reference, dict):
        target = None
        ref = reference.get("reference")
        if isinstance(ref, str) and ref.startswith("#"):
            target = next((c for c in r.get("contained") or [] if c.get("id") == ref[1:]), None)
        else:
            target = ctx.resolve(reference)
        if target and isinstance(target.get("code"), dict):
            return to_code(target["code"], prefer=("rxnorm",))
        if reference.get("display"):
            return Code(system="text", code=str(reference["display"]), display=str(reference["display"]))
    return None


# Days per unit of a duration, for dispenseRequest.expectedSupplyDuration (UCUM codes and plain words).
_DAYS_PER_UNIT = {
    "d": 1.0, "day": 1.0, "days": 1.0, "wk": 7.0, "week": 7.0, "weeks": 7.0, "mo": 30.0, "month": 30.0,
    "months": 30.0, "a": 365.0, "year": 365.0, "years": 365.0, "h": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
}  # fmt: skip
# Periods per day for timing.repeat.periodUnit, as CQL's CumulativeMedicationDuration.ToDaily counts them.
_PER_DAY = {"h": 24.0, "min": 24.0 * 60, "s": 24.0 * 3600, "d": 1.0, "wk": 1 / 7, "mo": 1 / 30, "a": 1 / 365}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _medication_request_details(r: dict[str, Any]) -> dict[str, Any]:
    """The MedicationRequest elements eCQMs read, as written (no defaults filled in: the measure logic does that)."""
    dispense = r.get("dispenseRequest") if isinstance(r.get("dispenseRequest"), dict) else {}
    supply = dispense.get("expectedSupplyDuration") if isinstance(dispense.get("expectedSupplyDuration"), dict) else {}
    supply_value = _number(supply.get("value"))
    supply_unit = str(supply.get("code") or supply.get("unit") or "d").lower()
    per_unit = _DAYS_PER_UNIT.get(supply_unit)
    quantity = dispense.get("quantity") if isinstance(dispense.get("quantity"), dict) else {}
    refills = dispense.get("numberOfRepeatsAllowed")
    dosage = _first(r.get("dosageInstruction") or [])
    dosage = dosage if isinstance(dosage, dict) else {}
    timing = dosage.get("timing") if isinstance(dosage.get("timing"), dict) else {}
    repeat = timing.get("repeat") if isinstance(timing.get("repeat"), dict) else {}
    bounds = repeat.get("boundsPeriod") if isinstance(repeat.get("boundsPeriod"), dict) else {}
    frequency = _number(repeat.get("frequencyMax")) or _number(repeat.get("frequency"))
    period = _number(repeat.get("period"))
    per_day = _PER_DAY.get(str(repeat.get("periodUnit") or ""))
    doses_per_day = None
    if frequency is not None and period and per_day is not None:
        doses_per_day = frequency / period * per_day
    elif repeat.get("timeOfDay"):
        doses_per_day = float(len(repeat["timeOfDay"]))
    rate = _first(dosage.get("doseAndRate") or [])
    rate = rate if isinstance(rate, dict) else {}
    dose_value = _number((rate.get("doseQuantity") or {}).get("value"))
    if dose_value is None and isinstance(rate.get("doseRange"), dict):
        dose_value = _number((rate["doseRange"].get("high") or {}).get("value"))
    validity = dispense.get("validityPeriod") if isinstance(dispense.get("validityPeriod"), dict) else {}
    concept = r.get("medicationCodeableConcept")
    return {
        "resource_type": r.get("resourceType"),
        "intent": r.get("intent") if isinstance(r.get("intent"), str) else None,
        "codes": all_codes(concept) if isinstance(concept, dict) else [],
        "do_not_perform": _do_not_perform(r),
        "authored_on": parse_datetime(r.get("authoredOn")),
        "validity_start": parse_datetime(validity.get("start")),
        "bounds_start": parse_datetime(bounds.get("start")),
        "bounds_end": parse_datetime(bounds.get("end")),
        "supply_days": supply_value * per_unit if supply_value is not None and per_unit is not None else None,
        "dispense_quantity": _number(quantity.get("value")),
        "refills": int(refills) if isinstance(refills, int) and not isinstance(refills, bool) else None,
        "dose_value": dose_value,
        "doses_per_day": doses_per_day,
    }


def _dose_text(r: dict[str, Any]) -> str | None:
    dosage = _first(r.get("dosageInstruction") or r.get("dosage"))
    if not isinstance(dosage, dict):
        return None
    if dosage.get("text"):
        return str(dosage["text"])
    rate = _first(dosage.get("doseAndRate"))
    quantity = rate.get("doseQuantity") if isinstance(rate, dict) else None
    if isinstance(quantity, dict) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    return None


def _note_sections(ctx: _Context, r: dict[str, Any], locator: str, patient_key: str) -> list[DocumentSection]:
    doc_id = str(r.get("id") or locator)
    type_code = to_code(r.get("type"), prefer=("loinc",))
    title = r.get("description") or ((r.get("type") or {}).get("text")) or (type_code.display if type_code else None)
    doc_type = DOCUMENT_TYPES.get(type_code.code) if type_code and type_code.system == "loinc" else None
    doc_type = doc_type or note_text.document_type_from_title(title)
    context = r.get("context") if isinstance(r.get("context"), dict) else {}
    doc_date = parse_datetime(r.get("date")) or parse_datetime((context.get("period") or {}).get("start"))
    sections: list[DocumentSection] = []
    for index, content in enumerate(r.get("content") or []):
        attachment = content.get("attachment") if isinstance(content, dict) else None
        where = f"{locator}#content[{index}]"
        if not isinstance(attachment, dict):
            continue
        try:
            decoded = decode_attachment(attachment)
        except (binascii.Error, ValueError):
            ctx.warnings.append(f"{ctx.path} at {where}: attachment data is not valid base64; skipped")
            continue
        if decoded is None:
            continue
        content_type, raw = decoded
        kind = content_type.split(";")[0].strip()
        if kind not in ("text/plain", "text/html", "text/markdown", ""):
            ctx.warnings.append(f"{ctx.path} at {where}: attachment of type {kind} not read as text")
            continue
        try:
            text = decode_text(where, raw)
        except ParseError as exc:
            ctx.warnings.append(f"{ctx.path} at {where}: attachment {exc.message}; skipped")
            continue
        boundaries = None
        if kind == "text/html" or text.lstrip().startswith("<"):
            text, headings, _ = note_text.html_to_text(text)
            boundaries = headings or None
        for span in note_text.split_sections(text, title or "Note", 0, boundaries):
            sections.append(
                DocumentSection(
                    id=f"{doc_id}#content[{index}]:{len(sections)}",
                    patient_key=patient_key,
                    document_id=doc_id,
                    document_title=title,
                    document_type=doc_type,
                    document_date=doc_date,
                    title=span.title,
                    loinc=note_text.section_loinc(span.title),
                    text=text[span.start : span.end],
                    provenance=ctx.provenance(where, span.start, span.end),
                )
            )
    return sections


def _map_resources(ctx: _Context, items: list[tuple[dict[str, Any], str]]) -> ParsedDocument:
    """Map (resource, fallback locator) pairs in two passes: lookups first, then records."""
    patients: list[Patient] = []
    records: list[Any] = []
    pcp_links: dict[str, str] = {}  # Practitioner id -> patient key (Patient.generalPractitioner)
    homebound_patients: set[str] = set()
    dual_codes: dict[str, str] = {}

    for resource, _fallback in items:
        if resource.get("resourceType") != "Patient" or not resource.get("id"):
            continue
        key = f"{FHIR}|{resource['id']}"
        for gp in resource.get("generalPractitioner") or []:
            practitioner_id = ctx.reference_id(gp, "Practitioner")
            if practitioner_id:
                pcp_links[practitioner_id] = key
        if _homebound_flag(resource):
            homebound_patients.add(key)
        if _dual_code(resource):
            dual_codes[key] = _dual_code(resource) or ""

    coverages: list[Coverage] = []
    quota = _validation_quota(ctx.digest, len(items))
    for resource, fallback in items:
        rtype = resource.get("resourceType")
        if rtype not in MAPPED_TYPES:
            continue
        locator = _locator(resource, fallback)
        sampled = ctx.validated.get(rtype, 0) < quota
        if sampled:
            ctx.validated[rtype] = ctx.validated.get(rtype, 0) + 1
            _check_valid(ctx, resource, locator)
        try:
            mapped = _map_one(ctx, resource, locator, pcp_links)
        except (ValueError, TypeError, KeyError, AttributeError, ValidationError) as exc:
            if not sampled:
                _check_valid(ctx, resource, locator)
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            ctx.warnings.append(f"{ctx.path} at {locator}: {rtype} skipped: {message}")
            continue
        if isinstance(mapped, Patient):
            patients.append(mapped)
        elif isinstance(mapped, list):
            records.extend(mapped)
        elif mapped is not None:
            records.append(mapped)
            if isinstance(mapped, Coverage):
                coverages.append(mapped)
                if mapped.homebound:
                    homebound_patients.add(mapped.patient_key)
            if (
                isinstance(mapped, Condition | Observation)
                and mapped.code.system == "snomed"
                and mapped.code.code == HOUSEBOUND_SNOMED
                and (mapped.kind == "observation" or mapped.clinical_status in (None, "active"))
            ):
                homebound_patients.add(mapped.patient_key)

    payers_by_patient: dict[str, set[str]] = {}
    for cov in coverages:
        payers_by_patient.setdefault(cov.patient_key, set()).add(cov.payer)
        if cov.dual_status_code:
            dual_codes.setdefault(cov.patient_key, cov.dual_status_code)
    for cov in coverages:
        if cov.dual_status_code is None and cov.patient_key in dual_codes:
            cov.dual_status_code = dual_codes[cov.patient_key]
            cov.dual_status = _dual_status(cov.dual_status_code)
        payers = payers_by_patient[cov.patient_key]
        if cov.dual_status is None and "medicaid" in payers and payers & {"medicare", "medicare_advantage"}:
            cov.dual_status = "unknown"
        if cov.payer in ("medicare", "medicare_advantage") and cov.patient_key in homebound_patients:
            cov.homebound = True
    return ParsedDocument(
        source_path=str(ctx.path),
        source_sha256=ctx.digest,
        format=ctx.doc_format,
        patients=patients,
        records=records,
        warnings=ctx.warnings,
    )


def _map_one(ctx: _Context, r: dict[str, Any], locator: str, pcp_links: dict[str, str]) -> Any:
    rtype = r["resourceType"]
    rid = str(r.get("id") or locator)
    if rtype == "Patient":
        if not r.get("id"):
            raise ValueError("Patient has no id")
        return _map_patient(ctx, r, locator)
    if rtype == "Practitioner":
        npi = next(
            (i.value for raw in r.get("identifier") or [] if (i := map_identifier(raw)) and i.system == NPI), None
        )
        _, _, name = _human_name(r.get("name"))
        linked = pcp_links.get(str(r.get("id")))
        return Practitioner(
            id=rid,
            patient_key=linked,
            npi=npi,
            name=name,
            role="pcp" if linked else None,
            provenance=ctx.provenance(locator),
        )

    subject = r.get("beneficiary") if rtype == "Coverage" else (r.get("subject") or r.get("patient"))
    patient_key = ctx.patient_key(subject)
    if patient_key is None:
        raise ValueError("no resolvable patient reference (subject/patient/beneficiary)")

    if rtype == "Coverage":
        period = r.get("period") or {}
        code = _dual_code(r)
        homebound = _homebound_flag(r)
        return Coverage(
            patient_key=patient_key,
            payer=_payer(ctx, r),
            member_id=r.get("subscriberId")
            or next((i.get("value") for i in r.get("identifier") or [] if isinstance(i, dict)), None),
            dual_status=_dual_status(code),
            dual_status_code=code,
            homebound=homebound,
            start=parse_date(period.get("start")),
            end=parse_date(period.get("end")),
            provenance=ctx.provenance(locator),
        )
    if rtype == "Encounter":
        klass = r.get("class")
        klass = _first(klass) if isinstance(klass, list) else klass
        klass_code = str((klass or {}).get("code") or "") if isinstance(klass, dict) else ""
        if not klass_code and isinstance(klass, dict):  # R5-style CodeableConcept
            klass_code = str((_first((klass.get("coding") or [])) or {}).get("code") or "")
        hosp = r.get("hospitalization") or {}
        disposition = None
        dispo = hosp.get("dischargeDisposition") if isinstance(hosp, dict) else None
        if isinstance(dispo, dict):
            coded = to_code(dispo)
            if coded:
                disposition = DISCHARGE_DISPOSITIONS.get(coded.code) or coded.display or coded.code
        period = r.get("period") or {}
        facility = ctx.display(r.get("serviceProvider")) if r.get("serviceProvider") else None
        if facility is None:
            first_location = _first(r.get("location") or [])
            if isinstance(first_location, dict):
                facility = ctx.display(first_location.get("location"))
        reasons = [c for c in (to_code(x) for x in r.get("reasonCode") or []) if c]
        return Encounter(
            status=r.get("status") if isinstance(r.get("status"), str) else None,
            class_code=klass_code or None,
            types=all_codes(r.get("type") or []),
            discharge_codes=all_codes(dispo),
            id=rid,
            patient_key=patient_key,
            encounter_class=ENCOUNTER_CLASSES.get(klass_code.upper(), "other"),
            type=to_code(_first(r.get("type") or [])),
            start=parse_datetime(period.get("start")),
            end=parse_datetime(period.get("end")),
            discharge_disposition=disposition,
            facility=facility,
            reasons=reasons,
            provenance=ctx.provenance(locator),
        )
    if rtype == "Condition":
        code = to_code(r.get("code"), prefer=("icd10", "snomed"))
        if code is None:
            raise ValueError("Condition.code has no coding or text")
        status = to_code(r.get("clinicalStatus"))
        onset = _period_start(r, "onset") or parse_datetime(r.get("recordedDate"))
        abatement = _period_start(r, "abatement")
        verification = to_code(r.get("verificationStatus"))
        return Condition(
            codes=all_codes(r.get("code")),
            verification_status=verification.code if verification else None,
            onset_at=_choice_bounds(r, "onset")[0],
            abatement_at=_choice_bounds(r, "abatement")[1],
            id=rid,
            patient_key=patient_key,
            code=code,
            clinical_status=status.code if status else None,
            onset=onset.date() if onset else None,
            abatement=abatement.date() if abatement else None,
            encounter_id=ctx.reference_id(r.get("encounter"), "Encounter"),
            provenance=ctx.provenance(locator),
        )
    if rtype == "Observation":
        return _observation(ctx, r, locator, patient_key, rid)
    if rtype in ("MedicationRequest", "MedicationStatement"):
        code = _medication_code(ctx, r)
        if code is None:
            raise ValueError(f"{rtype} names no medication")
        validity = ((r.get("dispenseRequest") or {}).get("validityPeriod")) or {}
        effective = r.get("effectivePeriod") or {}
        start = (
            parse_date(r.get("authoredOn"))
            or parse_date(validity.get("start"))
            or (s.date() if (s := _period_start(r, "effective")) else None)
        )
        return Medication(
            **_medication_request_details(r),
            id=rid,
            patient_key=patient_key,
            code=code,
            dose=_dose_text(r),
            status=r.get("status"),
            start=start,
            stop=parse_date(validity.get("end")) or parse_date(effective.get("end")),
            encounter_id=ctx.reference_id(r.get("encounter") or r.get("context"), "Encounter"),
            provenance=ctx.provenance(locator),
        )
    if rtype == "Procedure":
        code = to_code(r.get("code"), prefer=("cpt", "hcpcs", "snomed"))
        if code is None:
            raise ValueError("Procedure.code has no coding or text")
        return Procedure(
            id=rid,
            patient_key=patient_key,
            code=code,
            performed=_period_start(r, "performed"),
            encounter_id=ctx.reference_id(r.get("encounter"), "Encounter"),
            codes=all_codes(r.get("code")),
            status=r.get("status") if isinstance(r.get("status"), str) else None,
            performed_end=_choice_bounds(r, "performed")[1],
            provenance=ctx.provenance(locator),
        )
    if rtype in ("ServiceRequest", "DeviceRequest"):
        concept = r.get("code") if rtype == "ServiceRequest" else r.get("codeCodeableConcept")
        code = to_code(concept, prefer=("snomed", "hcpcs", "cpt"))
        if code is None:
            raise ValueError(f"{rtype} has no coded request")
        return Order(
            id=rid,
            patient_key=patient_key,
            resource_type=rtype,
            code=code,
            codes=all_codes(concept),
            status=r.get("status") if isinstance(r.get("status"), str) else None,
            intent=r.get("intent") if isinstance(r.get("intent"), str) else None,
            do_not_perform=_do_not_perform(r),
            authored_on=parse_datetime(r.get("authoredOn")),
            encounter_id=ctx.reference_id(r.get("encounter"), "Encounter"),
            provenance=ctx.provenance(locator),
        )
    if rtype == "DocumentReference":
        return _note_sections(ctx, r, locator, patient_key)
    return None


# ------------------------------------------------------------------------------------------- contract


def _strip_head(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def sniff(path: Path, head: bytes) -> bool:
    """JSON or NDJSON whose first object names a ``resourceType``."""
    if path.suffix.lower() not in (".json", ".ndjson", ".jsonl", ".fhir", ""):
        return False
    body = _strip_head(head)
    return body.startswith(b"{") and b'"resourceType"' in body[:8192]


def _is_ndjson(path: Path, text: str) -> bool:
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return True
    first_line = text.lstrip().split("\n", 1)[0].strip()
    rest = text.lstrip()[len(first_line) :].strip()
    if not rest.startswith("{"):
        return False
    try:
        json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return True


def _load_json(path: Path, text: str, line_offset: int = 0) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            str(path), f"invalid JSON: {exc.msg}", f"line {exc.lineno + line_offset}, column {exc.colno}"
        ) from None


def _require_resource(path: Path, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise ParseError(str(path), "not a FHIR resource (no resourceType)", where)
    return value


def _ndjson_item(path: Path, number: int, line: str) -> tuple[dict[str, Any], str]:
    """One NDJSON line as (resource, locator); errors name the line."""
    value = _load_json(path, line, line_offset=number - 1)
    return _require_resource(path, value, f"line {number}"), f"line {number}"


def parse(path: Path, data: bytes) -> ParsedDocument:
    path = Path(path)
    text = decode_text(path, data)
    digest = sha256_bytes(data)
    items: list[tuple[dict[str, Any], str]] = []
    by_reference: dict[str, dict[str, Any]] = {}

    if _is_ndjson(path, text):
        doc_format = NDJSON_FORMAT
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                items.append(_ndjson_item(path, number, line))
    else:
        doc_format = FORMAT
        value = _require_resource(path, _load_json(path, text), "line 1, column 1")
        if value["resourceType"] == "Bundle":
            for index, entry in enumerate(value.get("entry") or []):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    continue
                items.append((resource, f"Bundle.entry[{index}]"))
                full_url = entry.get("fullUrl")
                if isinstance(full_url, str):
                    by_reference[full_url] = resource
        else:
            items.append((value, value["resourceType"]))
    if not items:
        raise ParseError(str(path), "no FHIR resources found", "line 1")
    return _map_items(path, digest, doc_format, items, by_reference)


def _map_items(
    path: Path,
    digest: str,
    doc_format: str,
    items: list[tuple[dict[str, Any], str]],
    by_reference: dict[str, dict[str, Any]],
) -> ParsedDocument:
    for resource, _ in items:
        for contained in resource.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") and contained.get("resourceType"):
                by_reference.setdefault(f"{contained['resourceType']}/{contained['id']}", contained)
        if resource.get("id"):
            by_reference[f"{resource['resourceType']}/{resource['id']}"] = resource
    ctx = _Context(path=path, digest=digest, doc_format=doc_format, by_reference=by_reference)
    return _map_resources(ctx, items)


# Resources per part when an NDJSON file is read in parts. Bulk FHIR (what BCDA delivers to ACOs) puts one
# resource type in each file and can run to gigabytes for ExplanationOfBenefit; references point into other
# files, so a part needs nothing from another part of the same file.
NDJSON_PART_LINES = 2000


def reads_in_parts(path: Path) -> bool:
    """NDJSON files by name (the Bulk FHIR convention) are read line by line; JSON documents whole."""
    return Path(path).suffix.lower() in (".ndjson", ".jsonl")


def parse_parts(path: Path, sha: str) -> Iterator[ParsedDocument]:
    """An NDJSON file, NDJSON_PART_LINES resources at a time; the caller writes all parts in one transaction."""
    path = Path(path)
    items: list[tuple[dict[str, Any], str]] = []
    yielded = False
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        items.append(_ndjson_item(path, number, line))
        if len(items) >= NDJSON_PART_LINES:
            yield _map_items(path, sha, NDJSON_FORMAT, items, {})
            items, yielded = [], True
    if items:
        yield _map_items(path, sha, NDJSON_FORMAT, items, {})
    elif not yielded:
        raise ParseError(str(path), "no FHIR resources found", "line 1")
