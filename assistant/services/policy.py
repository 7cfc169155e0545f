"""Who may do what: the one table of rules, read by every service function and by the route matrix test.

Rule order, first match wins:
1. An action the caller's role is not granted is refused (an analyst asking about one patient's notes).
2. For actions on one patient, a role that reaches every patient (the admin) is allowed.
3. A credential scoped to every patient (a key created with ``--panel all``) is allowed; one scoped to a
   list of patients is allowed for exactly those.
4. Otherwise the patient must be on the user's panel: assigned, or derived from the records by the user's
   NPI (``PatientStore.in_panel``). Unknown patients and empty panels are refused: deny by default.

Why one table: when each route decided for itself, one of them took the role from the request body and
an "admin" in JSON opened any chart. Nothing outside this module names a role to decide access.
"""

from __future__ import annotations

from enum import StrEnum

from assistant.roles import ROLES
from assistant.services.caller import Caller


class Action(StrEnum):
    ASK_KNOWLEDGE = "knowledge.ask"  # questions answered from the protocols alone
    READ_PATIENT = "patient.read"  # a patient's records, notes, sources and answers about them
    LIST_PANEL = "panel.read"  # the caller's own panel (names, ids)
    READ_AGGREGATES = "aggregates.read"  # counts across the store, no patient named
    ROSTER_AUDIT = "roster.audit"  # duplicates, attribution and MBI findings across the roster
    REDACT = "redact"  # de-identify a text the caller sends
    MANAGE_PANELS = "panels.manage"
    MANAGE_KEYS = "keys.manage"
    READ_AUDIT = "audit.read"  # verify and export the audit log
    OUTREACH_DRAFT = "outreach.draft"  # draft a message to a patient, read drafts, record a patient's reply
    OUTREACH_REVIEW = "outreach.review"  # edit, approve or reject a draft before it may be sent
    OUTREACH_TEMPLATES = "outreach.templates"  # record a qualified translator's approval of a template file


_CARE_TEAM = {Action.ASK_KNOWLEDGE, Action.READ_PATIENT, Action.LIST_PANEL, Action.REDACT}
# Messages to patients are drafted and reviewed by the ACO's own care team; a specialist outside it is not asked to.
_OUTREACH = {Action.OUTREACH_DRAFT, Action.OUTREACH_REVIEW}

GRANTS: dict[str, frozenset[Action]] = {
    "care_manager": frozenset(_CARE_TEAM | _OUTREACH),
    "care_coordinator": frozenset(_CARE_TEAM | _OUTREACH),
    "clinician": frozenset(_CARE_TEAM | _OUTREACH),
    "outreach": frozenset(_CARE_TEAM | _OUTREACH),
    "nurse": frozenset(_CARE_TEAM | _OUTREACH),
    "community_health_worker": frozenset(_CARE_TEAM | _OUTREACH),
    "pharmacist": frozenset(_CARE_TEAM | _OUTREACH),
    "specialist": frozenset(_CARE_TEAM),  # a CARA Preferred Provider sees the patients on their panel only
    # Analysts work on populations: aggregates and the roster audit, never a chart or a note.
    "analyst": frozenset({Action.ASK_KNOWLEDGE, Action.READ_AGGREGATES, Action.ROSTER_AUDIT, Action.REDACT}),
    # The ACO's data steward: everything, audited like everyone else.
    "admin": frozenset(Action),
}

# Roles whose reach is every patient, whatever their panel says.
EVERY_PATIENT: frozenset[str] = frozenset({"admin"})

assert set(GRANTS) == set(ROLES), "every role needs a row in GRANTS"


def allows(role: str, action: Action) -> bool:
    return action in GRANTS.get(role, frozenset())


def reaches_every_patient(caller: Caller) -> bool:
    return caller.role in EVERY_PATIENT or caller.panel.all_patients


def patient_rule(caller: Caller) -> str:
    """Which of rules 2-4 applies to this caller's patient checks (for the audit and for tests)."""
    if caller.role in EVERY_PATIENT:
        return "role"
    if caller.panel.all_patients:
        return "credential-all"
    if caller.panel.patient_ids is not None:
        return "credential-list"
    return "panel"
