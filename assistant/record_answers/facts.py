"""One patient's structured record read into facts: one sentence each, cited to the record (or records) it states.

What each question kind reads:
- an observation kind: Observations of that kind with a result (a value, a text value or components), latest first;
  one that is registered or preliminary without a value is no result yet (it is pending);
- medication changes and results pending at discharge: the transition checklist of the latest discharge on or
  before the as-of date, built by the transitions engine itself (``build_checklist``: the pre-admission versus
  discharge medication difference and the pending-result lines of the discharge summary), so an answer never
  disagrees with the checklist the care team works from; pending also reads orders (ServiceRequest) still open with
  no later result of the same code, and Observations registered without a value;
- active medications, coded conditions (and claim diagnoses not coded as a condition, and the lines of a discharge
  diagnosis section), encounters, claim lines, and the lines of allergies sections.

The same fact read from two sources (a CCD and a FHIR bundle both listing hypertension) is one sentence with both
citations. Only records dated on or before the as-of date are read (undated ones too), so a replayed date gives the
same answer; the one exception is a visit booked for after that date, which is what a follow-up question asks for.
Reads only this patient's records; nothing here writes except ``episodes.sync``, which keeps the episode rows up to
date exactly as every other reader of transitions does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine

from assistant.measures.cms165 import DIASTOLIC, SYSTOLIC
from assistant.measures.common import LOINC, any_code, codes_of
from assistant.record_answers.citations import cite_fields, cite_span
from assistant.record_answers.kinds import ObservationKind
from assistant.record_answers.questions import (
    ALLERGIES,
    CLAIMS,
    CONDITIONS,
    ENCOUNTERS,
    FOLLOW_UPS,
    MEDICATION_CHANGES,
    MEDICATIONS,
    OBSERVATION,
    PENDING,
    RecordQuestion,
)
from assistant.records.model import Claim, Condition, DocumentSection, Encounter, Medication, Observation, Order
from assistant.records.store import effective_time
from assistant.transitions import episodes
from assistant.transitions.checklist import Checklist, build_checklist
from assistant.transitions.medications import ingredient, is_placeholder
from assistant.transitions.sources import PatientChunks, StoredRecord, read_patient_records
from assistant.transitions.stay import DISCHARGE_DIAGNOSIS_LOINC
from assistant.transitions.text_lines import as_date, lines

ALLERGY_LOINC = {"48765-2"}
NOT_A_RESULT = {"registered", "cancelled", "entered-in-error"}
PENDING_OBSERVATION = {"registered", "preliminary"}
OPEN_ORDER = {"active", "on-hold", "draft"}
ACTIVE_MEDICATION = {"active", "intended", "on-hold", "new"}
DISMISSED = {"refuted", "entered-in-error"}
CLAIM_CITATIONS = 3  # a diagnosis on fifty claim lines is one fact; its first lines are cited
CHANGE_WORDS = {
    "new": "New at the {day} discharge (not on the pre-admission list): {drug}.",
    "stopped": "Stopped at the {day} discharge (on the pre-admission list, not continued): {drug}.",
    "held": "Held at the {day} discharge: {drug}.",
}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml|unit|units|meq)\b", re.IGNORECASE)


@dataclass
class Fact:
    """One sentence and the record citations it rests on (``record_citation`` dicts with their quote)."""

    text: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    when: datetime | date | None = None  # what a list is ordered by, made comparable (naive UTC) on creation

    def __post_init__(self) -> None:
        self.when = _moment(self.when)


@dataclass
class Found:
    """What one lookup found, and, when it found nothing, why (what the record lacks)."""

    facts: list[Fact]
    note: str | None = None


def _moment(value: datetime | date | None) -> datetime | None:
    """Sources mix dates, naive and zoned times: one comparable form (naive UTC, dates at midnight)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _day(value: datetime | date | None) -> str:
    found = as_date(value)
    return found.isoformat() if found else "an unrecorded date"


class PatientRecord:
    """One patient's stored records up to the as-of date, read once for every lookup of one question."""

    def __init__(self, engine: Engine, patient_id: str, as_of: date) -> None:
        self.engine = engine
        self.patient_id = patient_id
        self.as_of = as_of

    @cached_property
    def everything(self) -> list[StoredRecord]:
        """Every stored record of the patient, later ones included (a visit booked for next week)."""
        return read_patient_records(self.engine, self.patient_id)

    @cached_property
    def records(self) -> list[StoredRecord]:
        """The records dated on or before the as-of date, and undated ones: what was known on that day."""
        found = []
        for stored in self.everything:
            when = effective_time(stored.record)
            if when is None or when.date() <= self.as_of:
                found.append(stored)
        return found

    @cached_property
    def chunks(self) -> PatientChunks:
        return PatientChunks(self.engine, self.patient_id)

    def of_kind(self, kind: type) -> list[StoredRecord]:
        return [s for s in self.records if isinstance(s.record, kind)]

    def find(self, citation: dict[str, Any]) -> StoredRecord | None:
        """The stored record a transitions citation names (document, record id and locator)."""
        for stored in self.records:
            if (
                stored.document_id == citation.get("document_id")
                and getattr(stored.record, "id", None) == citation.get("record_id")
                and stored.record.provenance.locator == citation.get("locator")
            ):
                return stored
        return None

    @cached_property
    def checklist(self) -> Checklist | None:
        """The transition checklist of the latest discharge on or before the as-of date (not a cancelled one
        when a live one exists), built by the transitions engine; None when the record shows no discharge."""
        episodes.sync(self.engine, {self.patient_id})
        found = episodes.list_episodes(self.engine, {self.patient_id})
        dated = [e for e in found if e.discharge_date <= self.as_of]
        live = [e for e in dated if e.status != episodes.CANCELLED]
        chosen = (live or dated or [None])[0]  # list_episodes gives the latest first
        if chosen is None:
            return None
        return build_checklist(self.engine, chosen, self.as_of, history=found, records=self.records)


def facts_for(record: PatientRecord, question: RecordQuestion) -> Found:
    readers: dict[str, Callable[[PatientRecord, RecordQuestion], Found]] = {
        OBSERVATION: observation_facts, MEDICATION_CHANGES: medication_change_facts, PENDING: pending_facts,
        MEDICATIONS: medication_facts, CONDITIONS: condition_facts, ENCOUNTERS: encounter_facts,
        CLAIMS: claim_facts, ALLERGIES: allergy_facts, FOLLOW_UPS: follow_up_facts,
    }  # fmt: skip
    return readers[question.kind](record, question)


def _merge(facts: Iterable[tuple[Any, Fact]]) -> list[Fact]:
    """Facts with the same key (the same drug, code or stay from two sources) become one, citing each source."""
    merged: dict[Any, Fact] = {}
    for key, fact in facts:
        if key in merged:
            merged[key].citations.extend(fact.citations)
        else:
            merged[key] = fact
    return list(merged.values())


# -- observations -------------------------------------------------------------------------------------------


def _result_paths(observation: Observation, prefix: str = "") -> list[str]:
    if observation.value is not None:
        return [f"{prefix}value", f"{prefix}unit"]
    if observation.value_text:
        return [f"{prefix}value_text"]
    return []


def _component(observation: Observation, loinc: str) -> tuple[int, Observation] | None:
    for index, component in enumerate(observation.components):
        if any_code(codes_of(component), LOINC, loinc) and component.value is not None:
            return index, component
    return None


def _observation_fact(stored: StoredRecord, kind: ObservationKind) -> Fact | None:
    observation = stored.record
    assert isinstance(observation, Observation)
    if (observation.status or "") in NOT_A_RESULT:
        return None
    name = observation.code.display or observation.code.code
    when = f"on {_day(observation.effective)}"
    status = f", status {observation.status}" if observation.status else ""
    base = ["code.display", "code.code", "effective", "status"]
    systolic, diastolic = _component(observation, SYSTOLIC), _component(observation, DIASTOLIC)
    if kind.blood_pressure and systolic and diastolic:
        (si, s), (di, d) = systolic, diastolic
        unit = s.unit or d.unit or ""
        text = f"Blood pressure was {s.value:g}/{d.value:g} {unit} {when} ({name}{status})."
        paths = [*base, f"components[{si}].value", f"components[{si}].unit", f"components[{di}].value"]
        return Fact(text, [cite_fields(stored, paths)], observation.effective)
    if observation.value is not None:
        value = f"{observation.value:g} {observation.unit or ''}".strip()
    elif observation.value_text:
        value = observation.value_text
    else:
        return None  # no result: a pending test or an empty panel
    text = f"{kind.label[0].upper()}{kind.label[1:]} was {value} {when} ({name}{status})."
    return Fact(text, [cite_fields(stored, [*base, *_result_paths(observation)])], observation.effective)


def observation_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    kind = question.observation
    assert kind is not None
    found = []
    for stored in record.of_kind(Observation):
        if kind.matches(stored.record):  # type: ignore[arg-type]
            fact = _observation_fact(stored, kind)
            if fact is not None:
                found.append(fact)
    found.sort(key=lambda f: f.when or datetime.min, reverse=True)
    if not question.every:
        found = found[:1]
    elif question.limit:
        found = found[: question.limit]
    return Found(found, None if found else f"no {kind.label} result is in the structured record")


# -- the latest discharge: medication changes and pending results ------------------------------------------------


def _medication_paths() -> list[str]:
    return ["code.display", "code.code", "dose", "status", "start", "stop", "authored_on", "encounter_id"]


def _change_citations(record: PatientRecord, citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The transitions engine's citations of one change, each re-cited with the fields it states."""
    found = []
    for citation in citations:
        stored = record.find(citation)
        if stored is None:
            continue
        if isinstance(stored.record, Medication):
            found.append(cite_fields(stored, _medication_paths()))
        elif isinstance(stored.record, DocumentSection):
            found.append(cite_fields(stored, ["document_title", "title", "loinc", "document_date"]))
    return found


def _strength(described: str | None) -> float | None:
    match = _NUMBER.search(described or "")
    return float(match.group(1)) if match else None


def _change_text(change: dict[str, Any], discharge_date: date) -> str:
    name, kind = change["medication"], change["change"]
    risk = f" [high-risk: {change['high_risk_class']}]" if change.get("high_risk_class") else ""
    if kind == "dose_changed":
        before, after = _strength(change["pre_admission"]), _strength(change["discharge"])
        how = "changed"
        if before is not None and after is not None and before != after:
            how = "increased" if after > before else "decreased"
        return (f"{name}{risk}: dose {how} at the {discharge_date.isoformat()} discharge, from "
                f"{change['pre_admission']} to {change['discharge']}.")  # fmt: skip
    drug = f"{change['discharge'] or change['pre_admission']}{risk}"
    return CHANGE_WORDS[kind].format(day=discharge_date.isoformat(), drug=drug)


def medication_change_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    checklist = record.checklist
    if checklist is None:
        return Found([], f"no discharge on or before {record.as_of.isoformat()} is in the record")
    discharged = checklist.episode.discharge_date
    facts = []
    for change in checklist.medication_changes:
        if change["change"] == "unchanged":
            continue
        citations = _change_citations(record, change["citations"])
        if citations:
            facts.append(Fact(_change_text(change, discharged), citations))
    if facts:
        return Found(facts)
    lists = [m for m in checklist.missing if "medication list" in m]
    if lists:
        return Found([], f"the {discharged.isoformat()} discharge has no {' and no '.join(lists)} in the record")
    return Found([], f"the medication lists of the {discharged.isoformat()} discharge show no change")


def _checklist_lines(record: PatientRecord, category: str) -> list[tuple[Any, StoredRecord, dict[str, Any]]]:
    """The checklist items of one category read from a discharge-summary line: (item, section, line citation)."""
    checklist = record.checklist
    if checklist is None:
        return []
    found = []
    for item in checklist.items:
        if item.category != category:
            continue
        line = next((c for c in item.citations if c.get("type") == "record" and c.get("quote")), None)
        stored = record.find(line) if line else None
        if line is not None and stored is not None and isinstance(stored.record, DocumentSection):
            found.append((item, stored, line))
    return found


def _narrative_pending(record: PatientRecord) -> list[Fact]:
    facts = []
    for _item, stored, line in _checklist_lines(record, "pending_result"):
        section = stored.record
        assert isinstance(section, DocumentSection) and record.checklist is not None
        citation = cite_span(stored, line["start"], line["end"], line["quote"], line.get("chunk_id"))
        where = section.document_title or section.title
        day = record.checklist.episode.discharge_date.isoformat()
        text = f'Pending at the {day} discharge, as the {where} ({section.title}) says: "{line["quote"]}"'
        facts.append(Fact(text, [citation], section.document_date))
    return facts


def _resulted_codes(record: PatientRecord) -> list[tuple[set[tuple[str, str]], datetime | None]]:
    found = []
    for stored in record.of_kind(Observation):
        obs = stored.record
        assert isinstance(obs, Observation)
        if (obs.status or "final") not in NOT_A_RESULT | PENDING_OBSERVATION:
            found.append(({(c.system, c.code) for c in codes_of(obs)}, _moment(obs.effective)))
    return found


def _structured_pending(record: PatientRecord) -> list[Fact]:
    resulted = _resulted_codes(record)
    facts = []
    for stored in record.of_kind(Order):
        order = stored.record
        assert isinstance(order, Order)
        if order.resource_type != "ServiceRequest" or (order.status or "") not in OPEN_ORDER or order.do_not_perform:
            continue
        codes = {(c.system, c.code) for c in codes_of(order)}
        ordered = _moment(order.authored_on)
        if any(codes & seen and (ordered is None or (when is not None and when >= ordered)) for seen, when in resulted):
            continue
        name = order.code.display or order.code.code
        text = (f"{name} was ordered on {_day(ordered)} and the record holds no result for it yet "
                f"(ServiceRequest status {order.status}).")  # fmt: skip
        paths = ["code.display", "code.code", "status", "intent", "authored_on", "encounter_id"]
        facts.append(Fact(text, [cite_fields(stored, paths)], ordered))
    for stored in record.of_kind(Observation):
        obs = stored.record
        assert isinstance(obs, Observation)
        if (obs.status or "") in PENDING_OBSERVATION and obs.value is None and not obs.value_text:
            name = obs.code.display or obs.code.code
            text = f"{name} from {_day(obs.effective)} has no result yet (Observation status {obs.status})."
            facts.append(Fact(text, [cite_fields(stored, ["code.display", "code.code", "status", "effective"])],
                              obs.effective))  # fmt: skip
    return facts


def pending_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    facts = _narrative_pending(record) + _structured_pending(record)
    if facts:
        return Found(facts)
    if record.checklist is None:
        return Found([], "no discharge summary names a pending result and no order is waiting for a result")
    discharged = record.checklist.episode.discharge_date.isoformat()
    return Found([], f"the record of the {discharged} discharge names no pending result and no order is waiting "
                     "for a result")  # fmt: skip


# -- the rest of the record -------------------------------------------------------------------------------------


def medication_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    """Active medications, the latest record of each drug (by ingredient, as the reconciliation matches them): a
    discharge prescription of furosemide 40 mg supersedes the 20 mg on the pre-admission list. The same drug, dose
    and status from two sources is one sentence citing both."""
    latest: dict[str, list[StoredRecord]] = {}
    for stored in record.of_kind(Medication):
        med = stored.record
        assert isinstance(med, Medication)
        status = (med.status or "active").lower()
        if status not in ACTIVE_MEDICATION or is_placeholder(med) or (med.stop and med.stop < record.as_of):
            continue
        same = latest.setdefault(ingredient(med), [])
        newest = same[0].record.start if same else None  # type: ignore[union-attr]
        if same and (med.start or date.min) > (newest or date.min):
            same.clear()
        if not same or (med.start or date.min) == (newest or date.min):
            same.append(stored)
    facts = []
    for stored in (s for group in latest.values() for s in group):
        med = stored.record
        assert isinstance(med, Medication)
        status = (med.status or "active").lower()
        name = med.code.display or med.code.code
        dose = f", {med.dose}" if med.dose else ""
        until = f", until {med.stop.isoformat()}" if med.stop else ""
        text = f"{name}{dose}: {status}, since {_day(med.start)}{until}."
        key = (name.lower(), (med.dose or "").lower(), status)
        facts.append((key, Fact(text, [cite_fields(stored, _medication_paths())], None)))
    merged = _merge(facts)
    return Found(merged, None if merged else "no active medication is in the structured record")


def _condition_facts(record: PatientRecord) -> list[tuple[Any, Fact]]:
    found = []
    for stored in record.of_kind(Condition):
        cond = stored.record
        assert isinstance(cond, Condition)
        if (cond.verification_status or "") in DISMISSED:
            continue
        status = f", {cond.clinical_status}" if cond.clinical_status else ""
        since = f", since {cond.onset.isoformat()}" if cond.onset else ""
        until = f", resolved {cond.abatement.isoformat()}" if cond.abatement else ""
        text = f"{cond.code.display or cond.code.code} ({cond.code.system} {cond.code.code}){status}{since}{until}."
        paths = ["code.display", "code.system", "code.code", "clinical_status", "onset", "abatement"]
        found.append(((cond.code.system, cond.code.code), Fact(text, [cite_fields(stored, paths)])))
    return found


def _claim_diagnoses(record: PatientRecord, coded: set[tuple[str, str]]) -> list[Fact]:
    lines_by_code: dict[tuple[str, str], list[tuple[StoredRecord, int]]] = {}
    for stored in record.of_kind(Claim):
        claim = stored.record
        assert isinstance(claim, Claim)
        for index, code in enumerate(claim.diagnoses):
            key = (code.system, code.code)
            if key not in coded:
                lines_by_code.setdefault(key, []).append((stored, index))
    facts = []
    for (system, code), found in lines_by_code.items():
        first = found[0][0].record
        assert isinstance(first, Claim)
        text = f"Diagnosis {system} {code} is on {len(found)} claim line(s), the first from {_day(first.from_date)}."
        cites = [cite_fields(stored, [f"diagnoses[{i}].code", f"diagnoses[{i}].system", "from_date", "file_type"])
                 for stored, i in found[:CLAIM_CITATIONS]]  # fmt: skip
        facts.append(Fact(text, cites))
    return facts


def _section_lines(record: PatientRecord, wanted: Callable[[DocumentSection], bool]) -> list[tuple[str, Fact]]:
    found = []
    for stored in record.of_kind(DocumentSection):
        section = stored.record
        assert isinstance(section, DocumentSection)
        if not wanted(section):
            continue
        base = section.provenance.start or 0
        for span in lines(section.text, base):
            text = span.text.strip()
            title = (section.title or "").strip().rstrip(":").lower()
            if text.rstrip(":").strip().lower() == title or (text.endswith(":") and len(text.split()) <= 3):
                continue  # the section's own heading
            dated = f", {_day(section.document_date)}" if section.document_date else ""
            sentence = (
                f'The {section.title} section of the {section.document_title or "document"}{dated} lists: "{text}"'
            )
            chunk = record.chunks.at(stored, span.start, span.end)
            fact = Fact(sentence, [cite_span(stored, span.start, span.end, span.text, chunk)], section.document_date)
            found.append((" ".join(text.lower().split()), fact))
    return found


def condition_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    coded = _condition_facts(record)
    codes = {key for key, _fact in coded}
    merged = _merge(coded)
    merged.extend(_claim_diagnoses(record, codes))
    merged.extend(_merge(_section_lines(record, lambda s: s.loinc in DISCHARGE_DIAGNOSIS_LOINC)))
    return Found(merged, None if merged else "no diagnosis or condition is in the structured record")


def encounter_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    facts = []
    for stored in record.of_kind(Encounter):
        enc = stored.record
        assert isinstance(enc, Encounter)
        classes = question.encounter_classes
        if (classes is not None and enc.encounter_class not in classes) or enc.status in (
            "cancelled",
            "entered-in-error",
        ):
            continue
        span = f"from {_day(enc.start)} to {_day(enc.end)}" if enc.end else f"on {_day(enc.start)}"
        where = f" at {enc.facility}" if enc.facility else ""
        went = f", discharged to {enc.discharge_disposition}" if enc.discharge_disposition else ""
        what = f" ({enc.type.display})" if enc.type and enc.type.display else ""
        status = f", status {enc.status}" if enc.status and enc.status != "finished" else ""
        text = f"{enc.encounter_class.capitalize()} encounter{what} {span}{where}{went}{status}."
        paths = ["encounter_class", "start", "end", "facility", "discharge_disposition", "status", "type.display"]
        key = (enc.encounter_class, as_date(enc.start), as_date(enc.end))
        facts.append((key, Fact(text, [cite_fields(stored, paths)], enc.start)))
    merged = sorted(_merge(facts), key=lambda f: f.when or datetime.min, reverse=True)
    if not question.every:
        merged = merged[:1]
    elif question.limit:
        merged = merged[: question.limit]
    return Found(merged, None if merged else f"no {question.looked_for} in the structured record")


def claim_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    facts = []
    for stored in record.of_kind(Claim):
        claim = stored.record
        assert isinstance(claim, Claim)
        parts = [f"{claim.file_type} claim {claim.id} (type {claim.claim_type}) for {_day(claim.from_date)}"]
        if claim.thru_date and claim.thru_date != claim.from_date:
            parts[0] += f" to {claim.thru_date.isoformat()}"
        if claim.diagnoses:
            parts.append("diagnoses " + ", ".join(c.code for c in claim.diagnoses))
        if claim.procedures:
            parts.append("procedures " + ", ".join(c.code for c in claim.procedures))
        if claim.provider_npi:
            parts.append(f"provider NPI {claim.provider_npi}")
        if claim.amount is not None:
            parts.append(f"amount {claim.amount:.2f}")
        paths = ["file_type", "id", "claim_type", "from_date", "thru_date", "provider_npi", "amount",
                 *(f"diagnoses[{i}].code" for i in range(len(claim.diagnoses))),
                 *(f"procedures[{i}].code" for i in range(len(claim.procedures)))]  # fmt: skip
        facts.append(Fact("; ".join(parts) + ".", [cite_fields(stored, paths)], claim.from_date))
    facts.sort(key=lambda f: f.when or datetime.min, reverse=True)
    return Found(facts, None if facts else "no claim line is in the record")


def follow_up_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    """Follow-ups the latest discharge summary names (with the due date the checklist gives them), then visits the
    record shows booked after the as-of date."""
    facts = []
    for item, stored, line in _checklist_lines(record, "follow_up"):
        section = stored.record
        assert isinstance(section, DocumentSection)
        due = f"; due {item.due.isoformat()}" if item.due else ""
        why = f" ({item.evidence[1]})" if item.due and len(item.evidence) > 1 else ""
        text = (
            f'The {section.document_title or "discharge summary"} ({section.title}) names: "{line["quote"]}"{due}{why}.'
        )
        citation = cite_span(stored, line["start"], line["end"], line["quote"], line.get("chunk_id"))
        facts.append(Fact(text, [citation], section.document_date))
    for stored in record.everything:
        enc = stored.record
        if not isinstance(enc, Encounter):
            continue
        day = as_date(enc.start)
        later = day is not None and day > record.as_of
        planned = enc.status in ("planned", "booked") and (day is None or day >= record.as_of)
        if enc.status in ("cancelled", "entered-in-error") or not (later or planned):
            continue
        where = f" at {enc.facility}" if enc.facility else ""
        text = f"A {enc.encounter_class} encounter is booked for {_day(enc.start)}{where} (status {enc.status})."
        facts.append(Fact(text, [cite_fields(stored, ["encounter_class", "start", "facility", "status"])], enc.start))
    return Found(facts, None if facts else "no follow-up named in a discharge summary and no booked visit")


def allergy_facts(record: PatientRecord, question: RecordQuestion) -> Found:
    def is_allergies(section: DocumentSection) -> bool:
        return section.loinc in ALLERGY_LOINC or "allerg" in (section.title or "").lower()

    merged = _merge(_section_lines(record, is_allergies))
    return Found(merged, None if merged else "no allergies section is in the record")
