"""De-identify a text the caller sends. The audit row keeps entity counts, never the text."""

from __future__ import annotations

from typing import Any

from assistant.context import AppContext
from assistant.redaction.contract import Mode, redact_contract
from assistant.services.access import audit, require
from assistant.services.caller import Caller
from assistant.services.policy import Action


def redact(ctx: AppContext, caller: Caller, text: str, mode: Mode = "redact") -> dict[str, Any]:
    require(ctx, caller, Action.REDACT)
    result = redact_contract(text, mode)
    counts: dict[str, int] = {}
    for entity in result["entities"]:  # type: ignore[union-attr]
        counts[entity["type"]] = counts.get(entity["type"], 0) + 1  # type: ignore[index]
    audit_id = audit(ctx, caller, "redact", None, {"mode": mode, "chars": len(text), "entities": counts})
    return {**result, "audit_id": audit_id}
