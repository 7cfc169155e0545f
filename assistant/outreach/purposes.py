"""What an outreach message can be about, and which facts each kind needs.

Each purpose names the placeholders its templates may use (all filled from the record or the settings, never typed
in), the FHIR Communication category it is sent as, and the engine that says the message is due: a guidance rule
(``assistant.guidance.rules``) or the transitions engine. ``free_text`` is the care team's own words inside a
translated frame.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON = ("org_name", "first_name", "callback_number")


@dataclass(frozen=True)
class Purpose:
    name: str
    placeholders: tuple[str, ...]
    category: str  # FHIR communication-category: "reminder" | "notification" | "instruction"
    about: str
    guidance_rules: tuple[str, ...] = ()  # an open item of one of these rules is what the message is about
    transitions: bool = False  # the latest discharge is what the message is about


PURPOSES: dict[str, Purpose] = {p.name: p for p in (
    Purpose("post_discharge_checkin", (*COMMON, "discharge_date"), "notification",
            "a check-in call after a hospital discharge", transitions=True),
    Purpose("appointment_reminder", (*COMMON, "appointment_date"), "reminder", "an upcoming visit on record"),
    Purpose("awv_invitation", COMMON, "reminder", "the Medicare Annual Wellness Visit",
            guidance_rules=("annual_wellness_visit",)),
    Purpose("a1c_reminder", COMMON, "reminder", "a due HbA1c test (CMS122)", guidance_rules=("cms122_gap",)),
    Purpose("bp_check_reminder", COMMON, "reminder", "a due blood pressure check (CMS165)",
            guidance_rules=("cms165_gap",)),
    Purpose("medication_change", (*COMMON, "medication_changes"), "instruction",
            "medicines changed at discharge (the reconciliation diff)", transitions=True),
    Purpose("falls_program_invitation", COMMON, "notification", "the falls-prevention program (STEADI; CARA)",
            guidance_rules=("falls",)),
    Purpose("benefit_notice", COMMON, "notification", "benefit enhancements and engagement incentives",
            guidance_rules=("dual_eligible", "homebound")),
    Purpose("care_team_intro", COMMON, "notification", "who the care team is and how to reach it"),
    Purpose("free_text", (*COMMON, "message"), "notification", "the care team's own words, translated"),
)}  # fmt: skip

CHANNELS = ("sms", "letter", "portal")
