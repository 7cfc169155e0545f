"""Health plan beneficiary numbers other than the MBI: Medicaid, member, subscriber, policy and group IDs.

Label-driven, since every plan has its own shape. The legacy Medicare HICN (SSN-like digits plus a letter
suffix) is matched by shape.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"medicaid|medi-cal|masshealth|member|subscriber|policy|group|insurance|insured|plan\s*id|health\s*plan|beneficiary"
    r"|hicn|medicare\s*claim|rrb|cin|recipient"
)
VALUE = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,18}[A-Z0-9](?![\w-])"
HICN = r"(?<![\w-])\d{3}-?\d{2}-?\d{4}[A-Z]\d?(?![\w-])"


class HealthPlanRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="HEALTH_PLAN_ID",
            name="health_plan",
            patterns=[
                Pattern("plan-labeled", after_label(LABELS, VALUE), 0.8),
                Pattern("hicn", HICN, 0.7),
            ],
            context=["medicaid", "member", "subscriber", "policy", "plan"],
        )


def build() -> HealthPlanRecognizer:
    return HealthPlanRecognizer()
