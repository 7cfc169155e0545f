"""Documentation checklists: for a workflow whose documentation a payer audits, what must be in the record and
whether it is there.

Kinds:
- ``tcm``: for one discharge, the discharge date, setting and facility; the date and mode of the interactive
  contact; the face-to-face visit date; the medical decision making level; medication reconciliation by the visit;
  the discharge summary received (knowledge/tcm.md, "What to document for TCM").
- ``awv``: the Annual Wellness Visit elements knowledge/annual-wellness-visit.md lists (advance care planning is
  optional there, so not required here), read around the latest AWV (G0438/G0439) in the 12 months before the
  as-of date, or over those 12 months when none was billed.
- ``ccm``: Chronic Care Management (knowledge/chronic-care-management.md): two or more chronic conditions, the
  documented consent, the comprehensive care plan and a copy given to the patient, the initiating visit, and 20
  minutes of logged clinical staff time in the as-of date's calendar month.
- ``cara_referral``: what a CARA Preferred Provider receives with a referral. The knowledge base says CARA shares
  episode data with Preferred Providers but names no CMS-defined package, so the elements are the episode CARA
  shares and the usual referral content (identity and coverage, reason, problems, medications, allergies, results,
  the PCP, a continuity-of-care document); the checklist says so.

Each element is an item (``assistant.transitions.item``) whose status is ``present``, with the record that shows it
cited (the line of a note, the coded entry, the claim), or ``missing``, with what would satisfy it; every element
cites the knowledge sentence that requires it. Read only: the service layer checks access and writes the audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from assistant.records.model import (
    Claim,
    Condition,
    Coverage,
    DocumentSection,
    Encounter,
    Medication,
    Observation,
    Order,
    Practitioner,
    Procedure,
)
from assistant.records.store import PatientRow
from assistant.transitions import knowledge as k
from assistant.transitions import reconciliation, tcm
from assistant.transitions.episodes import Episode
from assistant.transitions.item import MISSING, PRESENT, Item
from assistant.transitions.knowledge import KnowledgeCites, Sentence
from assistant.transitions.sources import PatientChunks, StoredRecord, record_citation
from assistant.transitions.stay import Stay
from assistant.transitions.text_lines import as_date, lines

KINDS = ("tcm", "awv", "ccm", "cara_referral")
AWV_CODES = {"G0438", "G0439"}
LOOKBACK_DAYS = 365
AWV_WINDOW_DAYS = 30  # an HRA filled in before the visit still belongs to it

AWV_FIRST_HRA: Sentence = (
    "annual-wellness-visit",
    "The first Annual Wellness Visit element is to perform a health risk assessment (HRA).",
)
AWV_HISTORY: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires documenting the patient's medical history and family history.",
)
AWV_PROVIDERS: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires a list of the patient's current "
    "providers and suppliers, including behavioral health providers.",
)
AWV_VITALS: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires measuring vital signs, including "
    "height, weight, body mass index (BMI) and blood pressure.",
)
AWV_COGNITION: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires detection of any cognitive impairment.",
)
AWV_DEPRESSION: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires a review of risk factors for depression using a standardized screening tool.",
)
AWV_FUNCTION: Sentence = (
    "annual-wellness-visit",
    "The AWV functional ability and safety review covers activities of "
    "daily living (ADLs), fall risk, hearing and home safety.",
)
AWV_SCHEDULE: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires a written screening schedule for the patient covering the next 5 to 10 years.",
)
AWV_RISKS: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit requires a list of the patient's risk factors and conditions.",
)
AWV_ADVICE: Sentence = (
    "annual-wellness-visit",
    "The Annual Wellness Visit includes personalized health advice and "
    "referrals, according to common summaries of the CMS elements.",
)
AWV_ACP: Sentence = (
    "annual-wellness-visit",
    "Advance care planning is an optional part of the Annual Wellness Visit, "
    "according to common summaries of the CMS elements.",
)
AWV_BILLING: Sentence = (
    "annual-wellness-visit",
    "Repeat, or subsequent, Medicare Annual Wellness Visits are billed with HCPCS code G0439.",
)
CCM_ELIGIBLE: Sentence = (
    "chronic-care-management",
    "A patient qualifies for Chronic Care Management (CCM) with two or "
    "more chronic conditions expected to last at least 12 months or "
    "until death.",
)
CCM_CONSENT: Sentence = (
    "chronic-care-management",
    "The practice must document the patient's CCM consent, whether the "
    "patient accepted or declined, in the medical record.",
)
CCM_PLAN: Sentence = (
    "chronic-care-management",
    "Chronic Care Management requires a comprehensive care plan that is "
    "established, implemented, revised or monitored.",
)
CCM_PLAN_COPY: Sentence = (
    "chronic-care-management",
    "The practice must give the patient or caregiver a copy of the CCM care plan.",
)
CCM_TIME: Sentence = (
    "chronic-care-management",
    "Chronic Care Management code 99490 requires at least 20 minutes of clinical staff time in a calendar month.",
)
CCM_START: Sentence = (
    "chronic-care-management",
    "The visit that starts Chronic Care Management for a new patient must "
    "be an Annual Wellness Visit, an Initial Preventive Physical Exam "
    "(IPPE) or a face-to-face E/M visit.",
)
CCM_DOCUMENTS: Sentence = (
    "chronic-care-management",
    "CCM care transition work includes the timely exchange of continuity-of-care documents with other providers.",
)
CCM_REFERRALS: Sentence = (
    "chronic-care-management",
    "CCM care transition work includes managing referrals to other clinicians.",
)
CARA_SHARES: Sentence = (
    "cara",
    "CARA shares episode data with ACOs and their Preferred Providers in episode-based risk arrangements.",
)
CARA_TEMPLATES: Sentence = (
    "cara",
    "CARA exports episode information into common contracting templates that ACOs and specialists can use.",
)
CARA_PREFERRED: Sentence = (
    "cara",
    "LEAD Preferred Providers, who join at the TIN-NPI level, are eligible for CARA, according to Wakely and NAACOS.",
)

CCM_CODES = {"99490", "99439", "99487", "99489", "99491", "99437"}
EM_CODES = {*(str(c) for c in range(99202, 99216)), *(str(c) for c in range(99341, 99351)), "G0402", *AWV_CODES}
CHRONIC_ICD10 = ("E08", "E09", "E10", "E11", "E13", "E66", "E78", "I10", "I11", "I12", "I13", "I20", "I25", "I48",
                 "I50", "J44", "J45", "N18", "F01", "F03", "F32", "F33", "G20", "G30", "M05", "M06", "M15", "M16",
                 "M17", "M81", "C")  # fmt: skip
CHRONIC_WORDS = re.compile(
    r"\b(diabet\w*|hypertension|heart failure|chf|copd|chronic obstructive|asthma|chronic kidney|"
    r"ckd|atrial fibrillation|coronary|dementia|alzheimer|depression|parkinson|osteoarthritis|"
    r"rheumatoid|osteoporosis|hyperlipid\w*|obesity|cancer|neoplasm)\b",
    re.IGNORECASE,
)
MINUTES = re.compile(r"\b(\d{1,3})\s*(?:min|mins|minutes)\b", re.IGNORECASE)


@dataclass
class DocumentationChecklist:
    patient_id: str
    kind: str
    as_of: date
    items: list[Item]
    episode: Episode | None = None
    anchor: dict[str, Any] | None = None  # the visit or month the elements were read around
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        present = sum(1 for i in self.items if i.status == PRESENT)
        return {
            "patient_id": self.patient_id, "episode_id": self.episode.id if self.episode else None,
            "encounter_id": self.episode.encounter_id if self.episode else None,
            "discharge_date": self.episode.discharge_date.isoformat() if self.episode else None,
            "kind": self.kind, "as_of": self.as_of.isoformat(), "anchor": self.anchor,
            "items": [i.to_dict() for i in self.items], "present": present, "missing_count": len(self.items) - present,
            "complete": all(i.status == PRESENT for i in self.items if i.required), "notes": self.notes,
        }  # fmt: skip


@dataclass(frozen=True)
class Found:
    """One record that shows an element, with the words that describe it."""

    description: str
    citation: dict[str, Any]
    day: date | None


class Reader:
    """The patient's records as the element finders search them: by code, by words in a note, by date."""

    def __init__(self, engine: Engine, records: list[StoredRecord], cite: KnowledgeCites, patient_id: str) -> None:
        self.engine = engine
        self.records = records
        self.cite = cite
        self.chunks = PatientChunks(engine, patient_id)

    def of_kind(self, kind: type) -> list[StoredRecord]:
        return [s for s in self.records if isinstance(s.record, kind)]

    @staticmethod
    def day(stored: StoredRecord) -> date | None:
        record = stored.record
        for name in ("performed", "effective", "start", "from_date", "document_date", "authored_on", "onset"):
            value = as_date(getattr(record, name, None))
            if value is not None:
                return value
        return None

    def codes(self, wanted: set[str], start: date | None, end: date) -> list[Found]:
        found = []
        for stored in self.records:
            record = stored.record
            day = self.day(stored)
            if day is not None and (day > end or (start is not None and day < start)):
                continue
            if isinstance(record, Claim):
                codes = {c.code for c in record.procedures}
            elif isinstance(record, Encounter):
                codes = {c.code for c in ([record.type] if record.type else []) + list(record.types)}
            elif isinstance(record, Observation | Procedure | Condition):
                codes = {record.code.code, *(c.code for c in record.codes)}
            else:
                continue
            hit = sorted(codes & wanted)
            if hit:
                what = getattr(getattr(record, "code", None), "display", None) or ", ".join(hit)
                found.append(
                    Found(
                        f"{record.kind} {what} ({', '.join(hit)})" + (f" on {day.isoformat()}" if day else ""),
                        record_citation(stored),
                        day,
                    )
                )
        return found

    def words(
        self, pattern: re.Pattern[str], start: date | None, end: date, loincs: set[str] | None = None
    ) -> list[Found]:
        """Lines of notes and document sections dated in the window whose text matches ``pattern``."""
        found = []
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            day = as_date(section.document_date)
            if day is not None and (day > end or (start is not None and day < start)):
                continue
            if loincs is not None and section.loinc not in loincs:
                continue
            for line in lines(section.text, section.provenance.start or 0):
                if pattern.search(line.text):
                    citation = record_citation(
                        stored,
                        line.start,
                        line.end,
                        quote=line.text,
                        chunk_id=self.chunks.at(stored, line.start, line.end),
                    )
                    found.append(
                        Found(
                            f'"{line.text[:160]}" ({section.document_title or section.title}'
                            + (f", {day.isoformat()})" if day else ")"),
                            citation,
                            day,
                        )
                    )
                    break
        return found

    def sections(self, loincs: set[str], start: date | None, end: date) -> list[Found]:
        found = []
        for stored in self.of_kind(DocumentSection):
            section = stored.record
            assert isinstance(section, DocumentSection)
            day = as_date(section.document_date)
            if section.loinc in loincs and (day is None or ((start is None or day >= start) and day <= end)):
                found.append(
                    Found(
                        f"section '{section.title}' of {section.document_title or 'a document'}"
                        + (f" ({day.isoformat()})" if day else ""),
                        record_citation(stored),
                        day,
                    )
                )
        return found


def element(
    reader: Reader,
    item_id: str,
    label: str,
    found: list[Found],
    sentences: tuple[Sentence, ...],
    missing_text: str,
    required: bool = True,
    owner: str = "care_manager",
) -> Item:
    cites = [reader.cite(s) for s in sentences]
    if found:
        return Item(
            item_id,
            "documentation",
            f"{label}: present.",
            None,
            owner,
            required,
            PRESENT,
            [f.description for f in found[:4]],
            [*[f.citation for f in found[:4]], *cites],
        )
    return Item(
        item_id, "documentation", f"{label}: missing. {missing_text}", None, owner, required, MISSING, [], cites
    )


# -- TCM ---------------------------------------------------------------------------------------------------------


def tcm_elements(stay: Stay, reader: Reader) -> list[Item]:
    episode = stay.episode
    where = tcm.setting(stay)
    items = [
        element(
            reader,
            "tcm-doc-discharge-date",
            f"Discharge date ({episode.discharge_date.isoformat()})",
            [
                Found(
                    f"discharge on {episode.discharge_date.isoformat()} ({s.get('event', 'discharge')})",
                    s,
                    episode.discharge_date,
                )
                for s in episode.sources[:2]
            ],
            (k.TCM_DOC_DISCHARGE,),
            "",
        )
    ]
    setting_found = (
        [
            Found(
                f"discharge setting '{episode.disposition}', facility '{episode.facility}'",
                episode.sources[0],
                episode.discharge_date,
            )
        ]
        if episode.disposition and episode.facility and episode.sources
        else []
    )
    lacking = [
        name
        for name, value in (("discharge setting", episode.disposition), ("facility name", episode.facility))
        if not value
    ]
    items.append(
        element(
            reader,
            "tcm-doc-discharge-setting",
            "Discharge setting and facility name",
            setting_found,
            (k.TCM_DOC_DISCHARGE, k.TCM_COMMUNITY),
            f"The record lacks the {' and the '.join(lacking)}: ask the hospital and document it.",
        )
    )
    contacts = sorted([*stay.calls, *[v for v in stay.visits if v.day <= stay.as_of]], key=lambda c: c.day)
    contact_found = [
        Found(f"{c.description}; mode: {_mode(c)}", record_citation(c.stored), c.day) for c in contacts[:1]
    ]
    items.append(
        element(
            reader,
            "tcm-doc-contact",
            "Date and mode of the interactive contact",
            contact_found,
            (k.TCM_DOC_CONTACT, k.TCM_DOC_CONTACT_CONTENT, k.TCM_CONTACT_MODES),
            "No call note or visit after discharge is in the record: document the date, time, mode (phone, "
            "in person, electronic), who made the contact and what it covered.",
        )
    )
    held = [v for v in stay.visits if v.day <= stay.as_of]
    visit_found = [Found(held[0].description, record_citation(held[0].stored), held[0].day)] if held else []
    items.append(
        element(
            reader,
            "tcm-doc-visit",
            "Date of the face-to-face visit",
            visit_found,
            (k.TCM_DOC_VISIT, k.TCM_DATE_OF_SERVICE),
            "No face-to-face visit after discharge is in the record yet: document its date and the "
            "practitioner who performed it.",
            owner="clinician",
        )
    )
    mdm = reader.codes({"99495", "99496"}, stay.discharged, stay.as_of) + reader.words(
        re.compile(r"medical decision[- ]making|\bMDM\b", re.IGNORECASE), stay.discharged, stay.as_of
    )
    items.append(
        element(
            reader,
            "tcm-doc-mdm",
            "Medical decision making complexity, with its rationale",
            mdm,
            (k.TCM_DOC_MDM, k.TCM_HIGH, k.TCM_MODERATE),
            "Neither a TCM code (99495 moderate, 99496 high) nor a medical decision making statement is in the record.",
            owner="clinician",
        )
    )
    reconciled = reconciliation.reconciled(stay)
    visit_day = held[0].day if held else None
    rec_found: list[Found] = []
    rec_missing = (
        "No medication reconciliation (CPT II 1111F or a reconciliation note) after discharge is in the record."
    )
    if reconciled is not None:
        rec_day = reconciliation.reconciled_on(stay)
        if visit_day is None or (rec_day is not None and rec_day <= visit_day):
            rec_found = [Found(reconciled[1], record_citation(reconciled[0]), rec_day)]
        else:
            rec_missing = (
                f"The reconciliation on {rec_day} is after the face-to-face visit on {visit_day}: it must be "
                "done no later than the visit."
            )
    items.append(
        element(
            reader,
            "tcm-doc-med-rec",
            "Medication reconciliation by the face-to-face date",
            rec_found,
            (k.TCM_DOC_MED_REC, k.TCM_MED_REC),
            rec_missing,
            owner="clinician",
        )
    )
    summary = [
        Found(
            f"discharge summary {s.record.document_title or ''} received".strip(),
            record_citation(s),  # type: ignore[union-attr]
            as_date(s.record.document_date),
        )
        for s in stay.summary_sections[:1]
    ]  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "tcm-doc-summary",
            "Discharge summary received (and a note that it was reviewed)",
            summary,
            (k.TCM_DOC_SUMMARY,),
            "No discharge summary for this stay is in the record: request it from the hospital.",
        )
    )
    if where.tcm_applies is False:
        for item in items:
            item.evidence.append(f"{where.explanation}: TCM documentation may not be needed for this discharge")
    return items


def _mode(event: Any) -> str:
    record = event.stored.record
    if isinstance(record, Encounter):
        return {"virtual": "video", "home": "in person (home)", "office": "in person"}.get(
            record.encounter_class, record.encounter_class
        )
    if isinstance(record, DocumentSection) and re.search(
        r"phone|telephone|call", f"{record.document_title} {record.title} {record.text[:300]}", re.IGNORECASE
    ):
        return "telephone"
    return "not stated in the note"


# -- AWV ---------------------------------------------------------------------------------------------------------

_AWV_WORDS = {
    "awv-hra": re.compile(r"health risk assessment|\bHRA\b", re.IGNORECASE),
    "awv-history": re.compile(r"past medical history|family history|medical history", re.IGNORECASE),
    "awv-providers": re.compile(
        r"current providers|providers and suppliers|care team|specialists? seen", re.IGNORECASE
    ),
    "awv-cognition": re.compile(r"cognit\w*|mini-?cog|\bmoca\b|\bslums\b|memory (?:screen|assessment)", re.IGNORECASE),
    "awv-depression": re.compile(
        r"\bphq-?[29]\b|depression screen\w*|geriatric depression scale|\bgds\b", re.IGNORECASE
    ),
    "awv-function": re.compile(
        r"activities of daily living|\badls?\b|fall risk|falls? screen\w*|hearing|home safety|"
        r"functional (?:ability|status)|steadi",
        re.IGNORECASE,
    ),
    "awv-schedule": re.compile(
        r"screening schedule|prevention plan|preventive (?:services )?schedule|"
        r"personali[sz]ed prevention",
        re.IGNORECASE,
    ),
    "awv-advice": re.compile(r"\b(advice|advised|counsel\w*|referr\w*|education provided)\b", re.IGNORECASE),
    "awv-acp": re.compile(
        r"advance (?:care plan\w*|directive)|\bpolst\b|\bmolst\b|living will|health care proxy", re.IGNORECASE
    ),
}
_AWV_CODES = {
    "awv-hra": set(),
    "awv-history": set(),
    "awv-providers": set(),
    "awv-cognition": {"72107-6", "72172-0", "72233-0", "99483"},
    "awv-depression": {"55757-9", "73831-0", "44249-1", "44261-6", "G0444", "3725F"},
    "awv-function": {"1100F", "1101F", "3288F", "52552-7", "73830-2"},
    "awv-schedule": set(),
    "awv-advice": set(),
    "awv-acp": {"99497", "1123F", "1124F", "75320-2"},
}
_VITALS = {
    "height": {"8302-2"},
    "weight": {"29463-7", "3141-9"},
    "BMI": {"39156-5"},
    "blood pressure": {"85354-9", "8480-6", "55284-4"},
}


def awv_elements(reader: Reader, as_of: date) -> tuple[list[Item], dict[str, Any] | None]:
    since = as_of - timedelta(days=LOOKBACK_DAYS)
    visits = sorted(reader.codes(AWV_CODES, since, as_of), key=lambda f: f.day or date.min)
    anchor = None
    start, end = since, as_of
    if visits and visits[-1].day is not None:
        day = visits[-1].day
        start, end = day - timedelta(days=AWV_WINDOW_DAYS), day + timedelta(days=1)
        anchor = {"type": "awv", "date": day.isoformat(), "citation": visits[-1].citation}
    items = [
        element(
            reader,
            "awv-visit",
            "Annual Wellness Visit billed (G0438 first, G0439 subsequent) in the last 12 months",
            visits[-1:],
            (AWV_BILLING,),
            "No G0438 or G0439 in the 12 months before "
            f"{as_of.isoformat()}: the elements below are read over those 12 months.",
        )
    ]

    def one(item_id: str, label: str, sentence: Sentence, missing: str, required: bool = True) -> Item:
        found = reader.codes(_AWV_CODES[item_id], start, end) + reader.words(_AWV_WORDS[item_id], start, end)
        return element(reader, item_id, label, found, (sentence,), missing, required)

    items.append(
        one(
            "awv-hra",
            "Health risk assessment (HRA)",
            AWV_FIRST_HRA,
            "No health risk assessment is documented around the visit.",
        )
    )
    history = reader.sections({"11348-0", "10157-6"}, start, end) + reader.words(_AWV_WORDS["awv-history"], start, end)
    items.append(
        element(
            reader,
            "awv-history",
            "Medical and family history",
            history,
            (AWV_HISTORY,),
            "No past medical history or family history section is documented around the visit.",
        )
    )
    providers = (
        reader.words(_AWV_WORDS["awv-providers"], start, end)
        + [
            Found(f"practitioner {s.record.name or s.record.npi} ({s.record.role})", record_citation(s), None)  # type: ignore[union-attr]
            for s in reader.of_kind(Practitioner)[:3]
        ]
    )
    items.append(
        element(
            reader,
            "awv-providers",
            "List of current providers and suppliers",
            providers,
            (AWV_PROVIDERS,),
            "No list of the patient's providers and suppliers is in the record.",
        )
    )
    vitals: list[Found] = []
    absent = []
    for name, codes in _VITALS.items():
        hit = reader.codes(codes, start, end)
        if hit:
            vitals.append(hit[-1])
        else:
            absent.append(name)
    items.append(
        element(
            reader,
            "awv-vitals",
            "Vital signs: height, weight, BMI and blood pressure",
            vitals if not absent else [],
            (AWV_VITALS,),
            f"Not recorded around the visit: {', '.join(absent)}."
            + (f" Recorded: {'; '.join(v.description for v in vitals)}." if vitals else ""),
        )
    )
    items.append(
        one(
            "awv-cognition",
            "Detection of cognitive impairment",
            AWV_COGNITION,
            "No cognitive assessment (direct observation, Mini-Cog, MoCA or a report from family) is documented.",
        )
    )
    items.append(
        one(
            "awv-depression",
            "Depression risk review with a standardized tool",
            AWV_DEPRESSION,
            "No standardized depression screening (PHQ-2, PHQ-9 or similar) is documented.",
        )
    )
    items.append(
        one(
            "awv-function",
            "Functional ability and safety (ADLs, fall risk, hearing, home safety)",
            AWV_FUNCTION,
            "No review of activities of daily living, fall risk, hearing or home safety is documented.",
        )
    )
    items.append(
        one(
            "awv-schedule",
            "Written screening schedule for the next 5 to 10 years",
            AWV_SCHEDULE,
            "No written screening schedule is documented.",
        )
    )
    risks = (
        reader.sections({"11450-4"}, start, end)
        or [
            Found(f"condition {s.record.code.display or s.record.code.code}", record_citation(s), None)  # type: ignore[union-attr]
            for s in reader.of_kind(Condition)[:3]
        ]
    )
    items.append(
        element(
            reader,
            "awv-risks",
            "List of risk factors and conditions",
            risks,
            (AWV_RISKS,),
            "No problem list or list of risk factors is in the record.",
        )
    )
    items.append(
        one(
            "awv-advice",
            "Personalized health advice and referrals",
            AWV_ADVICE,
            "No personalized advice, counseling or referral is documented around the visit.",
        )
    )
    items.append(
        one(
            "awv-acp",
            "Advance care planning (optional)",
            AWV_ACP,
            "No advance care planning is documented (optional for the AWV).",
            required=False,
        )
    )
    return items, anchor


# -- CCM ---------------------------------------------------------------------------------------------------------


def ccm_elements(reader: Reader, as_of: date) -> tuple[list[Item], dict[str, Any]]:
    month_start = as_of.replace(day=1)
    since = as_of - timedelta(days=LOOKBACK_DAYS)
    chronic: dict[str, Found] = {}
    for stored in reader.of_kind(Condition):
        cond = stored.record
        assert isinstance(cond, Condition)
        if cond.clinical_status not in (None, "active", "recurrence", "relapse"):
            continue
        code = cond.code.code.upper().replace(".", "")
        name = cond.code.display or cond.code.code
        if (cond.code.system == "icd10" and code.startswith(CHRONIC_ICD10)) or CHRONIC_WORDS.search(name):
            chronic.setdefault(name.lower(), Found(f"chronic condition: {name}", record_citation(stored), cond.onset))
    items = [
        element(
            reader,
            "ccm-eligibility",
            "Two or more chronic conditions",
            list(chronic.values()) if len(chronic) >= 2 else [],
            (CCM_ELIGIBLE,),
            f"The record shows {len(chronic)} chronic condition(s)"
            + (f" ({', '.join(f.description.split(': ', 1)[1] for f in chronic.values())})" if chronic else "")
            + "; CCM needs two or more.",
        )
    ]
    consent = reader.words(
        re.compile(
            r"(consent\w*|agreed|declined).{0,80}(chronic care management|\bccm\b)|"
            r"(chronic care management|\bccm\b).{0,80}(consent\w*|agreed|declined)",
            re.IGNORECASE,
        ),
        None,
        as_of,
    )
    items.append(
        element(
            reader,
            "ccm-consent",
            "Documented CCM consent (accepted or declined)",
            consent,
            (CCM_CONSENT,),
            "No note records that CCM and its cost-sharing were explained and the patient accepted or declined.",
        )
    )
    plans = [
        Found(
            f"care plan document {s.record.document_title or ''} ({as_date(s.record.document_date)})",  # type: ignore[union-attr]
            record_citation(s),
            as_date(s.record.document_date),
        )  # type: ignore[union-attr]
        for s in reader.of_kind(DocumentSection)
        if s.record.document_type == "care_plan"
    ][:1]  # type: ignore[union-attr]
    plans = plans or reader.words(
        re.compile(
            r"comprehensive care plan|care plan (?:established|reviewed|updated|"
            r"revised)",
            re.IGNORECASE,
        ),
        since,
        as_of,
    )
    items.append(
        element(
            reader,
            "ccm-care-plan",
            "Comprehensive care plan (established, revised or monitored)",
            plans,
            (CCM_PLAN,),
            "No comprehensive care plan from the last 12 months is in the record.",
        )
    )
    copy = reader.words(
        re.compile(
            r"(copy of|gave|given|provided|sent|mailed).{0,40}care plan|care plan.{0,40}"
            r"(given|provided|sent|mailed) to",
            re.IGNORECASE,
        ),
        since,
        as_of,
    )
    items.append(
        element(
            reader,
            "ccm-care-plan-copy",
            "A copy of the care plan given to the patient or caregiver",
            copy,
            (CCM_PLAN_COPY,),
            "No note says the patient or caregiver received a copy of the care plan.",
        )
    )
    start_visit = reader.codes(EM_CODES, since, as_of) + [
        Found(
            f"{s.record.encounter_class} visit on {as_date(s.record.start)}",
            record_citation(s),  # type: ignore[union-attr]
            as_date(s.record.start),
        )
        for s in reader.of_kind(Encounter)  # type: ignore[union-attr]
        if s.record.encounter_class in ("office", "home", "virtual")
        and as_date(s.record.start) is not None  # type: ignore[union-attr]
        and since <= as_date(s.record.start) <= as_of
    ]  # type: ignore[union-attr,operator]
    items.append(
        element(
            reader,
            "ccm-initiating-visit",
            "Initiating visit (AWV, IPPE or face-to-face E/M) in the last 12 months",
            start_visit[:1],
            (CCM_START,),
            "No AWV, IPPE or face-to-face E/M visit in the 12 months before: a new CCM patient needs one to start.",
            owner="clinician",
        )
    )
    logs, minutes = _time_logs(reader, month_start, as_of)
    billed = reader.codes(CCM_CODES, month_start, as_of)
    month = month_start.strftime("%B %Y")
    items.append(
        element(
            reader,
            "ccm-time",
            f"At least 20 minutes of clinical staff time logged in {month}",
            (logs if minutes >= 20 else []) + billed,
            (CCM_TIME,),
            f"{minutes} minute(s) logged in {month} so far"
            + (f" ({'; '.join(f.description for f in logs)})" if logs else "")
            + "; 99490 needs 20.",
        )
    )
    return items, {"type": "month", "month": month_start.isoformat()[:7], "minutes_logged": minutes}


def _time_logs(reader: Reader, start: date, end: date) -> tuple[list[Found], int]:
    found, total = [], 0
    for stored in reader.of_kind(DocumentSection):
        section = stored.record
        assert isinstance(section, DocumentSection)
        day = as_date(section.document_date)
        if day is None or not start <= day <= end:
            continue
        for line in lines(section.text, section.provenance.start or 0):
            match = MINUTES.search(line.text)
            if match and re.search(r"\b(time|spent|ccm|care management|call|minutes? of)\b", line.text, re.IGNORECASE):
                total += int(match.group(1))
                found.append(
                    Found(
                        f'{match.group(0)} on {day.isoformat()}: "{line.text[:120]}"',
                        record_citation(stored, line.start, line.end, quote=line.text),
                        day,
                    )
                )
                break
    return found, total


# -- CARA referral package ---------------------------------------------------------------------------------------


def cara_elements(reader: Reader, patient: PatientRow, as_of: date, episode: Episode | None) -> list[Item]:
    since = as_of - timedelta(days=LOOKBACK_DAYS)
    mbi = (
        [Found(f"MBI {patient.mbi}", {"type": "patient", "patient_id": patient.id, "identifier": "mbi"}, None)]
        if patient.mbi
        else []
    )
    items = [
        element(
            reader,
            "cara-identity",
            "Beneficiary identity with the MBI (what CARA matches episodes on)",
            mbi,
            (CARA_SHARES,),
            "The patient has no MBI on file: the Preferred Provider cannot match the episode.",
        )
    ]
    medicare = [
        Found(f"{s.record.payer} coverage", record_citation(s), None)
        for s in reader.of_kind(Coverage)  # type: ignore[union-attr]
        if s.record.payer in ("medicare", "medicare_advantage")  # type: ignore[union-attr]
        and (s.record.end is None or s.record.end >= as_of)
    ]  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "cara-coverage",
            "Active Medicare coverage",
            medicare,
            (CARA_SHARES,),
            "No active Medicare coverage is on file.",
        )
    )
    episode_found = (
        [
            Found(
                f"discharge on {episode.discharge_date.isoformat()}"
                + (f" from {episode.facility}" if episode.facility else ""),
                episode.sources[0],
                episode.discharge_date,
            )
        ]
        if episode and episode.sources
        else []
    )
    items.append(
        element(
            reader,
            "cara-episode",
            "The episode: the triggering stay or procedure with its dates",
            episode_found,
            (CARA_SHARES, CARA_TEMPLATES),
            "No discharge episode is in the record: name the procedure or stay that opens the CARA episode.",
        )
    )
    reason = reader.sections({"42349-1"}, since, as_of) + [
        Found(
            f"referral order {s.record.code.display or s.record.code.code}",
            record_citation(s),  # type: ignore[union-attr]
            as_date(s.record.authored_on),
        )
        for s in reader.of_kind(Order)  # type: ignore[union-attr]
        if s.record.resource_type == "ServiceRequest" and s.record.status not in ("revoked", "entered-in-error")
    ]  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "cara-reason",
            "Reason for referral",
            reason,
            (CCM_REFERRALS,),
            "No reason for referral (a Reason for Referral section or a ServiceRequest) is in the record.",
        )
    )
    problems = (
        reader.sections({"11450-4"}, None, as_of)
        or [
            Found(f"condition {s.record.code.display or s.record.code.code}", record_citation(s), None)  # type: ignore[union-attr]
            for s in reader.of_kind(Condition)[:3]
        ]
    )
    items.append(
        element(reader, "cara-problems", "Problem list", problems, (CARA_SHARES,), "No problem list is in the record.")
    )
    medications = (
        reader.sections({"10160-0", "10183-2", "75311-1"}, since, as_of)
        or [
            Found(f"medication {s.record.code.display or s.record.code.code}", record_citation(s), None)  # type: ignore[union-attr]
            for s in reader.of_kind(Medication)
            if (s.record.status or "active") == "active"
        ][:3]
    )  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "cara-medications",
            "Current medication list",
            medications,
            (CARA_SHARES,),
            "No current medication list is in the record.",
        )
    )
    allergies = reader.sections({"48765-2"}, None, as_of)
    items.append(
        element(
            reader,
            "cara-allergies",
            "Allergies and adverse reactions",
            allergies,
            (CARA_SHARES,),
            "No allergy list is in the record.",
        )
    )
    results = (
        reader.sections({"30954-2", "11493-4"}, since, as_of)
        or [
            Found(f"result {s.record.code.display or s.record.code.code}", record_citation(s), Reader.day(s))  # type: ignore[union-attr]
            for s in reader.of_kind(Observation)
            if (Reader.day(s) or date.min) >= since
        ][-3:]
    )
    items.append(
        element(
            reader,
            "cara-results",
            "Recent results (last 12 months)",
            results,
            (CARA_SHARES,),
            "No results from the last 12 months are in the record.",
        )
    )
    pcp = [
        Found(f"{s.record.name or s.record.npi} ({s.record.role})", record_citation(s), None)  # type: ignore[union-attr]
        for s in reader.of_kind(Practitioner)
        if s.record.role == "pcp"
    ][:1]  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "cara-pcp",
            "The referring PCP and care team contact",
            pcp,
            (CARA_PREFERRED,),
            "No primary care practitioner is named in the record.",
        )
    )
    documents = [
        Found(
            f"{s.record.document_type.replace('_', ' ')} {s.record.document_title or ''}".strip(),  # type: ignore[union-attr]
            record_citation(s),
            as_date(s.record.document_date),
        )
        for s in reader.of_kind(DocumentSection)  # type: ignore[union-attr]
        if s.record.document_type in ("ccd", "discharge_summary", "referral", "transfer_summary")
    ][:1]  # type: ignore[union-attr]
    items.append(
        element(
            reader,
            "cara-document",
            "A continuity-of-care document to send (CCD, discharge summary or referral note)",
            documents,
            (CCM_DOCUMENTS,),
            "No C-CDA continuity-of-care document is in the record to send.",
        )
    )
    return items


CARA_NOTE = (
    "The knowledge base names no CMS-defined CARA referral package: these elements are the episode data CARA "
    "shares with Preferred Providers and the usual referral content. The Preferred Provider (TIN-NPI) comes "
    "from the ACO's CARA arrangement, not from the record."
)


def build_documentation(
    engine: Engine,
    patient: PatientRow,
    kind: str,
    as_of: date,
    episode: Episode | None,
    history: list[Episode],
    records: list[StoredRecord],
    cite: KnowledgeCites | None = None,
) -> DocumentationChecklist:
    """The documentation checklist of ``kind``; ``episode`` is the discharge (required for ``tcm``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    cite = cite or KnowledgeCites(engine)
    dated = [s for s in records if (Reader.day(s) or date.min) <= as_of]  # documentation as it stood on as_of
    reader = Reader(engine, dated, cite, patient.id)
    if kind == "tcm":
        if episode is None:
            raise ValueError("a TCM documentation checklist needs a discharge")
        stay = Stay(engine, episode, as_of, history, records, cite, patient)
        return DocumentationChecklist(
            patient.id,
            kind,
            as_of,
            tcm_elements(stay, reader),
            episode,
            {"type": "discharge", "date": episode.discharge_date.isoformat()},
        )
    if kind == "awv":
        items, anchor = awv_elements(reader, as_of)
        return DocumentationChecklist(patient.id, kind, as_of, items, None, anchor)
    if kind == "ccm":
        items, anchor = ccm_elements(reader, as_of)
        return DocumentationChecklist(patient.id, kind, as_of, items, None, anchor)
    return DocumentationChecklist(
        patient.id, kind, as_of, cara_elements(reader, patient, as_of, episode), episode, None, [CARA_NOTE]
    )
