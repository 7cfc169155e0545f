"""E-mail addresses. Our own pattern, so validation needs no public-suffix download (tldextract)."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

PATTERN = r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])"


class EmailRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="EMAIL",
            name="email",
            patterns=[Pattern("email", PATTERN, 0.95)],
            context=["email", "e-mail", "mail"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        local, _, domain = pattern_text.rpartition("@")
        return bool(local) and ".." not in pattern_text and not domain.startswith("-")


def build() -> EmailRecognizer:
    return EmailRecognizer()
