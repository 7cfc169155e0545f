"""Shared byte-level checks: hashing, binary detection and strict decoding with a precise position."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from connectors.errors import ParseError


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """The same digest as ``sha256_bytes(path.read_bytes())``, without holding the file in memory."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def iter_lines(path: Path | str) -> Iterator[tuple[int, str]]:
    """(line number, text) for a line-oriented file read one line at a time: line endings stripped, a UTF-8
    BOM dropped, and the same precise errors as ``decode_text`` (binary content, bytes that are not UTF-8)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise ParseError(str(path), "binary content (NUL bytes), not a text document",
                                 f"line {number}, column {nul + 1}")  # fmt: skip
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ParseError(
                    str(path),
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); re-export the file as UTF-8",
                    f"line {number}, column {exc.start + 1}",
                ) from None
            yield number, text.rstrip("\r\n")


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
