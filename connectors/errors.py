"""The one error type connectors raise for bad input.

Why: ingest must report *which file* and *where in it* went wrong in one line, then carry on with
the rest. Connectors never raise bare library exceptions for malformed input.
"""

from __future__ import annotations


class ParseError(Exception):
    def __init__(self, path: str, message: str, position: str | None = None) -> None:
        self.path = path
        self.message = message
        self.position = position  # "line 3, column 14", "byte 2048", "segment PV1 (line 4)", an XPath
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" at {self.position}" if self.position else ""
        return f"{self.path}{where}: {self.message}"
