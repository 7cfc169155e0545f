"""The answer text every contract shows: each kept sentence followed by its citation markers ("... days. [1][3]").

One definition for the narrative answer, the record answer and the chat turn, so the text a user reads and the
``sentences``/``citations`` it is built from are joined the same way everywhere.
"""

from __future__ import annotations

from typing import Any


def cited_text(sentences: list[dict[str, Any]]) -> str:
    return " ".join(f"{s['text']} " + "".join(f"[{n}]" for n in s["citations"]) for s in sentences)
