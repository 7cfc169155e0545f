"""Who is asking: the one value every service function takes.

A ``Caller`` is built only by an authenticator (API key, OIDC token, session, trusted proxy, the CLI's
configured operator). Nothing in a request body or query can change it: a role named in a request may
choose a view, never grant access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

AuthMethod = Literal["api_key", "oidc", "session", "proxy", "cli", "ehr", "smart"]


@dataclass(frozen=True)
class PanelScope:
    """Which patients a credential reaches beyond its role's rules.

    ``all_patients``: every patient (an admin's key, or a batch key created with ``--panel all``).
    ``patient_ids``: exactly these (a script's key created with ``--panel ID,...``).
    Neither: the user's own panel: assigned rows plus the patients whose records name the user's NPI
    as primary care practitioner.
    """

    all_patients: bool = False
    patient_ids: frozenset[str] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.all_patients:
            return {"all": True}
        if self.patient_ids is not None:
            return {"patients": sorted(self.patient_ids)}
        return {}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> PanelScope:
        value = value or {}
        if value.get("all"):
            return cls(all_patients=True)
        if "patients" in value:
            return cls(patient_ids=frozenset(str(p) for p in value["patients"]))
        return cls()

    def describe(self) -> str:
        if self.all_patients:
            return "all"
        if self.patient_ids is not None:
            return ",".join(sorted(self.patient_ids)) or "(none)"
        return "own panel"


@dataclass(frozen=True)
class Caller:
    user: str
    role: str
    auth: AuthMethod
    panel: PanelScope = field(default_factory=PanelScope)
    credential: str | None = None  # the API key's name or the token's issuer: which credential, never the secret
    client: str | None = None  # the client address, for the audit

    def audit_fields(self) -> dict[str, Any]:
        """What every audit row says about how the caller signed in."""
        fields: dict[str, Any] = {"auth": self.auth}
        if self.credential:
            fields["credential"] = self.credential
        if self.client:
            fields["client"] = self.client
        return fields
