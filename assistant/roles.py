"""The roles a user acts in. Role shapes what guidance is offered and what may be seen."""

from __future__ import annotations

ROLES = {
    "care_manager": "Care manager: next steps and care gaps for patients on the panel",
    "care_coordinator": "Care coordinator: transition-of-care checklists after discharges",
    "clinician": "Physician, NP or PA reviewing guidance",
    "outreach": "Outreach staff reviewing patient drafts",
    "nurse": "Nurse: screenings, education and clinical follow-up calls (falls screening, symptoms after discharge)",
    "community_health_worker": "Community health worker: social needs, Medicaid and community services, home visits",
    "pharmacist": "Pharmacist: medication reconciliation and reviews of high-risk medications",
    "specialist": "Specialist (CARA Preferred Provider): referrals and episodes shared with the ACO",
    "analyst": "Quality and roster analyst",
    "admin": "Administrator: sees every patient (audited like everyone else)",
}
DEFAULT_ROLE = "care_manager"


def normalize_role(role: str | None) -> str:
    value = (role or DEFAULT_ROLE).strip().lower().replace("-", "_").replace(" ", "_")
    if value not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(sorted(ROLES))}")
    return value
