"""Medical record numbers. They have no fixed shape, so the label decides: "MRN: 00482913", "MR# A-7731"."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"mrn|mr\s*\#|med(?:ical)?\.?\s*rec(?:ord)?s?\.?|chart|patient\s*id|pt\.?\s*id|hospital\s*(?:number|no\.?|id)"
    r"|unit\s*(?:number|no\.?)|emr|ehr"
)
VALUE = r"(?:[A-Z]{1,4}[-\s]?)?\d[\d-]{3,14}[A-Z0-9]?(?![\w-])"


class MrnRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="MRN",
            name="mrn",
            patterns=[Pattern("mrn-labeled", after_label(LABELS, VALUE), 0.85)],
            context=["mrn", "medical record", "chart"],
        )


def build() -> MrnRecognizer:
    return MrnRecognizer()
