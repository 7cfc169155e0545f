"""Answer a patient question from the structured record: one sentence per fact, each cited to its record.

``answer_record_question`` is the entry point (the ask service and the chat engine call it). It classifies the
question (``questions``), reads the facts (``facts``), numbers the citations in the ``caretrail.ask/1`` shape
(``citations``), re-reads every cited record to check it still says what is quoted, and says plainly what was looked
for when nothing matches. A list question returns every matching fact, never a best one. It neither resolves
patients, checks panels nor writes the audit: the caller does those, and writes the audit row before showing the
answer (``audit_payload`` is what to write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from assistant.citations.cited_text import cited_text
from assistant.record_answers.citations import as_ask_citation, check_sentences
from assistant.record_answers.facts import PatientRecord, facts_for
from assistant.record_answers.questions import RecordQuestion, classify
from assistant.records.store import PatientStore

SCHEMA = "caretrail.ask/1"
MODEL_ID = "caretrail-record-answers/1"  # deterministic: no model writes these sentences


@dataclass(frozen=True)
class RecordAnswer:
    """A record answer: kept sentences (``{"text", "citations": [n]}``), their citations, and the abstention."""

    question: str
    asked: RecordQuestion
    as_of: date
    text: str
    sentences: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    abstained: bool
    note: str | None = None  # why nothing matched (what the record lacks), when it abstains
    dropped: list[dict[str, Any]] = field(default_factory=list)  # sentences whose citation no longer checks

    def response(self, patient_id: str) -> dict[str, Any]:
        """The ``caretrail.ask/1`` contract, less the ``audit_id`` the caller's audit row gives."""
        return {
            "schema": SCHEMA,
            "answer": self.text,
            "sentences": self.sentences,
            "citations": self.citations,
            "abstained": self.abstained,
            "patient_id": patient_id,
            "source": "record",
            "record_question": self.asked.as_dict(),
        }

    def audit_payload(self) -> dict[str, Any]:
        """What the caller writes as the "ask" event's payload: the question, what was looked up, the answer and
        each citation's record (ids and places, never more of the record than the answer itself shows)."""
        return {
            "question": self.question,
            "source": "record",
            "record_question": self.asked.as_dict(),
            "as_of": self.as_of.isoformat(),
            "model": MODEL_ID,
            "answer": self.text,
            "sentences": self.sentences,
            "dropped_sentences": self.dropped,
            "citations": [
                {k: c[k] for k in ("n", "doc_id", "record_id", "kind", "locator", "start", "end", "sha256")}
                for c in self.citations
            ],
            "abstained": self.abstained,
            "note": self.note,
        }


def _engine(store: PatientStore | Engine) -> Engine:
    return store.engine if isinstance(store, PatientStore) else store


def _abstention(asked: RecordQuestion, note: str | None, as_of: date) -> str:
    why = f" ({note})" if note else ""
    return f"Not found in this patient's record as of {as_of.isoformat()}: I looked for {asked.looked_for}{why}."


def answer_record_question(
    store: PatientStore | Engine, patient_id: str, question: str, as_of: date | None = None
) -> RecordAnswer | None:
    """Answer ``question`` about one patient from their structured record, or None when it is no record question.

    ``store``: the patient store (or its SQLAlchemy engine); ``patient_id``: our internal patient id, already
    resolved and access-checked by the caller; ``as_of``: the day the answer is true on (today when None): records
    dated after it are not read. Returns a ``RecordAnswer`` whose ``response(patient_id)`` is the ``caretrail.ask/1``
    contract (every sentence cited to the record it states, ``citations[*].type == "record"``) and whose
    ``audit_payload()`` the caller must write to the audit log before showing it. A question the record engine
    recognises but the record cannot answer gives an abstaining answer that names what was looked for, never None.
    Reads only this patient's records.
    """
    asked = classify(question or "")
    if asked is None:
        return None
    as_of = as_of or date.today()
    engine = _engine(store)
    found = facts_for(PatientRecord(engine, patient_id, as_of), asked)
    citations: list[dict[str, Any]] = []
    sentences: list[dict[str, Any]] = []
    for fact in found.facts:
        numbers = []
        for citation in fact.citations:
            citations.append(as_ask_citation(len(citations) + 1, citation, patient_id))
            numbers.append(len(citations))
        sentences.append({"text": fact.text, "citations": numbers})
    kept, dropped = check_sentences(engine, patient_id, sentences, citations)
    used = {n for sentence in kept for n in sentence["citations"]}
    citations = [c for c in citations if c["n"] in used]
    abstained = not kept
    note = found.note if abstained else None
    if abstained and dropped and not note:
        note = "the records found no longer say what was read from them"
    text = (
        _abstention(asked, note, as_of)
        if abstained
        else cited_text(kept)
    )
    return RecordAnswer(question, asked, as_of, text, kept, citations, abstained, note, dropped)
