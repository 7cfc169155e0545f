"""Any other unique identifying number (Safe Harbor R): reference, case, order and accession numbers."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"ref(?:erence)?|case|order|accession|specimen|requisition|ticket|confirmation|authori[sz]ation|auth"
    r"|prior\s*auth|tracking|referral|employee|badge|member\s*card|policy\s*\#|hospital\s*policy"
)
VALUE = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9](?![\w-])"


class OtherIdRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="OTHER_ID",
            name="other_id",
            patterns=[Pattern("id-labeled", after_label(LABELS, VALUE), 0.7)],
            context=["number", "id"],
        )


def build() -> OtherIdRecognizer:
    return OtherIdRecognizer()
