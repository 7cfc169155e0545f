"""Which patients a chat message names: by an identifier (MBI, with or without dashes; MRN; source id; internal id)
or by given and family name together.

Why: a conversation is about one patient. A message that names another one ("what was 1EG4-TE5-MK73's last A1c?")
is declined with the reason instead of answered, so nothing about that person is looked up, retrieved or repeated
in this conversation. A family name alone is not a mention (too many patients share one, and "Brown" is also a
colour); a given and a family name of the same patient are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from assistant.records.names import normalize_mbi
from assistant.records.tables import PatientIdentifierTable, PatientTable

_MBI_LIKE = re.compile(r"\b[1-9][A-Za-z0-9]{3}-?[A-Za-z0-9]{3}-?[A-Za-z0-9]{4}\b")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:|\-]{3,}[A-Za-z0-9]")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['\u2019]s$")
MAX_TOKENS = 200  # a message is at most 2,000 characters; this bounds the lookup


@dataclass(frozen=True)
class Mention:
    patient_id: str
    how: str  # "identifier" or "name"


def _identifier_tokens(text: str) -> set[str]:
    tokens = {t for t in _TOKEN.findall(text) if any(c.isdigit() for c in t)}
    tokens |= {normalize_mbi(m) for m in _MBI_LIKE.findall(text)}
    return set(sorted(tokens)[:MAX_TOKENS])


def named_patients(engine: Engine, text: str) -> list[Mention]:
    """Every patient ``text`` names, each once (an identifier before a name), in id order."""
    found: dict[str, str] = {}
    tokens = _identifier_tokens(text)
    words = [_POSSESSIVE.sub("", w.lower()) for w in _WORD.findall(text)]
    word_set = set(words)
    with Session(engine) as session:
        if tokens:
            by_id = select(PatientTable.id).where(PatientTable.id.in_(tokens))
            by_identifier = select(PatientIdentifierTable.patient_id).where(PatientIdentifierTable.value.in_(tokens))
            for patient_id in [*session.scalars(by_id), *session.scalars(by_identifier)]:
                found.setdefault(patient_id, "identifier")
        names = sorted(w for w in word_set if len(w) > 1)[:MAX_TOKENS]
        if names:
            lowered = func.lower(PatientTable.family)
            query = select(PatientTable.id, PatientTable.given, PatientTable.family).where(
                or_(lowered.in_(names), *[lowered.like(f"% {n}") for n in names[:20]])
            )
            for patient_id, given, family in session.execute(query):
                if patient_id in found or not family:
                    continue
                family_words = [w.lower() for w in _WORD.findall(family)]
                given_words = {w.lower() for g in (given or []) for w in _WORD.findall(str(g)) if len(w) > 1}
                if _contains(words, family_words) and given_words & word_set:
                    found[patient_id] = "name"
    return [Mention(patient_id, how) for patient_id, how in sorted(found.items())]


def _contains(words: list[str], phrase: list[str]) -> bool:
    if not phrase:
        return False
    return any(words[i : i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))
