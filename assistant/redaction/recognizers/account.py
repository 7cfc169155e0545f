"""Account, encounter and billing numbers: label-driven like MRNs ("Acct #", "FIN", "HAR", "Visit ID")."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"acc(?:oun)?t|acct|billing\s*(?:account)?|fin|har|encounter|visit|csn|invoice|claim|guarantor"
    r"|bank\s*account|routing"
)
VALUE = r"(?:[A-Z]{1,4}[-\s]?)?\d[\d-]{4,17}[A-Z0-9]?(?![\w-])"


class AccountRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="ACCOUNT",
            name="account",
            patterns=[Pattern("account-labeled", after_label(LABELS, VALUE), 0.8)],
            context=["account", "acct", "billing"],
        )


def build() -> AccountRecognizer:
    return AccountRecognizer()
