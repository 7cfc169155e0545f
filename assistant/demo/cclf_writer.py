"""Write CCLF fixed-width files from plain dicts, using the same layout tables the connector reads.

Why share the tables: a demo file written here and read back by ``connectors.cclf`` can only agree
if both sides use one definition of every field's position; a round-trip test holds them to it.
Rows are dicts keyed by the layout's field names (``BENE_MBI_ID``, ``CLM_FROM_DT`` ...); missing
keys are written blank. Dates may be ``date`` objects or ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from connectors.cclf import CCLF1, CCLF5, CCLF8, CCLF9, A, D, Field, Layout, N


def _cell(item: Field, value: Any) -> str:
    if value is None or value == "":
        return " " * item.width
    if item.kind == D:
        text = value.isoformat() if isinstance(value, date) else str(value)
        date.fromisoformat(text)  # refuse anything the reader would refuse
    elif item.kind == A:
        text = f"{float(value):.2f}".rjust(item.width, "0") if float(value) >= 0 else f"{float(value):.2f}"
    elif item.kind == N:
        text = str(value)
        if not text.isdigit():
            raise ValueError(f"{item.name} must be digits, got {value!r}")
        text = text.rjust(item.width, "0")
    else:
        text = str(value)
    if len(text) > item.width:
        raise ValueError(f"{item.name} is {item.width} characters wide; {value!r} does not fit")
    return text.ljust(item.width)


def format_record(layout: Layout, row: Mapping[str, Any]) -> str:
    unknown = set(row) - {item.name for item in layout.fields}
    if unknown:
        raise ValueError(f"{layout.file_type} has no field(s) {sorted(unknown)}")
    line = "".join(_cell(item, row.get(item.name)) for item in layout.fields)
    assert len(line) == layout.record_length
    return line


def write_layout(path: Path, layout: Layout, rows: Iterable[Mapping[str, Any]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:  # row by row: claim files get large
        for row in rows:
            handle.write(format_record(layout, row) + "\n")
    return path


def write_cclf1(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_layout(path, CCLF1, rows)


def write_cclf5(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_layout(path, CCLF5, rows)


def write_cclf8(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_layout(path, CCLF8, rows)


def write_cclf9(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_layout(path, CCLF9, rows)
