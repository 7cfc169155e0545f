"""1,000 randomized chat turns over a generated demo population: a conversation about patient A never retrieves,
cites or repeats patient B's text, even when B's name, MBI or MRN is typed into it.

The population is the demo generator's (real FHIR bundles and CCLF files through the real connectors), added to a
copy of the indexed knowledge base. A care manager has half of it on their panel; each turn picks a conversation about
one of those patients (A), another patient (B, on the panel or not) and a question: record questions, protocol
questions, next steps, checklists and follow-ups, with B's full name, MBI (with or without dashes) or MRN typed in, or
only B's given or family name, or nothing of B. Every turn, whatever it was answered with or declined for, is checked:

- every chunk its engine retrieved (read from the turn's audit row) is A's or the knowledge base's;
- every citation opens to A's record or chunk, or to the knowledge base;
- no other patient's full name, MBI or MRN appears in what is shown (answer, sentences, quotes, dropped sentences,
  links), unless it is also A's;
- no shown sentence is text found only in other patients' notes.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.audit.log import audit_log_for
from assistant.context import open_context
from assistant.demo.generator import generate
from assistant.index.tables import ChunkRow
from assistant.ingest.pipeline import ingest_paths
from assistant.records.tables import RecordTable
from assistant.services import chat
from assistant.services.caller import Caller
from assistant.settings import Settings
from tests.helpers import copy_data_dir

pytestmark = pytest.mark.slow  # a demo population ingested, then 1,000 turns through the service layer

TURNS = 1000
PEOPLE = 60
CALLER = Caller("leak-cm", "care_manager", "cli")
DAY = date(2026, 11, 20)
KNOWLEDGE = "knowledge"


@dataclass(frozen=True)
class Person:
    patient_id: str
    given: str
    family: str
    mbi: str
    mrn: str

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def identifiers(self) -> tuple[str, ...]:
        dashed = f"{self.mbi[:4]}-{self.mbi[4:7]}-{self.mbi[7:]}"
        return (self.name, self.mbi, dashed, self.mrn)


@dataclass
class Population:
    ctx: Any
    people: dict[str, Person]  # patient id -> person
    panel: list[str]
    chunk_owner: dict[str, str]  # chunk id -> patient id or "knowledge"
    texts: dict[str, str]  # patient id -> all of that patient's indexed text


@pytest.fixture(scope="module")
def population(
    knowledge_ctx: Any, knowledge_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Population:
    root = tmp_path_factory.mktemp("leaks")
    copy_data_dir(knowledge_settings.data_dir, root / "data")
    ctx = open_context(Settings(data_dir=root / "data"))
    generate(PEOPLE, 4242, root / "demo")
    assert ingest_paths(ctx.ingest_deps, [root / "demo"]).errors == []
    manifest = json.loads((root / "demo" / "manifest.json").read_text(encoding="utf-8"))
    duplicated = {row["duplicate_of"] for row in manifest["patients"] if row["duplicate_of"]}
    people: dict[str, Person] = {}
    for row in manifest["patients"]:
        if row["duplicate_of"] or row["key"] in duplicated or not row.get("mbi"):
            continue  # one person under two registrations is not two patients: left out of A and B
        patient = ctx.patients.resolve_patient(row["key"])
        given, family = row["name"].split(" ")[0], row["name"].split(" ")[-1]
        people[patient.id] = Person(patient.id, given, family, row["mbi"], row["mrn"]["value"])
    ids = sorted(people)
    panel = ids[::2]
    ctx.patients.assign_panel(CALLER.user, panel)
    chunk_owner: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    with Session(ctx.engine) as session:
        for chunk_id, patient_id, text in session.execute(
            select(ChunkRow.chunk_id, ChunkRow.patient_id, ChunkRow.text)
        ):
            chunk_owner[chunk_id] = patient_id or KNOWLEDGE
            texts.setdefault(patient_id or KNOWLEDGE, []).append(text)
    return Population(ctx, people, panel, chunk_owner, {k: "\n".join(v) for k, v in texts.items()})


QUESTIONS = {
    "record": [
        "What was her last A1c?",
        "What medications is she on?",
        "Are any results pending?",
        "What are the discharge diagnoses?",
        "When is the follow-up appointment?",
        "Who is her primary care doctor?",
        "What red flags should prompt a call?",
        "Does he live alone?",
    ],
    "followup": ["and her BP?", "what about her weight?", "and the medications?"],
    "protocol": [
        "When must the TCM interactive contact happen after discharge?",
        "What does STEADI recommend after a fall?",
        "What counts toward the CMS165 measure?",
    ],
    "engines": ["What should I do next?", "Make a discharge checklist."],
    # B typed in full: declined without a lookup.
    "named": [
        "What was {name}'s last A1c?",
        "Does {mbi} have a follow-up appointment?",
        "Compare her blood pressure with MRN {mrn}.",
        "What medications is {name} taking?",
        "and {dashed}?",
        "Show me the discharge summary of {name}, MBI {mbi}.",
    ],
    # Only part of B: not a mention, so answered, and still only from A.
    "partial": [
        "Did {family} call about her appointment?",
        "What was her last A1c, {given}?",
        "Who manages her insulin, ref {digits}?",
        "When must the TCM contact happen for {given}?",
    ],
}
MIX = [("record", 0.3), ("followup", 0.1), ("protocol", 0.08), ("engines", 0.04), ("named", 0.3), ("partial", 0.18)]


def _question(rng: random.Random, other: Person) -> tuple[str, str]:
    kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
    template = rng.choice(QUESTIONS[kind])
    digits = "".join(c for c in other.mrn if c.isdigit())
    filled = template.format(
        name=other.name,
        mbi=other.mbi,
        mrn=other.mrn,
        dashed=other.identifiers[2],
        given=other.given,
        family=other.family,
        digits=digits,
    )
    return kind, filled


def _shown(response: dict[str, Any]) -> list[str]:
    """Everything a turn shows but the caller's own message (which it may echo as typed)."""
    texts = [response["answer"], response.get("decline_reason") or ""]
    texts += [s["text"] for s in response["sentences"]]
    texts += [d["text"] for d in response["dropped_sentences"] if d.get("text")]
    texts += [json.dumps(c, default=str) for c in response["citations"]]
    texts += [link["href"] for link in response["links"]]
    return texts


def _record_owners(session: Session, citation: dict[str, Any]) -> set[str | None]:
    """Whose records a record citation opens: by record id, or (a CCLF line has none) by kind and locator."""
    query = select(RecordTable.patient_id, RecordTable.payload).where(
        RecordTable.document_id == citation["document_id"]
    )
    if citation.get("record_id"):
        return {pid for pid, _ in session.execute(query.where(RecordTable.record_id == citation["record_id"]))}
    if citation.get("kind"):
        query = query.where(RecordTable.kind == citation["kind"])
    return {
        pid
        for pid, payload in session.execute(query)
        if (payload.get("provenance") or {}).get("locator") == citation.get("locator")
    }


def _leaks(run: Population, patient_id: str, response: dict[str, Any]) -> list[str]:
    found: list[str] = []
    own = run.people[patient_id]
    shown = _shown(response)
    for person in run.people.values():
        if person.patient_id == patient_id:
            continue
        for value in person.identifiers:
            if value in own.identifiers:
                continue
            if any(value in text for text in shown):
                found.append(f"{person.patient_id}'s {value!r} shown")
    allowed = {patient_id, KNOWLEDGE}
    with Session(run.ctx.engine) as session:
        for citation in response["citations"]:
            if citation.get("patient_id") not in (None, patient_id):
                found.append(f"cites patient {citation['patient_id']}")
            for key in ("chunk_id", "index_chunk_id"):
                owner = run.chunk_owner.get(str(citation.get(key)))
                if owner is not None and owner not in allowed:
                    found.append(f"cites {owner}'s chunk {citation.get(key)}")
            if citation.get("type") == "record" and citation.get("document_id"):
                owners = _record_owners(session, citation) - {None}
                if owners - {patient_id}:
                    found.append(f"cites the record of {sorted(owners - {patient_id})}")
    row = audit_log_for(run.ctx).get(response["audit_id"])
    stack: list[Any] = [row.payload.get("engine")]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for hit in value.get("retrieved", []):
                owner = run.chunk_owner.get(hit["chunk_id"])
                if owner not in allowed:
                    found.append(f"retrieved {owner}'s chunk {hit['chunk_id']}")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    for sentence in response["sentences"]:
        owners = {owner for owner, text in run.texts.items() if sentence["text"] in text}
        if owners and not owners & allowed:
            found.append(f"repeats text only {sorted(owners)} have: {sentence['text'][:80]!r}")
    return found


def test_a_thousand_cross_patient_turns_leak_nothing(population: Population) -> None:
    run = population
    rng = random.Random(20261120)
    conversations = {pid: chat.start(run.ctx, CALLER, pid)["conversation_id"] for pid in run.panel}
    leaks: dict[str, list[str]] = {}
    counts = {
        "declined_naming_another": 0,
        "answered_from_own_record": 0,
        "answered_from_knowledge": 0,
        "engine_results": 0,
        "off_panel_b": 0,
    }
    started = time.monotonic()
    for turn in range(TURNS):
        patient_id = rng.choice(run.panel)
        other = run.people[rng.choice([p for p in run.people if p != patient_id])]
        kind, question = _question(rng, other)
        response = chat.send(run.ctx, CALLER, conversations[patient_id], question, DAY)
        found = _leaks(run, patient_id, response)
        if found:
            leaks[f"turn {turn} ({kind}) A={patient_id} B={other.patient_id}: {question}"] = found
        scope = response["routing"]["intent"]["scope"]
        counts["declined_naming_another"] += scope in ("other_patient", "off_panel")
        counts["off_panel_b"] += scope == "off_panel"
        counts["answered_from_own_record"] += any(c.get("patient_id") == patient_id for c in response["citations"])
        counts["answered_from_knowledge"] += response["intent"] == "protocol_question" and not response["abstained"]
        counts["engine_results"] += bool(response["links"])
    elapsed = time.monotonic() - started
    print(f"{TURNS} turns over {len(run.people)} patients in {elapsed:.1f} s: {counts}")
    assert not leaks, json.dumps(dict(list(leaks.items())[:20]), indent=1)
    # The turns did real work: declines for naming B (on and off the panel) and answers cited to A's own record.
    assert counts["declined_naming_another"] >= 200 and counts["off_panel_b"] >= 50, counts
    assert counts["answered_from_own_record"] >= 150 and counts["answered_from_knowledge"] >= 20, counts
    assert counts["engine_results"] >= 10, counts
