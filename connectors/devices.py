"""Remote patient monitoring readings: home BP cuffs, scales, glucometers, pulse oximeters.

Why it matters: daily weights and home blood pressure drive heart-failure and hypertension
follow-up (a 2-3 lb gain overnight is a call today), so readings must land as coded Observations
with the device named.

Two shapes are read:

- FHIR Observations with ``Observation.device`` set (a Bundle, a single resource or NDJSON). These
  are read by :mod:`connectors.fhir`, which fills ``Observation.device`` from the referenced Device
  (its ``deviceName``/``type``) or the reference display (the registry sends JSON there); :func:`readings`
  picks the device readings out of any parsed document.
- CSV exports with this exact header set (comma separated, UTF-8, one reading per row, header
  names case-insensitive, extra columns ignored):

  ================ =================================================================================
  ``patient_id``   patient key: ``mbi|1EG4TE5MK73``, ``mrn|<assigner>|<value>``, ``fhir|<id>``, or a bare MBI
  ``device``       device name or model and serial, e.g. ``Omron BP7250 SN 4411``
  ``type``         ``weight``, ``systolic``, ``diastolic``, ``blood_pressure`` (value ``142/88``),
                   ``glucose``, ``spo2``, ``heart_rate``, or a LOINC code from :data:`LOINC`
  ``timestamp``    ISO 8601 date-time; a UTC offset is dropped and the wall-clock time kept
  ``value``        a number (``blood_pressure``: ``systolic/diastolic``)
  ``unit``         the unit as written; common spellings are mapped to UCUM (``lbs`` -> ``[lb_av]``)
  ``reading_id``   optional; defaults to ``<file name>:<line>``
  ================ =================================================================================

A bad row is a ParseError naming the line; offsets on each reading locate its row in the file.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from assistant.records.model import Code, Observation, ParsedDocument, Provenance
from connectors.errors import ParseError
from connectors.note_text import normalise_patient_key
from connectors.text import decode_text, sha256_bytes

FORMAT = "device-csv"

REQUIRED_COLUMNS = ("patient_id", "device", "type", "timestamp", "value", "unit")

# (LOINC code, display) per reading type.
LOINC: dict[str, tuple[str, str]] = {
    "weight": ("29463-7", "Body weight"),
    "systolic": ("8480-6", "Systolic blood pressure"),
    "diastolic": ("8462-4", "Diastolic blood pressure"),
    "blood_pressure": ("85354-9", "Blood pressure panel with all children optional"),
    "glucose": ("2339-0", "Glucose [Mass/volume] in Blood"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    "heart_rate": ("8867-4", "Heart rate"),
}
ALIASES = {
    "body_weight": "weight", "bp": "blood_pressure", "bloodpressure": "blood_pressure",
    "blood_glucose": "glucose", "pulse": "heart_rate", "hr": "heart_rate", "oxygen_saturation": "spo2",
    "pulse_ox": "spo2", "sbp": "systolic", "dbp": "diastolic",
}  # fmt: skip
BY_LOINC = {code: name for name, (code, _) in LOINC.items()}
UNITS = {
    "lb": "[lb_av]", "lbs": "[lb_av]", "pound": "[lb_av]", "pounds": "[lb_av]", "kg": "kg",
    "mmhg": "mm[Hg]", "mm hg": "mm[Hg]", "mm[hg]": "mm[Hg]", "mg/dl": "mg/dL", "mmol/l": "mmol/L",
    "%": "%", "bpm": "/min", "/min": "/min", "beats/min": "/min",
}  # fmt: skip


def readings(document: ParsedDocument) -> list[Observation]:
    """The observations in a parsed document that came from a device."""
    return [r for r in document.records if isinstance(r, Observation) and r.device]


def sniff(path: Path, head: bytes) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    columns = {c.strip() for c in first.split(",")}
    return all(c in columns for c in REQUIRED_COLUMNS)


def _reading_type(raw: str) -> str | None:
    key = raw.strip().lower().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    if key in LOINC:
        return key
    return BY_LOINC.get(raw.strip())


def _number(path: Path, text: str, where: str, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError(str(path), f"{column} {text!r} is not a number", where) from None


def parse(path: Path, data: bytes) -> ParsedDocument:
    path = Path(path)
    text = decode_text(path, data)
    digest = sha256_bytes(data)
    lines = text.splitlines(keepends=True)
    if not lines:
        raise ParseError(str(path), "empty file; expected a header " + ",".join(REQUIRED_COLUMNS), "line 1")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ParseError(
            str(path),
            f"missing column(s) {', '.join(missing)}; the header must name {','.join(REQUIRED_COLUMNS)}",
            "line 1",
        )
    records: list[Observation] = []
    for number in range(2, len(lines) + 1):
        line = lines[number - 1]
        if not line.strip():
            continue
        where = f"line {number}"
        row = next(csv.reader(io.StringIO(line)))
        if len(row) != len(header):
            raise ParseError(str(path), f"expected {len(header)} fields, found {len(row)}", where)
        values = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        kind = _reading_type(values["type"])
        if kind is None:
            raise ParseError(
                str(path), f"unknown reading type {values['type']!r}; use one of {', '.join(LOINC)}", where
            )
        try:
            moment = datetime.fromisoformat(values["timestamp"].replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            raise ParseError(
                str(path), f"timestamp {values['timestamp']!r} is not ISO 8601", where
            ) from None
        if not values["patient_id"]:
            raise ParseError(str(path), "patient_id is empty", where)
        patient_key = normalise_patient_key(path, values["patient_id"], where)
        if not values["device"]:
            raise ParseError(str(path), "device is empty", where)
        unit = UNITS.get(values["unit"].lower(), values["unit"]) or None
        start = offsets[number - 1]
        end = start + len(line.rstrip("\r\n"))
        reading_id = values.get("reading_id") or f"{path.name}:{number}"
        provenance = Provenance(
            source_path=str(path), source_sha256=digest, format=FORMAT, locator=where, start=start, end=end
        )
        code, display = LOINC[kind]
        components: list[Observation] = []
        value: float | None = None
        if kind == "blood_pressure":
            systolic, sep, diastolic = values["value"].partition("/")
            if not sep:
                raise ParseError(str(path), f"blood_pressure value {values['value']!r} must be 142/88", where)
            for part_kind, part in (("systolic", systolic), ("diastolic", diastolic)):
                part_code, part_display = LOINC[part_kind]
                components.append(
                    Observation(
                        id=f"{reading_id}#{part_kind}",
                        patient_key=patient_key,
                        code=Code(system="loinc", code=part_code, display=part_display),
                        value=_number(path, part.strip(), where, "value"),
                        unit=unit,
                        effective=moment,
                        device=values["device"],
                        provenance=provenance,
                    )
                )
        else:
            value = _number(path, values["value"], where, "value")
        records.append(
            Observation(
                id=reading_id,
                patient_key=patient_key,
                code=Code(system="loinc", code=code, display=display),
                value=value,
                unit=None if components else unit,
                effective=moment,
                components=components,
                device=values["device"],
                provenance=provenance,
            )
        )
    return ParsedDocument(source_path=str(path), source_sha256=digest, format=FORMAT, records=records)
