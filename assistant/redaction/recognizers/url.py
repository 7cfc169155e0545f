"""Web addresses: with a scheme or "www.", or a bare host with a common top-level domain and a path."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

SCHEME = r"\b(?:https?|ftp)://[^\s<>\"'|)\]]+[^\s<>\"'|)\].,;:!?]"
WWW = r"\bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s<>\"'|)\]]*[^\s<>\"'|)\].,;:!?])?"
BARE = (
    r"(?<![@\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|gov|edu|health|io|us|info|care)"
    r"(?:/[^\s<>\"'|)\]]*[^\s<>\"'|)\].,;:!?])?(?![\w@])"
)


class UrlRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="URL",
            name="url",
            patterns=[Pattern("scheme", SCHEME, 0.9), Pattern("www", WWW, 0.9), Pattern("bare", BARE, 0.6)],
            context=["url", "website", "link", "portal", "site"],
        )


def build() -> UrlRecognizer:
    return UrlRecognizer()
