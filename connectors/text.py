"""Shared byte-level checks: hashing, binary detection and strict decoding with a precise position."""

from __future__ import annotations

import hashlib
from pathlib import Path

from connectors.errors import ParseError


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def looks_binary(head: bytes) -> bool:
    """NUL bytes in the first block mean binary (images, archives, executables), not text."""
    return b"\x00" in head[:8192]


def decode_text(path: Path | str, data: bytes) -> str:
    """Decode UTF-8 (with or without BOM); on failure name the byte, line and column that broke."""
    if looks_binary(data):
        raise ParseError(str(path), "binary content (NUL bytes), not a text document", "byte 0")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            str(path),
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); re-export the file as UTF-8",
            f"line {line}, column {column} (byte {exc.start})",
        ) from None
