"""Redaction and pseudonymization of free text, on top of ``engine.detect``.

``redact`` is irreversible: typed placeholders (``[NAME]``, ``[MBI]``). ``pseudonymize`` keeps the text
useful to a model: the same person is ``PERSON_1`` everywhere in a conversation, dates move by one
per-patient offset (so "admitted 3/14, discharged 3/18" still reads as four days), and the session can
map the model's answer back (``reidentify``) without the originals ever leaving the machine.
Both use presidio-anonymizer's operators: ``replace`` for redaction, ``custom`` for surrogates.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from assistant.redaction import dates
from assistant.redaction.engine import Entity, detect
from assistant.redaction.types import PHI_TYPES, placeholder
from assistant.redaction.vault import Vault, random_offset

_ANONYMIZER = AnonymizerEngine()


@dataclass
class RedactionResult:
    text: str
    entities: list[Entity]


def _results(entities: list[Entity]) -> list[RecognizerResult]:
    return [RecognizerResult(e.type, e.start, e.end, e.score) for e in entities]


def redact(text: str, entities: list[Entity] | None = None) -> RedactionResult:
    entities = detect(text) if entities is None else entities
    operators = {t: OperatorConfig("replace", {"new_value": placeholder(t)}) for t in {e.type for e in entities}}
    out = _ANONYMIZER.anonymize(text=text, analyzer_results=_results(entities), operators=operators)
    return RedactionResult(out.text, entities)


def _key(entity_type: str, original: str) -> str:
    """Mentions that differ only in case, spacing or dashes are the same identifier."""
    compact = re.sub(r"[\s\-]+", "" if entity_type in {"MBI", "SSN", "PHONE", "FAX", "NPI"} else " ", original)
    return f"{entity_type}|{compact.strip().casefold()}"


@dataclass
class PseudonymSession:
    """Surrogates for one conversation about one patient; optionally persisted in the encrypted vault."""

    patient_id: str | None = None
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    vault: Vault | None = None
    date_offset_days: int | None = None
    surrogates: dict[str, str] = field(default_factory=dict)  # key -> surrogate
    originals: dict[str, str] = field(default_factory=dict)  # surrogate -> first original spelling
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vault is not None:
            stored = self.vault.load_mapping(self.session_id)
            if stored:
                self.surrogates = dict(stored["surrogates"])  # type: ignore[arg-type]
                self.originals = dict(stored["originals"])  # type: ignore[arg-type]
                self.counters = dict(stored["counters"])  # type: ignore[arg-type]
                self.date_offset_days = int(stored["date_offset_days"])  # type: ignore[arg-type]
        if self.date_offset_days is None:
            if self.vault is not None and self.patient_id:
                self.date_offset_days = self.vault.patient_offset(self.patient_id)
            else:
                self.date_offset_days = random_offset()

    def surrogate(self, entity_type: str, original: str) -> str:
        key = _key(entity_type, original)
        if key in self.surrogates:
            return self.surrogates[key]
        value = None
        if entity_type == "DATE":
            value = dates.shift(original, self.date_offset_days or 0)
        if value is None or value in self.originals:
            label = entity_type if entity_type in PHI_TYPES else "ID"
            self.counters[label] = self.counters.get(label, 0) + 1
            value = f"{label}_{self.counters[label]}"
        self.surrogates[key] = value
        self.originals.setdefault(value, original)
        return value

    def is_surrogate(self, text: str) -> bool:
        return text in self.originals

    def reidentify(self, text: str) -> str:
        """Put the originals back into a model's answer. Longest surrogates first (``PERSON_10`` before ``_1``)."""
        if not self.originals:
            return text
        ordered = sorted(self.originals, key=len, reverse=True)
        pattern = re.compile("|".join(rf"(?<![\w/]){re.escape(s)}(?![\w/])" for s in ordered))
        return pattern.sub(lambda m: self.originals[m.group(0)], text)

    def save(self) -> None:
        if self.vault is not None:
            self.vault.save_mapping(
                self.session_id,
                {"surrogates": self.surrogates, "originals": self.originals, "counters": self.counters,
                 "date_offset_days": self.date_offset_days},
            )


def pseudonymize(text: str, session: PseudonymSession, entities: list[Entity] | None = None) -> RedactionResult:
    entities = detect(text) if entities is None else entities
    for entity in sorted(entities, key=lambda e: e.start):  # number surrogates in reading order
        session.surrogate(entity.type, text[entity.start : entity.end])
    operators = {
        t: OperatorConfig("custom", {"lambda": (lambda original, _t=t: session.surrogate(_t, original))})
        for t in {e.type for e in entities}
    }
    out = _ANONYMIZER.anonymize(text=text, analyzer_results=_results(entities), operators=operators)
    session.save()
    return RedactionResult(out.text, entities)
