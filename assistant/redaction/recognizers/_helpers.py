"""Small pieces shared by the label-driven recognizers (not a recognizer itself: the name starts with _)."""

from __future__ import annotations

# Between a label such as "MRN" and its value: "MRN: 123", "MRN # 123", "MRN no. 123", "MRN\t| 123".
LABEL_GAP = r"(?:\s*(?:number|num|no\.?|nbr|id|#)){0,2}\s*(?:[:#=|\-]\s*){0,2}"


def after_label(labels: str, value: str) -> str:
    """A regex matching ``value`` only when a label precedes it; the label stays outside the span.

    presidio compiles patterns with the ``regex`` module, which allows variable-length lookbehind.
    """
    return rf"(?<=\b(?:{labels}){LABEL_GAP})(?:{value})"


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
