"""Pick the connector for a file. Specific formats are asked first, plain documents last."""

from __future__ import annotations

import importlib
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
