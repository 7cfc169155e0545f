"""The ``redact`` output contract shared by ``caretrail redact`` and ``POST /v1/redact``."""

from __future__ import annotations

from typing import Literal

from assistant.redaction.transform import PseudonymSession, pseudonymize, redact

SCHEMA = "caretrail.redact/1"
Mode = Literal["redact", "pseudonymize"]


def redact_contract(text: str, mode: Mode = "redact", patient_id: str | None = None) -> dict[str, object]:
    """``{"schema", "mode", "text", "entities": [{"type", "start", "end", "score", "recognizer"}]}``.

    Offsets refer to the input text. Entity surface text is left out on purpose: the output must be safe
    to log. In ``pseudonymize`` mode the session is not persisted, so surrogates cannot be mapped back.
    """
    if mode == "redact":
        result = redact(text)
    else:
        result = pseudonymize(text, PseudonymSession(patient_id=patient_id))
    return {
        "schema": SCHEMA,
        "mode": mode,
        "text": result.text,
        "entities": [e.to_dict() for e in result.entities],
    }
