"""C-CDA R2.1 documents (CCD, Discharge Summary, Transfer Summary, Referral Note) -> records.

Why both narrative and entries: a discharge summary's hospital course and instructions exist only
as narrative, while problems, medications and results are also coded entries. Every section becomes
a ``DocumentSection`` (the text that gets indexed and cited) and coded entries become Condition,
Medication, Observation, Procedure and Encounter records. Locators are namespace-prefixed XPaths
(``/cda:ClinicalDocument/cda:component/cda:structuredBody/cda:component[3]/cda:section``, to be
evaluated with ``NS``) followed by the element's line in the file, so a citation can reopen it.

Safety: C-CDA arrives from outside the ACO, so the parser must never expand entities or fetch
anything. Any DTD or entity declaration is refused before parsing (the billion-laughs and external
entity attacks both need one); lxml then parses with entity resolution, DTD loading and network
access switched off, and with its default size limits (``huge_tree=False``). defusedxml's lxml
wrapper is deprecated upstream for exactly this reason: lxml configured this way is the safe path.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from pathlib import Path

from lxml import etree

from assistant.records.model import (
    MBI,
    MEDICAID,
    MRN,
    SSN,
    Address,
    Code,
    Condition,
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
from connectors.errors import ParseError
from connectors.hl7_values import DISCHARGE_DISPOSITIONS, language_tag, parse_ts
from connectors.text import decode_text, looks_binary, sha256_bytes

FORMAT = "ccda"
NS = {"cda": "urn:hl7-org:v3", "sdtc": "urn:hl7-org:sdtc", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
V3 = "{urn:hl7-org:v3}"

# ClinicalDocument/code (LOINC) -> our document types.
DOCUMENT_TYPES = {
    "18842-5": "discharge_summary",
    "34133-9": "ccd",
    "57133-1": "referral",
    "57113-1": "referral",
    "18761-7": "transfer_summary",
    "11488-4": "consult_note",
    "34117-2": "history_and_physical",
    "11506-3": "progress_note",
    "52521-2": "care_plan",
    "28570-0": "procedure_note",
    "11504-8": "operative_note",
    "18748-4": "imaging_report",
}

# Section LOINC codes this product reads on purpose (others are still kept as narrative).
SECTION_NAMES = {
    "11450-4": "problems",
    "10160-0": "medications",
    "10183-2": "discharge medications",
    "75311-1": "discharge medications",
    "48765-2": "allergies",
    "30954-2": "results",
    "8716-3": "vital signs",
    "8648-8": "hospital course",
    "11535-2": "discharge diagnosis",
    "18776-5": "plan of treatment",
    "46240-8": "encounters",
    "46241-6": "admission diagnosis",
    "42347-5": "admission diagnosis",
    "8653-8": "discharge instructions",
    "42349-1": "reason for referral",
    "47519-4": "procedures",
    "11369-6": "immunizations",
    "29762-2": "social history",
}
DISCHARGE_SECTIONS = {"10183-2", "75311-1", "11535-2", "46241-6", "42347-5", "8648-8", "8653-8"}

# Section templateIds -> LOINC, for vendors whose section code is missing or not LOINC.
SECTION_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.2.5": "11450-4",
    "2.16.840.1.113883.10.20.22.2.5.1": "11450-4",
    "2.16.840.1.113883.10.20.22.2.1": "10160-0",
    "2.16.840.1.113883.10.20.22.2.1.1": "10160-0",
    "2.16.840.1.113883.10.20.22.2.11": "10183-2",
    "2.16.840.1.113883.10.20.22.2.11.1": "10183-2",
    "2.16.840.1.113883.10.20.22.2.6": "48765-2",
    "2.16.840.1.113883.10.20.22.2.6.1": "48765-2",
    "2.16.840.1.113883.10.20.22.2.3": "30954-2",
    "2.16.840.1.113883.10.20.22.2.3.1": "30954-2",
    "2.16.840.1.113883.10.20.22.2.4": "8716-3",
    "2.16.840.1.113883.10.20.22.2.4.1": "8716-3",
    "1.3.6.1.4.1.19376.1.5.3.1.3.5": "8648-8",
    "2.16.840.1.113883.10.20.22.2.24": "11535-2",
    "2.16.840.1.113883.10.20.22.2.43": "46241-6",
    "2.16.840.1.113883.10.20.22.2.10": "18776-5",
    "2.16.840.1.113883.10.20.22.2.22": "46240-8",
    "2.16.840.1.113883.10.20.22.2.22.1": "46240-8",
    "2.16.840.1.113883.10.20.22.2.41": "8653-8",
    "1.3.6.1.4.1.19376.1.5.3.1.3.1": "42349-1",
    "2.16.840.1.113883.10.20.22.2.7": "47519-4",
    "2.16.840.1.113883.10.20.22.2.7.1": "47519-4",
}

# Entry templateIds.
PROBLEM_OBSERVATION = "2.16.840.1.113883.10.20.22.4.4"
PROBLEM_STATUS = "2.16.840.1.113883.10.20.22.4.6"
MEDICATION_ACTIVITY = "2.16.840.1.113883.10.20.22.4.16"
RESULT_OBSERVATION = "2.16.840.1.113883.10.20.22.4.2"
VITAL_SIGN_OBSERVATION = "2.16.840.1.113883.10.20.22.4.27"
PROCEDURE_ACTIVITY = "2.16.840.1.113883.10.20.22.4.14"
ENCOUNTER_ACTIVITY = "2.16.840.1.113883.10.20.22.4.49"

# Code system OIDs -> our code systems.
CODE_SYSTEMS = {
    "2.16.840.1.113883.6.1": "loinc",
    "2.16.840.1.113883.6.96": "snomed",
    "2.16.840.1.113883.6.90": "icd10",
    "2.16.840.1.113883.6.3": "icd10",
    "2.16.840.1.113883.6.103": "icd9",
    "2.16.840.1.113883.6.104": "icd9",
    "2.16.840.1.113883.6.88": "rxnorm",
    "2.16.840.1.113883.6.12": "cpt",
    "2.16.840.1.113883.6.285": "hcpcs",
    "2.16.840.1.113883.6.14": "hcpcs",
    "2.16.840.1.113883.6.69": "ndc",
    "2.16.840.1.113883.12.112": "nubc-disposition",
    "2.16.840.1.113883.5.4": "hl7-actcode",
}

# Identifier roots.
MBI_ROOT = "2.16.840.1.113883.4.927"
SSN_ROOT = "2.16.840.1.113883.4.1"
NPI_ROOT = "2.16.840.1.113883.4.6"
MEDICAID_ROOT_PREFIX = "2.16.840.1.113883.4.3."  # state Medicaid ids sit under 4.3.<state FIPS>

# Problem status values (SNOMED) -> clinical status.
PROBLEM_STATUSES = {"55561003": "active", "73425007": "inactive", "413322009": "resolved"}
MEDICATION_STATUSES = {"active": "active", "completed": "completed", "aborted": "stopped", "suspended": "stopped",
                       "cancelled": "stopped", "new": "new", "held": "stopped", "nullified": "stopped"}  # fmt: skip

# encompassingEncounter/code and encounter entry codes -> our encounter classes.
ENCOUNTER_CLASSES = {
    "IMP": "inpatient", "ACUTE": "inpatient", "NONAC": "inpatient", "EMER": "emergency", "AMB": "office",
    "HH": "home", "VR": "virtual", "OBSENC": "observation", "SS": "other",
}  # fmt: skip
SEX = {"M": "male", "F": "female", "UN": "other", "UNK": "unknown"}

BLOCK_TAGS = {"paragraph", "item", "tr", "caption", "list", "table", "thead", "tbody", "tfoot", "br"}
CELL_TAGS = {"td", "th"}
_FORBIDDEN = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECL = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_LOINC = re.compile(r"^\d{1,7}-\d$")
_SPACE = re.compile(r"[ \t\r\n\u00a0]+")


def sniff(path: Path, head: bytes) -> bool:
    if looks_binary(head):
        return False
    window = head[:4096]
    if b"<ClinicalDocument" in window or b":ClinicalDocument" in window:
        return True
    # Fragments and vendor variants: XML in the HL7 v3 namespace is ours to accept or refuse clearly.
    return path.suffix.lower() in {".xml", ".cda", ".ccda"} and b"urn:hl7-org:v3" in window


def _decode(path: str, data: bytes) -> str:
    """UTF-8 unless the XML declaration names another encoding (some exports are ISO-8859-1)."""
    declared = _XML_DECL.match(data[:200])
    if declared and looks_binary(data) is False:
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            raise ParseError(path, f"unknown encoding {name!r} in the XML declaration", "line 1") from None
        if codec not in {"utf-8", "utf-8-sig", "ascii"}:
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                raise ParseError(path, f"not valid {codec} (byte 0x{data[exc.start]:02x})",
                                 f"line {line} (byte {exc.start})") from None  # fmt: skip
    return decode_text(path, data)


def _line_of(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def parse_tree(path: str, data: bytes) -> etree._ElementTree:
    """Decode and parse safely; raise ``ParseError`` with line and column on any problem."""
    text = _decode(path, data)
    encoded = text.encode("utf-8")
    forbidden = _FORBIDDEN.search(encoded)
    if forbidden:
        line, column = _line_of(encoded, forbidden.start())
        kind = forbidden.group(1).decode().upper()
        raise ParseError(
            path,
            f"XML entity declarations are not allowed (possible XML bomb): <!{kind} refused",
            f"line {line}, column {column}",
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True, encoding="utf-8",
    )  # fmt: skip
    try:
        root = etree.fromstring(encoded, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        message = re.sub(r",?\s+line \d+.*$", "", exc.msg or "") or "unreadable XML"
        raise ParseError(path, f"malformed XML: {message}", f"line {line}, column {column}") from None
    if root is None:
        raise ParseError(path, "empty XML document", "line 1")
    return root.getroottree()


def xpath_of(element: etree._Element) -> str:
    """A readable, evaluable XPath (``cda:`` prefix, positional index only where siblings repeat)."""
    parts: list[str] = []
    node = element
    while node is not None:
        parent = node.getparent()
        name = etree.QName(node).localname
        prefix = "cda:" if etree.QName(node).namespace == NS["cda"] else ""
        step = f"{prefix}{name}"
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        parts.append(step)
        node = parent
    return "/" + "/".join(reversed(parts))


def _locator(element: etree._Element) -> str:
    return f"{xpath_of(element)} (line {element.sourceline})"


def _first(element: etree._Element | None, path: str) -> etree._Element | None:
    if element is None:
        return None
    found = element.xpath(path, namespaces=NS)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return _SPACE.sub(" ", "".join(element.itertext())).strip()


def _has_template(element: etree._Element, root: str) -> bool:
    return any(t.get("root") == root for t in element.findall(f"{V3}templateId"))


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_ts(value)
    except ValueError:
        return None


def _start(element: etree._Element | None) -> datetime | None:
    """effectiveTime/low, or a point-in-time effectiveTime/@value."""
    return _ts(_first(element, "cda:effectiveTime/cda:low/@value") or _first(element, "cda:effectiveTime/@value"))


def _end(element: etree._Element | None) -> datetime | None:
    return _ts(_first(element, "cda:effectiveTime/cda:high/@value"))


def _code(element: etree._Element | None, narrative: dict[str, str]) -> Code | None:
    """A coded value, falling back to a translation or to the narrative the code points at."""
    if element is None:
        return None
    code = element.get("code")
    system = element.get("codeSystem", "")
    if not code:
        for translation in element.findall(f"{V3}translation"):
            if translation.get("code"):
                return _code(translation, narrative)
    display = element.get("displayName") or _original_text(element, narrative) or None
    if not code:
        if display:
            return Code(system="text", code=display, display=display)
        return None
    return Code(system=CODE_SYSTEMS.get(system, system or "unknown"), code=code, display=display)


def _original_text(element: etree._Element, narrative: dict[str, str]) -> str:
    original = element.find(f"{V3}originalText")
    if original is None:
        return ""
    reference = original.find(f"{V3}reference")
    if reference is not None and reference.get("value"):
        return narrative.get(reference.get("value", "").lstrip("#"), "")
    return _text(original)


class _Narrative:
    """Flatten section ``<text>`` into plain text: list items and table rows on their own lines.

    Cells of a row are joined with `` | ``. Elements with an ``ID`` get their own span so that
    entries pointing at ``#ID`` can be resolved to words.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: dict[str, tuple[int, int]] = {}

    def _emit(self, text: str) -> None:
        if not text:
            return
        text = _SPACE.sub(" ", text)
        if self._at_line_start():
            text = text.lstrip()
            if not text:
                return
        elif self.parts and self.parts[-1].endswith(" ") and text.startswith(" "):
            text = text.lstrip()
        self.parts.append(text)
        self.length += len(text)

    def _at_line_start(self) -> bool:
        return not self.parts or self.parts[-1].endswith("\n")

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            if self.parts[-1].endswith(" "):
                self.parts[-1] = self.parts[-1].rstrip(" ")
                self.length = sum(len(p) for p in self.parts)
            self.parts.append("\n")
            self.length += 1

    def walk(self, element: etree._Element) -> None:
        if not isinstance(element.tag, str):
            return
        name = etree.QName(element).localname
        if name in BLOCK_TAGS:
            self._newline()
        start = self.length
        if name in CELL_TAGS and not self._at_line_start():
            if self.parts[-1].endswith(" "):
                self.parts[-1] = self.parts[-1].rstrip(" ")
                self.length = sum(len(p) for p in self.parts)
            self.parts.append(" | ")
            self.length += 3
            start = self.length
        self._emit(element.text or "")
        for child in element:
            self.walk(child)
            self._emit(child.tail or "")
        if name in BLOCK_TAGS:
            self._newline()
        identifier = element.get("ID")
        if identifier:
            self.spans[identifier] = (start, self.length)

    def result(self) -> tuple[str, dict[str, str]]:
        text = "".join(self.parts)
        stripped = text.rstrip()
        lines = [re.sub(r" {2,}", " ", line).strip(" |") for line in stripped.split("\n")]
        cleaned = "\n".join(line for line in lines if line)
        referenced = {}
        for key, (start, end) in self.spans.items():
            referenced[key] = _SPACE.sub(" ", text[start:end]).strip(" |\n")
        return cleaned, referenced


def flatten_narrative(text_element: etree._Element | None) -> tuple[str, dict[str, str]]:
    """Plain text of a section's ``<text>`` plus the words behind each narrative ``ID``."""
    if text_element is None:
        return "", {}
    builder = _Narrative()
    builder._emit(text_element.text or "")
    for child in text_element:
        builder.walk(child)
        builder._emit(child.tail or "")
    return builder.result()


class _Document:
    """State for one document: ids, patient key, provenance factory."""

    def __init__(self, path: str, sha: str, root: etree._Element) -> None:
        self.path = path
        self.sha = sha
        self.root = root
        self.warnings: list[str] = []
        self.counter = 0

    def provenance(self, element: etree._Element, start: int | None = None, end: int | None = None) -> Provenance:
        return Provenance(source_path=self.path, source_sha256=self.sha, format=FORMAT,
                          locator=_locator(element), start=start, end=end)  # fmt: skip

    def record_id(self, element: etree._Element, prefix: str) -> str:
        """The entry's own id when it has one, else a stable position-based id within the document."""
        ident = element.find(f"{V3}id")
        if ident is not None and (ident.get("root") or ident.get("extension")):
            parts = [p for p in (ident.get("root"), ident.get("extension")) if p]
            return f"{prefix}/{'|'.join(parts)}@{element.sourceline}"
        self.counter += 1
        return f"{prefix}/line{element.sourceline}-{self.counter}"


def _identifiers(patient_role: etree._Element) -> list[Identifier]:
    found: list[Identifier] = []
    for ident in patient_role.findall(f"{V3}id"):
        root, extension = ident.get("root", ""), ident.get("extension", "")
        if not extension:
            continue
        if root == MBI_ROOT:
            found.append(Identifier(system=MBI, value=extension))
        elif root == SSN_ROOT:
            found.append(Identifier(system=SSN, value=extension))
        elif root.startswith(MEDICAID_ROOT_PREFIX):
            found.append(Identifier(system=MEDICAID, value=extension, assigner=root))
        else:
            found.append(Identifier(system=MRN, value=extension, assigner=root or None))
    order = {MBI: 0, MRN: 1, SSN: 3}
    return sorted(found, key=lambda i: order.get(i.system, 2))


def _patient(doc: _Document, document_id: str) -> Patient:
    role = _first(doc.root, "cda:recordTarget/cda:patientRole")
    if role is None:
        raise ParseError(doc.path, "no recordTarget/patientRole: the document names no patient",
                         _locator(doc.root))  # fmt: skip
    identifiers = _identifiers(role)
    if not identifiers:
        bare = role.find(f"{V3}id")
        if bare is not None and bare.get("root"):
            identifiers = [Identifier(system=MRN, value=bare.get("root", ""), assigner="ccda-root")]
        else:
            identifiers = [Identifier(system="ccda-document", value=document_id)]
            doc.warnings.append(f"patientRole has no id; patient keyed by document id {document_id}")
    patient = role.find(f"{V3}patient")
    names = patient.findall(f"{V3}name") if patient is not None else []
    name = next((n for n in names if n.get("use") == "L"), names[0] if names else None)
    given = [_text(g) for g in name.findall(f"{V3}given")] if name is not None else []
    family = _text(name.find(f"{V3}family")) if name is not None else ""
    if name is not None and not given and not family:
        family = _text(name)
    birth = _ts(_first(patient, "cda:birthTime/@value")) if patient is not None else None
    gender = _first(patient, "cda:administrativeGenderCode/@code") if patient is not None else None
    addresses = role.findall(f"{V3}addr")
    addr = next((a for a in addresses if a.get("use") in {"HP", "H"}), addresses[0] if addresses else None)
    address = None
    if addr is not None:
        address = Address(
            lines=[_text(line) for line in addr.findall(f"{V3}streetAddressLine") if _text(line)],
            city=_text(addr.find(f"{V3}city")) or None,
            state=_text(addr.find(f"{V3}state")) or None,
            postal_code=_text(addr.find(f"{V3}postalCode")) or None,
            country=_text(addr.find(f"{V3}country")) or None,
        )
        if not any((address.lines, address.city, address.state, address.postal_code)):
            address = None
    phone = None
    for telecom in role.findall(f"{V3}telecom"):
        value = telecom.get("value", "")
        if value.lower().startswith("tel:"):
            phone = value[4:].strip()
            break
    language = None
    if patient is not None:
        codes = patient.xpath("cda:languageCommunication/cda:languageCode/@code", namespaces=NS)
        language = language_tag(codes[0]) if codes else None
    deceased = _first(patient, "sdtc:deceasedInd/@value") if patient is not None else None
    return Patient(
        identifiers=identifiers,
        given=[g for g in given if g],
        family=family or None,
        birth_date=birth.date() if birth else None,
        sex=SEX.get((gender or "").upper()) if gender else None,
        language=language,
        address=address,
        phone=phone,
        deceased=str(deceased).lower() == "true",
        provenance=doc.provenance(role),
    )


def _encounter_class(code: Code | None, default: str) -> str:
    if code is None:
        return default
    if code.code.upper() in ENCOUNTER_CLASSES:
        return ENCOUNTER_CLASSES[code.code.upper()]
    if code.system == "cpt" and code.code.isdigit():
        number = int(code.code)
        if 99221 <= number <= 99239:
            return "inpatient"
        if 99281 <= number <= 99285:
            return "emergency"
        if 99202 <= number <= 99215:
            return "office"
        if 99341 <= number <= 99350:
            return "home"
    return default


def _disposition(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    code = element.get("code", "")
    label = element.get("displayName") or DISCHARGE_DISPOSITIONS.get(code.zfill(2) if code.isdigit() else "")
    if code and label:
        return f"{code} {label}"
    return code or label or None


def _encompassing(doc: _Document, patient_key: str, document_type: str | None) -> Encounter | None:
    encounter = _first(doc.root, "cda:componentOf/cda:encompassingEncounter")
    if encounter is None:
        return None
    ident = encounter.find(f"{V3}id")
    parts = [p for p in (ident.get("root"), ident.get("extension")) if p] if ident is not None else []
    encounter_id = "|".join(parts) or f"encounter@{encounter.sourceline}"
    code = _code(encounter.find(f"{V3}code"), {})
    default = "inpatient" if document_type in {"discharge_summary", "transfer_summary"} else "other"
    facility = _text(_first(encounter, "cda:location/cda:healthCareFacility/cda:location/cda:name")) or _text(
        _first(encounter, "cda:location/cda:healthCareFacility/cda:serviceProviderOrganization/cda:name")
    )
    return Encounter(
        id=encounter_id,
        patient_key=patient_key,
        encounter_class=_encounter_class(code, default),
        type=code,
        start=_start(encounter),
        end=_end(encounter),
        discharge_disposition=_disposition(encounter.find(f"{V3}dischargeDispositionCode")),
        facility=facility or None,
        provenance=doc.provenance(encounter),
    )


def _practitioners(doc: _Document, patient_key: str) -> list[Practitioner]:
    found: list[Practitioner] = []
    seen: set[tuple[str | None, str | None]] = set()
    places = [
        ("cda:author/cda:assignedAuthor", "author"),
        ("cda:documentationOf/cda:serviceEvent/cda:performer/cda:assignedEntity", None),
        ("cda:componentOf/cda:encompassingEncounter/cda:responsibleParty/cda:assignedEntity", "responsible"),
        ("cda:componentOf/cda:encompassingEncounter/cda:encounterParticipant/cda:assignedEntity", None),
        ("cda:legalAuthenticator/cda:assignedEntity", "legal authenticator"),
    ]
    for path, default_role in places:
        for entity in doc.root.xpath(path, namespaces=NS):
            person = entity.find(f"{V3}assignedPerson")
            if person is None:
                continue  # devices and organisations author documents too
            npi = _first(entity, f"cda:id[@root='{NPI_ROOT}']/@extension")
            name_element = person.find(f"{V3}name")
            name = None
            if name_element is not None:
                pieces = [_text(g) for g in name_element.findall(f"{V3}given")]
                pieces.append(_text(name_element.find(f"{V3}family")))
                name = " ".join(p for p in pieces if p) or _text(name_element) or None
            role = default_role
            parent = entity.getparent()
            if parent is not None and etree.QName(parent).localname == "performer":
                function = parent.find(f"{V3}functionCode")
                text = _text(function.find(f"{V3}originalText")) if function is not None else ""
                label = text or (function.get("displayName") if function is not None else None) or ""
                code = function.get("code") if function is not None else None
                role = "pcp" if code == "PCP" or "primary care" in label.lower() else (label or "performer")
            elif parent is not None and etree.QName(parent).localname == "encounterParticipant":
                type_code = parent.get("typeCode", "")
                role = {"ATND": "attending", "ADM": "admitting", "DIS": "discharging", "REF": "referrer",
                        "CON": "consultant"}.get(type_code, type_code.lower() or "participant")  # fmt: skip
            key = (npi, name)
            if key in seen and role not in {"pcp", "attending"}:
                continue
            seen.add(key)
            organization = _text(_first(entity, "cda:representedOrganization/cda:name")) or None
            found.append(
                Practitioner(
                    id=f"npi|{npi}" if npi else doc.record_id(entity, "practitioner"),
                    patient_key=patient_key,
                    npi=npi,
                    name=name,
                    role=role,
                    organization=organization,
                    provenance=doc.provenance(entity),
                )
            )
    return found


def _condition(doc: _Document, obs: etree._Element, patient_key: str, narrative: dict[str, str],
               encounter_id: str | None) -> Condition | None:  # fmt: skip
    value = obs.find(f"{V3}value")
    code = _code(value, narrative)
    if code is None:
        text_ref = _first(obs, "cda:text/cda:reference/@value")
        words = narrative.get(str(text_ref or "").lstrip("#"), "")
        if not words:
            return None
        code = Code(system="text", code=words, display=words)
    onset = _start(obs)
    abatement = _end(obs)
    status = None
    for related in obs.xpath("cda:entryRelationship/cda:observation", namespaces=NS):
        if _has_template(related, PROBLEM_STATUS):
            status = PROBLEM_STATUSES.get(_first(related, "cda:value/@code") or "")
    if status is None:
        act = obs.getparent().getparent() if obs.getparent() is not None else None
        is_act = act is not None and etree.QName(act).localname == "act"
        concern = _first(act, "cda:statusCode/@code") if is_act else None
        if abatement is not None:
            status = "resolved"
        elif concern == "active":
            status = "active"
        elif concern in {"completed", "resolved"}:
            status = "resolved"
    return Condition(
        id=doc.record_id(obs, "condition"),
        patient_key=patient_key,
        code=code,
        clinical_status=status,
        onset=onset.date() if onset else None,
        abatement=abatement.date() if abatement else None,
        encounter_id=encounter_id,
        provenance=doc.provenance(obs),
    )


def _medication(doc: _Document, sbadm: etree._Element, patient_key: str, narrative: dict[str, str],
                encounter_id: str | None) -> Medication | None:  # fmt: skip
    material = _first(sbadm, "cda:consumable/cda:manufacturedProduct/cda:manufacturedMaterial/cda:code")
    code = _code(material, narrative)
    if code is None:
        reference = _first(sbadm, "cda:text/cda:reference/@value")
        words = narrative.get(str(reference or "").lstrip("#"), "")
        if not words:
            return None
        code = Code(system="text", code=words, display=words)
    if code.system != "rxnorm" and material is not None:
        for translation in material.findall(f"{V3}translation"):
            if translation.get("codeSystem") == "2.16.840.1.113883.6.88" and translation.get("code"):
                code = Code(system="rxnorm", code=translation.get("code", ""),
                            display=translation.get("displayName") or code.display)  # fmt: skip
                break
    dose_element = sbadm.find(f"{V3}doseQuantity")
    dose = None
    if dose_element is not None and dose_element.get("value"):
        unit = dose_element.get("unit")
        dose = f"{dose_element.get('value')} {unit}" if unit and unit != "1" else dose_element.get("value")
    interval = next((t for t in sbadm.findall(f"{V3}effectiveTime") if t.find(f"{V3}low") is not None
                     or t.find(f"{V3}high") is not None), None)  # fmt: skip
    start = _ts(_first(interval, "cda:low/@value")) if interval is not None else None
    stop = _ts(_first(interval, "cda:high/@value")) if interval is not None else None
    status_code = _first(sbadm, "cda:statusCode/@code")
    return Medication(
        id=doc.record_id(sbadm, "medication"),
        patient_key=patient_key,
        code=code,
        dose=dose,
        status=MEDICATION_STATUSES.get(str(status_code or ""), status_code or None),
        start=start.date() if start else None,
        stop=stop.date() if stop else None,
        encounter_id=encounter_id,
        provenance=doc.provenance(sbadm),
    )


def _observation(doc: _Document, obs: etree._Element, patient_key: str, narrative: dict[str, str],
                 encounter_id: str | None) -> Observation | None:  # fmt: skip
    code = _code(obs.find(f"{V3}code"), narrative)
    if code is None:
        return None
    value_element = obs.find(f"{V3}value")
    value = unit = value_text = None
    if value_element is not None:
        kind = value_element.get(f"{{{NS['xsi']}}}type", "")
        if value_element.get("value") is not None and (kind.endswith("PQ") or kind in {"INT", "REAL", ""}):
            try:
                value = float(value_element.get("value", ""))
            except ValueError:
                value_text = value_element.get("value")
            unit = value_element.get("unit")
            if unit == "1":
                unit = None
        elif value_element.get("code") or value_element.get("displayName"):
            value_text = value_element.get("displayName") or value_element.get("code")
        else:
            value_text = _text(value_element) or value_element.get("value")
    return Observation(
        id=doc.record_id(obs, "observation"),
        patient_key=patient_key,
        code=code,
        value=value,
        value_text=value_text or None,
        unit=unit,
        effective=_start(obs),
        encounter_id=encounter_id,
        provenance=doc.provenance(obs),
    )


def _procedure(doc: _Document, element: etree._Element, patient_key: str, narrative: dict[str, str],
               encounter_id: str | None) -> Procedure | None:  # fmt: skip
    code = _code(element.find(f"{V3}code"), narrative)
    if code is None:
        return None
    return Procedure(
        id=doc.record_id(element, "procedure"),
        patient_key=patient_key,
        code=code,
        performed=_start(element),
        encounter_id=encounter_id,
        provenance=doc.provenance(element),
    )


def _encounter_entry(doc: _Document, element: etree._Element, patient_key: str,
                     narrative: dict[str, str]) -> Encounter:  # fmt: skip
    code = _code(element.find(f"{V3}code"), narrative)
    ident = element.find(f"{V3}id")
    parts = [p for p in (ident.get("root"), ident.get("extension")) if p] if ident is not None else []
    reasons = []
    for obs in element.iter(f"{V3}observation"):
        if _has_template(obs, PROBLEM_OBSERVATION):
            reason = _code(obs.find(f"{V3}value"), narrative)
            if reason is not None:
                reasons.append(reason)
    facility = _text(_first(element, "cda:participant[@typeCode='LOC']/cda:participantRole/cda:playingEntity/cda:name"))
    return Encounter(
        id="|".join(parts) or doc.record_id(element, "encounter"),
        patient_key=patient_key,
        encounter_class=_encounter_class(code, "other"),
        type=code,
        start=_start(element),
        end=_end(element),
        discharge_disposition=_disposition(element.find("{urn:hl7-org:sdtc}dischargeDispositionCode")),
        facility=facility or None,
        reasons=reasons,
        provenance=doc.provenance(element),
    )


def _section_loinc(section: etree._Element) -> str | None:
    code = section.find(f"{V3}code")
    value = code.get("code", "") if code is not None else ""
    if _LOINC.match(value):
        return value
    for template in section.findall(f"{V3}templateId"):
        mapped = SECTION_TEMPLATES.get(template.get("root", ""))
        if mapped:
            return mapped
    return None


def _entries(doc: _Document, section: etree._Element, patient_key: str, narrative: dict[str, str],
             encounter_id: str | None) -> list[Record]:  # fmt: skip
    records: list[Record] = []
    for entry in section.findall(f"{V3}entry"):
        for element in entry.iter(f"{V3}observation", f"{V3}substanceAdministration", f"{V3}procedure",
                                  f"{V3}encounter"):  # fmt: skip
            record: Record | None = None
            if element.tag == f"{V3}observation" and _has_template(element, PROBLEM_OBSERVATION):
                record = _condition(doc, element, patient_key, narrative, encounter_id)
            elif element.tag == f"{V3}observation" and (
                _has_template(element, RESULT_OBSERVATION) or _has_template(element, VITAL_SIGN_OBSERVATION)
            ):
                record = _observation(doc, element, patient_key, narrative, encounter_id)
            elif element.tag == f"{V3}substanceAdministration" and _has_template(element, MEDICATION_ACTIVITY):
                record = _medication(doc, element, patient_key, narrative, encounter_id)
            elif element.tag == f"{V3}procedure" and _has_template(element, PROCEDURE_ACTIVITY):
                record = _procedure(doc, element, patient_key, narrative, encounter_id)
            elif element.tag == f"{V3}encounter" and _has_template(element, ENCOUNTER_ACTIVITY):
                record = _encounter_entry(doc, element, patient_key, narrative)
            if record is not None:
                records.append(record)
    return records


def parse(path: Path, data: bytes) -> ParsedDocument:
    source = str(path)
    sha = sha256_bytes(data)
    tree = parse_tree(source, data)
    root = tree.getroot()
    if root.tag != f"{V3}ClinicalDocument":
        qname = etree.QName(root)
        if qname.localname == "ClinicalDocument":
            problem = f"root element ClinicalDocument is not in the HL7 v3 namespace ({V3.strip('{}')})"
        else:
            problem = f"root element is <{qname.localname}>, not ClinicalDocument (a fragment?)"
        raise ParseError(source, f"not a C-CDA document: {problem}", f"line {root.sourceline}")
    doc = _Document(source, sha, root)
    ident = root.find(f"{V3}id")
    doc_parts = [p for p in (ident.get("root"), ident.get("extension")) if p] if ident is not None else []
    document_id = "|".join(doc_parts) or f"sha256:{sha[:16]}"
    doc_code = _first(root, "cda:code/@code")
    document_type = DOCUMENT_TYPES.get(str(doc_code or ""))
    document_title = _text(root.find(f"{V3}title")) or None
    document_date = _ts(_first(root, "cda:effectiveTime/@value"))
    patient = _patient(doc, document_id)
    key = patient.key
    records: list[Record] = []
    encounter = _encompassing(doc, key, document_type)
    if encounter is not None:
        records.append(encounter)
    records.extend(_practitioners(doc, key))
    body = _first(root, "cda:component/cda:structuredBody")
    if body is None:
        unstructured = _first(root, "cda:component/cda:nonXMLBody/cda:text")
        if unstructured is not None and unstructured.get("representation") != "B64":
            text = _text(unstructured)
            if text:
                records.append(DocumentSection(
                    id=f"{document_id}#body", patient_key=key, document_id=document_id,
                    document_title=document_title, document_type=document_type, document_date=document_date,
                    title=document_title or "Document body", text=text,
                    provenance=doc.provenance(unstructured, 0, len(text)),
                ))  # fmt: skip
        else:
            doc.warnings.append("nonXMLBody with embedded binary content; nothing to index")
    sections = body.iter(f"{V3}section") if body is not None else []
    for number, section in enumerate(sections, start=1):
        loinc = _section_loinc(section)
        text, narrative = flatten_narrative(section.find(f"{V3}text"))
        title = _text(section.find(f"{V3}title")) or SECTION_NAMES.get(loinc or "", "") or "Untitled section"
        encounter_id = encounter.id if encounter is not None and loinc in DISCHARGE_SECTIONS else None
        if text:
            records.append(
                DocumentSection(
                    id=f"{document_id}#section{number}",
                    patient_key=key,
                    document_id=document_id,
                    document_title=document_title,
                    document_type=document_type,
                    document_date=document_date,
                    title=title,
                    loinc=loinc,
                    text=text,
                    provenance=doc.provenance(section, 0, len(text)),
                )
            )
        records.extend(_entries(doc, section, key, narrative, encounter_id))
    if document_type is None:
        doc.warnings.append(f"document code {doc_code!r} is not a known C-CDA document type")
    return ParsedDocument(
        source_path=source, source_sha256=sha, format=FORMAT, patients=[patient], records=records,
        warnings=doc.warnings,
    )  # fmt: skip
