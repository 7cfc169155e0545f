"""Telephone and pager numbers in the North American formats notes use.

``(217) 555-0143``, ``217-555-0143``, ``217.555.0143``, ``+1 217 555 0143``, with ``ext. 12``; bare pager
numbers count only after a "pager"/"beeper" label. Fax numbers are ``fax.py``'s job (higher score wins).
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label, digits_of

NANP = (
    r"(?<![\w/.]|\d-)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}"
    r"(?:\s*(?:ext\.?|x)\s*\d{1,5})?(?![\w/])"
)
# One digit too many in the last group ("301 273 45166"): a mistyped number is still a number to hide. Area code and
# exchange must look like NANP ones (first digit 2-9), so lab value runs rarely fit.
NANP_LONG = r"(?<![\w/.])[2-9]\d{2}[\s.-][2-9]\d{2}[\s.-]\d{5}(?![\w/])"
PAGER = after_label(r"pager|beeper|pgr|pg|page|cell|mobile|tel|phone|ph", r"\d{4,7}(?![\w/]|\.\d)")


class PhoneRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE",
            name="phone",
            patterns=[Pattern("nanp", NANP, 0.7), Pattern("nanp-long", NANP_LONG, 0.5), Pattern("pager", PAGER, 0.75)],
            context=["phone", "tel", "call", "cell", "mobile", "home", "work", "pager", "contact"],
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = digits_of(pattern_text.lower().split("x")[0].split("ext")[0])
        if len(digits) in (10, 11):
            return None  # a plausible NANP number: keep the pattern score
        return len(digits) <= 7 and len(digits) >= 4


def build() -> PhoneRecognizer:
    return PhoneRecognizer()
