"""API keys for services and scripts: an admin creates, lists and revokes them; all three are audited."""

from __future__ import annotations

from typing import Any

from assistant.auth.apikeys import ApiKey
from assistant.context import AppContext
from assistant.errors import BadRequest
from assistant.roles import normalize_role
from assistant.services.access import audit, find_patient, require
from assistant.services.caller import Caller, PanelScope
from assistant.services.policy import Action


def key_dict(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "prefix": key.prefix, "role": key.role, "user": key.user,
            "panel": key.panel.describe(), "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}


def parse_panel(ctx: AppContext, panel: str | None) -> PanelScope:
    """``all``, a comma-separated list of patient references, or None for the user's own panel."""
    if panel is None or not panel.strip():
        return PanelScope()
    if panel.strip().lower() == "all":
        return PanelScope(all_patients=True)
    return PanelScope(patient_ids=frozenset(find_patient(ctx, ref.strip()) for ref in panel.split(",") if ref.strip()))


def create(ctx: AppContext, caller: Caller, name: str, role: str, user: str | None = None,
           panel: str | None = None) -> dict[str, Any]:
    """Returns the secret once, with the key's description; only its hash is kept."""
    require(ctx, caller, Action.MANAGE_KEYS)
    try:
        role = normalize_role(role)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    scope = parse_panel(ctx, panel)
    secret, key = ctx.keys.create(name, role, (user or name).strip(), scope)
    audit_id = audit(ctx, caller, "key.create", None, key_dict(key))
    return {"secret": secret, "key": key_dict(key), "audit_id": audit_id}


def list_keys(ctx: AppContext, caller: Caller) -> dict[str, Any]:
    require(ctx, caller, Action.MANAGE_KEYS)
    keys = [key_dict(k) for k in ctx.keys.list()]
    audit_id = audit(ctx, caller, "key.list", None, {"returned": len(keys)})
    return {"keys": keys, "audit_id": audit_id}


def revoke(ctx: AppContext, caller: Caller, name: str) -> dict[str, Any]:
    require(ctx, caller, Action.MANAGE_KEYS)
    key = ctx.keys.revoke(name)
    audit_id = audit(ctx, caller, "key.revoke", None, key_dict(key))
    return {"key": key_dict(key), "audit_id": audit_id}
