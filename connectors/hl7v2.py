"""HL7 v2 ADT messages (A01, A03, A04, A08, A13) -> Patient, Encounter and Condition records.

Why this shape: hospitals tell an ACO about admissions and discharges through ADT feeds, and a
care manager has to act within days of a discharge. One file may hold many messages, separated by
``\\r`` (the standard), ``\\n`` or ``\\r\\n`` (what files on disk usually have). Each message is parsed
with the ``hl7`` package; provenance names the segment, its line in the file and the character
offsets of that segment in the decoded file, so a citation can open the exact line.

Errors name the field and line (``PV1-44 (line 5)``). In a file with several messages a bad message
becomes a warning and the others are kept; a file whose only message is bad raises ``ParseError``.
The MLLP listener (``assistant.intake.mllp``) calls :func:`parse_message` on one message at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import hl7

from assistant.records.model import (
    MBI,
    MEDICAID,
    MRN,
    SSN,
    Address,
    Code,
    Condition,
    Encounter,
    Identifier,
    ParsedDocument,
    Patient,
    Provenance,
    Record,
)
from connectors.errors import ParseError
from connectors.hl7_values import DISCHARGE_DISPOSITIONS, language_tag, parse_ts
from connectors.text import decode_text, looks_binary, sha256_bytes

FORMAT = "hl7v2"

# Trigger events that describe a visit; anything else is read for the Patient only. An A13 (cancel discharge)
# becomes an Encounter whose type says so, which cancels the transition episode the A03 opened.
ENCOUNTER_EVENTS = {"A01": "admit", "A03": "discharge", "A04": "register", "A08": "update", "A13": "cancel discharge"}

# PV1-2 patient class (HL7 table 0004) -> our encounter classes.
PATIENT_CLASSES = {
    "I": "inpatient",
    "E": "emergency",
    "O": "office",
    "P": "other",  # preadmit
    "R": "other",  # recurring patient
    "B": "other",  # obstetrics
    "C": "other",  # commercial account
    "N": "other",  # not applicable
    "U": "other",  # unknown
}

# PID-3 identifier type codes (HL7 table 0203, plus a few vendor spellings seen in real feeds).
IDENTIFIER_TYPES = {
    "MR": MRN,
    "MRN": MRN,
    "MEDREC": MRN,
    "PI": MRN,
    "PT": MRN,
    "MB": MBI,
    "MC": MBI,
    "MBI": MBI,
    "SS": SSN,
    "SSN": SSN,
    "MA": MEDICAID,
    "MCD": MEDICAID,
}

# DG1-3.3 coding system -> our code systems.
CODE_SYSTEMS = {
    "I10": "icd10",
    "ICD10": "icd10",
    "I10C": "icd10",
    "ICD-10-CM": "icd10",
    "ICD10CM": "icd10",
    "I9": "icd9",
    "I9C": "icd9",
    "ICD9": "icd9",
    "SCT": "snomed",
    "SNM": "snomed",
    "SNOMED": "snomed",
    "SNOMEDCT": "snomed",
    "LN": "loinc",
    "C4": "cpt",
    "CPT": "cpt",
    "HCPCS": "hcpcs",
}

SEX = {"M": "male", "F": "female", "O": "other", "U": "unknown", "A": "other", "N": "unknown"}

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class SegmentLine:
    """One segment of a message, with where it sits in the decoded file."""

    name: str
    line: int  # 1-based line in the file
    start: int  # character offsets of the segment in the decoded file
    end: int


@dataclass
class ParsedMessage:
    """What one ADT message yields; :func:`parse` folds these into a ``ParsedDocument``."""

    control_id: str
    message_type: str  # "ADT^A01"
    trigger: str  # "A01"
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    processing_id: str
    version: str
    patient: Patient
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sniff(path: Path, head: bytes) -> bool:
    if looks_binary(head):
        return False
    start = head.lstrip(b"\xef\xbb\xbf\x0b \t\r\n")
    if start.startswith(b"MSH|"):
        return True
    return path.suffix.lower() in {".hl7", ".hl7v2", ".adt"} and b"MSH|" in head[:4096]


def split_messages(text: str) -> list[list[SegmentLine]]:
    """Split decoded text into messages (lists of segments); each ``MSH`` starts a new message.

    Blank lines and MLLP framing bytes are skipped. Text before the first MSH is an error: a
    file that does not start with a message header is not an HL7 v2 file.
    """
    messages: list[list[SegmentLine]] = []
    position = 0
    line = 0
    for match in [*_LINE_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        line += 1
        raw = text[position:end]
        stripped = raw.strip("\x0b\x1c\ufeff \t")
        if stripped:
            offset = position + raw.index(stripped[0])
            name = stripped[:3]
            if name == "MSH":
                messages.append([])
            elif not messages:
                raise ParseError("", f"expected an MSH segment first, found {stripped[:20]!r}", f"line {line}")
            messages[-1].append(SegmentLine(name, line, offset, offset + len(stripped)))
        position = match.end() if match else len(text)
    return messages


class _Reader:
    """Field access on one parsed message, with errors that name segment, field and line."""

    def __init__(self, path: str, message: hl7.Message, segments: list[SegmentLine]) -> None:
        self.path = path
        self.message = message
        self.segments = segments

    def line_of(self, name: str, index: int = 0) -> int:
        found = [s for s in self.segments if s.name == name]
        return found[index].line if index < len(found) else self.segments[0].line

    def where(self, name: str, field_num: int | None = None, index: int = 0) -> str:
        place = f"{name}-{field_num}" if field_num is not None else name
        return f"{place} (line {self.line_of(name, index)})"

    def segment_list(self, name: str) -> list[hl7.Segment]:
        if not self.has(name):
            return []
        try:
            return list(self.message.segments(name))
        except KeyError:  # our line scan saw the name, but the hl7 library found no fields after it
            raise ParseError(self.path, f"{name} segment has no fields", self.where(name)) from None

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.segments)

    @staticmethod
    def value(segment: hl7.Segment, field_num: int, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
        if field_num >= len(segment):
            return ""
        try:
            return str(segment.extract_field(1, field_num, rep, comp, sub)).strip()
        except (IndexError, KeyError, TypeError):
            return ""

    @staticmethod
    def repetitions(segment: hl7.Segment, field_num: int) -> int:
        if field_num >= len(segment):
            return 0
        item = segment[field_num]
        if len(item) and isinstance(item[0], hl7.Repetition):
            return len(item)
        return 1 if str(item) else 0

    def timestamp(self, segment: hl7.Segment, name: str, field_num: int, index: int = 0) -> datetime | None:
        raw = self.value(segment, field_num)
        try:
            return parse_ts(raw)
        except ValueError as exc:
            raise ParseError(self.path, str(exc), self.where(name, field_num, index)) from None


def _provenance(path: str, sha: str, reader: _Reader, name: str, index: int = 0, extra: str = "") -> Provenance:
    found = [s for s in reader.segments if s.name == name]
    seg = found[index] if index < len(found) else reader.segments[0]
    label = f"{name}[{index + 1}]" if len(found) > 1 else name
    locator = f"{label}{extra} (line {seg.line})"
    return Provenance(source_path=path, source_sha256=sha, format=FORMAT, locator=locator, start=seg.start, end=seg.end)


def _identifiers(reader: _Reader, pid: hl7.Segment, default_assigner: str) -> list[Identifier]:
    found: list[Identifier] = []
    for rep in range(1, reader.repetitions(pid, 3) + 1):
        value = reader.value(pid, 3, rep, 1)
        if not value:
            continue
        type_code = reader.value(pid, 3, rep, 5).upper()
        authority = reader.value(pid, 3, rep, 4) or default_assigner
        system = IDENTIFIER_TYPES.get(type_code, MRN if not type_code else f"hl7v2-{type_code.lower()}")
        assigner = authority if system in {MRN} or system.startswith("hl7v2-") else None
        if system == MEDICAID and authority:
            assigner = authority
        found.append(Identifier(system=system, value=value, assigner=assigner or None))
    ssn = reader.value(pid, 19)
    if ssn and not any(i.system == SSN for i in found):
        found.append(Identifier(system=SSN, value=ssn))
    if not found:
        external = reader.value(pid, 2)
        if external:
            found.append(Identifier(system=MRN, value=external, assigner=default_assigner or None))
    order = {MBI: 0, MRN: 1, SSN: 3}
    return sorted(found, key=lambda i: order.get(i.system, 2))


def _patient(path: str, sha: str, reader: _Reader, pid: hl7.Segment, default_assigner: str) -> Patient:
    identifiers = _identifiers(reader, pid, default_assigner)
    if not identifiers:
        raise ParseError(path, "no patient identifier in PID-3", reader.where("PID", 3))
    birth = reader.timestamp(pid, "PID", 7)
    address = None
    street = " ".join(
        part for part in (reader.value(pid, 11, 1, 1, n) for n in (1, 2, 3)) if part
    ) or reader.value(pid, 11, 1, 1)
    other = reader.value(pid, 11, 1, 2)
    city, state, postal, country = (reader.value(pid, 11, 1, n) for n in (3, 4, 5, 6))
    if any((street, other, city, state, postal)):
        address = Address(
            lines=[line for line in (street, other) if line],
            city=city or None,
            state=state or None,
            postal_code=postal or None,
            country=country or None,
        )
    phone = reader.value(pid, 13, 1, 1)
    if not phone:
        area, local = reader.value(pid, 13, 1, 6), reader.value(pid, 13, 1, 7)
        phone = f"({area}) {local}" if area and local else local
    language = language_tag(reader.value(pid, 15, 1, 1) or reader.value(pid, 15, 1, 2))
    given = [g for g in (reader.value(pid, 5, 1, 2), reader.value(pid, 5, 1, 3)) if g]
    return Patient(
        identifiers=identifiers,
        given=given,
        family=reader.value(pid, 5, 1, 1, 1) or None,
        birth_date=birth.date() if birth else None,
        sex=SEX.get(reader.value(pid, 8).upper()[:1]) if reader.value(pid, 8) else None,
        language=language,
        address=address,
        phone=phone or None,
        deceased=reader.value(pid, 30).upper() == "Y" or bool(reader.value(pid, 29)),
        provenance=_provenance(path, sha, reader, "PID"),
    )


def _code(reader: _Reader, segment: hl7.Segment, field_num: int) -> Code | None:
    code = reader.value(segment, field_num, 1, 1)
    text = reader.value(segment, field_num, 1, 2)
    system = reader.value(segment, field_num, 1, 3)
    if not code and not text:
        return None
    normalised = CODE_SYSTEMS.get(system.upper().replace(" ", ""), system.lower() or "text")
    return Code(system=normalised, code=code or text, display=text or None)


def _encounter(
    path: str, sha: str, reader: _Reader, patient_key: str, control_id: str, trigger: str, facility_default: str
) -> tuple[Encounter, list[Condition]]:
    pv1 = reader.segment_list("PV1")[0]
    patient_class = reader.value(pv1, 2).upper()
    visit = reader.value(pv1, 19, 1, 1)
    encounter_id = visit or f"{control_id}"
    start = reader.timestamp(pv1, "PV1", 44)
    end = reader.timestamp(pv1, "PV1", 45)
    disposition_code = reader.value(pv1, 36, 1, 1)
    disposition = None
    if disposition_code:
        label = DISCHARGE_DISPOSITIONS.get(disposition_code.zfill(2) if disposition_code.isdigit() else "")
        disposition = f"{disposition_code} {label}" if label else disposition_code
    location = [reader.value(pv1, 3, 1, n) for n in (4, 1, 2, 3)]
    facility = " / ".join(part for part in location if part) or facility_default or None
    reasons: list[Code] = []
    conditions: list[Condition] = []
    for index, dg1 in enumerate(reader.segment_list("DG1")):
        code = _code(reader, dg1, 3)
        if code is None:
            description = reader.value(dg1, 4)
            if not description:
                continue
            code = Code(system="text", code=description, display=description)
        recorded = reader.timestamp(dg1, "DG1", 5, index)
        reasons.append(code)
        set_id = reader.value(dg1, 1) or str(index + 1)
        conditions.append(
            Condition(
                id=f"{encounter_id}/DG1/{set_id}",
                patient_key=patient_key,
                code=code,
                clinical_status="active",
                onset=recorded.date() if recorded else None,
                encounter_id=encounter_id,
                provenance=_provenance(path, sha, reader, "DG1", index, extra="-3"),
            )
        )
    pv2 = reader.segment_list("PV2")
    if pv2:
        admit_reason = _code(reader, pv2[0], 3)
        if admit_reason is not None:
            reasons.insert(0, admit_reason)
    encounter = Encounter(
        id=encounter_id,
        patient_key=patient_key,
        encounter_class=PATIENT_CLASSES.get(patient_class[:1], "other"),
        type=Code(system="hl7-event", code=trigger, display=ENCOUNTER_EVENTS.get(trigger)),
        start=start,
        end=end,
        discharge_disposition=disposition,
        facility=facility,
        reasons=reasons,
        provenance=_provenance(path, sha, reader, "PV1"),
    )
    return encounter, conditions


def parse_message(text: str, source: str = "<message>", sha: str | None = None, segments=None) -> ParsedMessage:
    """Parse one ADT message (segments separated by ``\\r``, ``\\n`` or ``\\r\\n``).

    ``segments`` carries positions when the message came from a larger file; the MLLP listener
    passes only the text. Raises ``ParseError`` naming segment, field and line.
    """
    sha = sha or sha256_bytes(text.encode("utf-8"))
    if segments is None:
        try:
            found = split_messages(text)
        except ParseError as exc:
            raise ParseError(source, exc.message, exc.position) from None
        if not found:
            raise ParseError(source, "empty message: no MSH segment", "line 1")
        if len(found) > 1:
            raise ParseError(source, f"expected one message, found {len(found)} MSH segments", "line 1")
        segments = found[0]
    body = text
    for seg in segments:
        name = body[seg.start : seg.end][:3]
        if not _SEGMENT_ID.match(name):
            raise ParseError(source, f"not an HL7 segment name: {name!r}", f"line {seg.line}")
    joined = "\r".join(body[s.start : s.end] for s in segments)
    if len(joined) < 8 or joined[3] != "|":
        raise ParseError(source, "MSH segment is too short to declare its encoding characters", "MSH-2 (line 1)")
    try:
        message = hl7.parse(joined)
    except (hl7.ParseException, IndexError, ValueError) as exc:
        raise ParseError(source, f"unreadable HL7 message: {exc}", f"MSH (line {segments[0].line})") from None
    reader = _Reader(source, message, segments)
    msh = message.segment("MSH")
    # python-hl7 numbers MSH fields as the standard does: MSH-1 is the field separator itself.
    message_code = reader.value(msh, 9, 1, 1).upper()
    trigger = reader.value(msh, 9, 1, 2).upper()
    control_id = reader.value(msh, 10)
    if not message_code:
        raise ParseError(source, "MSH-9 message type is empty", reader.where("MSH", 9))
    if reader.has("EVN") and not trigger:
        trigger = reader.value(reader.segment_list("EVN")[0], 1).upper()
    sending_facility = reader.value(msh, 4, 1, 1)
    parsed_warnings: list[str] = []
    if not reader.has("PID"):
        raise ParseError(source, f"{message_code}^{trigger} message has no PID segment", f"line {segments[0].line}")
    pid = reader.segment_list("PID")[0]
    patient = _patient(source, sha, reader, pid, sending_facility)
    records: list[Record] = []
    message_type = f"{message_code}^{trigger}" if trigger else message_code
    if message_code == "ADT" and trigger in ENCOUNTER_EVENTS:
        if not reader.has("PV1"):
            raise ParseError(source, f"{message_type} message has no PV1 segment", f"line {segments[0].line}")
        encounter, conditions = _encounter(
            source, sha, reader, patient.key, control_id or "unknown", trigger, sending_facility
        )
        if trigger == "A03" and encounter.end is None:
            evn = reader.segment_list("EVN")
            event_time = reader.timestamp(evn[0], "EVN", 2) if evn else None
            if event_time is not None:
                encounter = encounter.model_copy(update={"end": event_time})
                parsed_warnings.append(f"{message_type} {control_id}: PV1-45 is empty; discharge time taken from EVN-2")
            else:
                parsed_warnings.append(f"{message_type} {control_id}: PV1-45 discharge time is empty")
        records.append(encounter)
        records.extend(conditions)
    else:
        parsed_warnings.append(
            f"{message_type} {control_id} (line {segments[0].line}): trigger event not supported; "
            "read for the patient only"
        )
    return ParsedMessage(
        control_id=control_id,
        message_type=message_type,
        trigger=trigger,
        sending_application=reader.value(msh, 3, 1, 1),
        sending_facility=sending_facility,
        receiving_application=reader.value(msh, 5, 1, 1),
        receiving_facility=reader.value(msh, 6, 1, 1),
        processing_id=reader.value(msh, 11, 1, 1),
        version=reader.value(msh, 12, 1, 1),
        patient=patient,
        records=records,
        warnings=parsed_warnings,
    )


def parse(path: Path, data: bytes) -> ParsedDocument:
    source = str(path)
    text = decode_text(source, data)
    sha = sha256_bytes(data)
    try:
        messages = split_messages(text)
    except ParseError as exc:
        raise ParseError(source, exc.message, exc.position) from None
    if not messages:
        raise ParseError(source, "no HL7 v2 message found (no MSH segment)", "line 1")
    document = ParsedDocument(source_path=source, source_sha256=sha, format=FORMAT)
    errors: list[ParseError] = []
    for segments in messages:
        try:
            parsed = parse_message(text, source=source, sha=sha, segments=segments)
        except ParseError as exc:
            errors.append(exc)
            document.warnings.append(f"message at line {segments[0].line} skipped: {exc}")
            continue
        document.patients.append(parsed.patient)
        document.records.extend(parsed.records)
        document.warnings.extend(parsed.warnings)
    if not document.patients:
        first = errors[0]
        if len(messages) > 1:
            raise ParseError(source, f"none of {len(messages)} messages could be read; first: {first.message}",
                             first.position)  # fmt: skip
        raise first
    return document
