"""What a checklist or outreach request names: which checklist, which message, which channel, which language.

Read with word rules, in order, so the turn can say why it drafted an AWV invitation rather than a falls invitation.
"""

from __future__ import annotations

import re

from assistant.outreach.languages import LANGUAGES

# First match wins: the more specific kinds before the general ones.
CHECKLIST_KINDS: tuple[tuple[str, str], ...] = (
    ("tcm", r"\btcm\b|transitional care management"),
    ("awv", r"\bawv\b|wellness visit"),
    ("ccm", r"\bccm\b|chronic care management"),
    ("cara_referral", r"\bcara\b|referral"),
)
PURPOSES: tuple[tuple[str, str], ...] = (
    ("medication_change", r"\bmedication|\bmedicine|\bmeds\b|\bprescriptions? changed"),
    ("awv_invitation", r"\bawv\b|wellness visit"),
    ("a1c_reminder", r"\ba1c\b|\bhba1c\b|diabetes test|sugar test"),
    ("bp_check_reminder", r"blood pressure|\bbp\b"),
    ("falls_program_invitation", r"\bfalls?\b|steadi|balance"),
    ("benefit_notice", r"\bbenefits?\b|incentive"),
    ("post_discharge_checkin", r"discharge|hospital stay|check[- ]?in|how (?:she|he|they) (?:is|are) doing"),
    ("appointment_reminder", r"\bappointment|\bvisit\b"),
    ("care_team_intro", r"introduc|care team|who we are"),
)
CHANNELS: tuple[tuple[str, str], ...] = (("letter", r"\bletter\b|\bmail\b"), ("portal", r"\bportal\b"))


def _first(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for name, pattern in table if re.search(pattern, text, re.IGNORECASE)), None)


def checklist_kind(text: str) -> str:
    """``transition`` unless the request names a documentation checklist."""
    return _first(text, CHECKLIST_KINDS) or "transition"


def outreach_purpose(text: str) -> str | None:
    return _first(text, PURPOSES)


def outreach_channel(text: str) -> str:
    return _first(text, CHANNELS) or "sms"


def outreach_language(text: str) -> str | None:
    """A language named as "in Spanish" (or "en español"); None: the record's preferred language."""
    for code, lang in LANGUAGES.items():
        names = {lang.name.lower(), lang.name.split(" (")[0].lower(), lang.native.lower()}
        for name in names:
            if re.search(rf"\b(?:in|en) {re.escape(name)}\b", text, re.IGNORECASE):
                return code
    return None
