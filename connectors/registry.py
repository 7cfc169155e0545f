"""Pick the connector for a file. Specific formats are asked first, plain documents last."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

# Order matters: the first connector whose sniff() says yes reads the file.
CONNECTOR_MODULES = [
    "connectors.fhir",
    "connectors.ccda",
    "connectors.hl7v2",
    "connectors.cclf",
    "connectors.devices",
    "connectors.documents",
]


def available() -> list[ModuleType]:
    modules = []
    for name in CONNECTOR_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def detect(path: Path, head: bytes) -> ModuleType | None:
    for module in available():
        if module.sniff(path, head):
            return module
    return None


_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)[\s/>]")
_XML_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL)


def unrecognized_reason(path: Path, head: bytes) -> str:
    """One line saying why no connector took the file; for XML it names the root element, since the usual
    case is a C-CDA fragment (a lone <section> or <entry>) rather than a whole ClinicalDocument."""
    what = "not FHIR JSON/NDJSON, C-CDA, HL7 v2, CCLF, device CSV or a supported document type"
    stripped = _XML_PROLOG.sub(b"", head).lstrip()
    if stripped.startswith(b"<"):
        match = _XML_ROOT.match(stripped)
        if match:
            root = match.group(1).decode("ascii", "replace")
            return f"unrecognized format: XML whose root element is <{root}>, not a C-CDA ClinicalDocument ({what})"
    return f"unrecognized format ({what})"
