"""The knowledge sentences transition items rest on, and the citations that open them.

Each constant is ``(document id, sentence)``, copied exactly from ``knowledge/<document id>.md``. A citation is
the sentence's span in the indexed chunk of that document, in the ask contract's shape (doc_id, section, start,
end, sha256, quote, source_uri, chunk_id), found by ``assistant.guidance.citations.knowledge_span``: the same
function the guidance rules cite with, so a checklist item and a guidance item that rest on the same sentence
open the same span. A sentence missing from the index raises ``MissingKnowledge`` (a 503 naming the fix): an
item is never shown without the protocol text it rests on.

``KnowledgeCites`` remembers what it found for one request (a checklist cites the same sentences many times, a
worklist refresh the same sentences for thousands of episodes).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.guidance.citations import knowledge_span
from assistant.index.tables import ChunkRow

Sentence = tuple[str, str]

# Transitional Care Management (knowledge/tcm.md)
TCM_CONTACT: Sentence = (
    "tcm",
    "The Transitional Care Management (TCM) deadline to reach the patient or caregiver "
    "with an interactive contact is 2 business days after discharge.",
)
TCM_BUSINESS_DAYS: Sentence = (
    "tcm",
    "For TCM, business days means Monday through Friday excluding holidays, "
    "regardless of the practice's own office hours.",
)
TCM_CONTACT_MODES: Sentence = (
    "tcm",
    "The TCM interactive contact within 2 business days of discharge may be made in "
    "person, by telephone or by electronic communication, according to Noridian, a "
    "Medicare contractor.",
)
TCM_CONTACT_REAL: Sentence = (
    "tcm",
    "The TCM interactive contact must allow a real discussion of the patient's status "
    "and needs, not only appointment scheduling.",
)
TCM_HIGH: Sentence = (
    "tcm",
    "Transitional Care Management code 99496 requires high-complexity medical decision making "
    "and a face-to-face visit within 7 calendar days of discharge.",
)
TCM_MODERATE: Sentence = (
    "tcm",
    "Transitional Care Management code 99495 requires at least moderate-complexity medical "
    "decision making and a face-to-face visit within 14 days of discharge.",
)
TCM_PERIOD: Sentence = (
    "tcm",
    "The Transitional Care Management service period lasts 30 days and starts on the day of "
    "discharge, according to RVUDoc.",
)
TCM_DATE_OF_SERVICE: Sentence = (
    "tcm",
    "The date of service for a TCM claim is the date of the face-to-face visit, according to RVUDoc.",
)
TCM_MED_REC: Sentence = (
    "tcm",
    "Medication reconciliation and management for TCM must be done no later than the date "
    "of the face-to-face visit, according to Noridian.",
)
TCM_TELEHEALTH: Sentence = (
    "tcm",
    "The TCM face-to-face visit may be done by real-time audio and video telehealth with "
    "modifier 95, according to Noridian.",
)
TCM_QUALIFY: Sentence = (
    "tcm",
    "A discharge qualifies for Transitional Care Management when the patient leaves an "
    "inpatient hospital setting for a community setting.",
)
TCM_COMMUNITY: Sentence = (
    "tcm",
    "A community setting for TCM means the patient returns to a home or other community "
    "residence rather than another inpatient facility.",
)
TCM_DOC_DISCHARGE: Sentence = (
    "tcm",
    "TCM documentation should record the discharge date, the discharge setting and the facility name.",
)
TCM_DOC_CONTACT: Sentence = (
    "tcm",
    "TCM documentation should record the date and time of the interactive contact and who made the contact.",
)
TCM_DOC_CONTACT_CONTENT: Sentence = (
    "tcm",
    "TCM documentation should record what the interactive contact covered, such "
    "as medications, symptoms and the follow-up plan.",
)
TCM_DOC_VISIT: Sentence = (
    "tcm",
    "TCM documentation should record the date of the face-to-face visit and the practitioner who performed the visit.",
)
TCM_DOC_MED_REC: Sentence = (
    "tcm",
    "TCM documentation should include a medication reconciliation note written no later than the face-to-face visit.",
)
TCM_DOC_SUMMARY: Sentence = (
    "tcm",
    "TCM documentation should show that the discharge summary was received and reviewed.",
)
TCM_DOC_MDM: Sentence = ("tcm", "TCM documentation should state the medical decision making level with a rationale.")

# Care transitions practice (knowledge/care-transitions.md)
RED_APPOINTMENTS: Sentence = (
    "care-transitions",
    "Project RED asks the team to make follow-up appointments before discharge.",
)
RED_PENDING: Sentence = (
    "care-transitions",
    "Project RED asks the team to plan the follow-up of tests whose results are still pending at discharge.",
)
RED_SERVICES: Sentence = (
    "care-transitions",
    "Project RED asks the team to organize post-discharge services and durable medical equipment (DME).",
)
RED_MEDICINES: Sentence = (
    "care-transitions",
    "Project RED asks the team to identify the correct medicines and reconcile them into one medication plan.",
)
RED_EDUCATE: Sentence = ("care-transitions", "Project RED asks the team to educate the patient about the diagnosis.")
RED_TEACH_BACK: Sentence = (
    "care-transitions",
    "Project RED asks the team to check that the patient understood the discharge plan by using the teach-back method.",
)
RED_PROBLEM: Sentence = (
    "care-transitions",
    "Project RED asks the team to review with the patient what to do if a problem arises after discharge.",
)
RED_LANGUAGE: Sentence = (
    "care-transitions",
    "The first step Project RED asks the team to take is to find out whether "
    "the patient needs language assistance and to arrange it.",
)
BOOST_LIMITATIONS: Sentence = (
    "care-transitions",
    "The third and fourth Project BOOST 8Ps risk factors are the principal diagnosis and physical limitations.",
)
BOOST_SUPPORT: Sentence = (
    "care-transitions",
    "The fifth and sixth Project BOOST 8Ps risk factors are poor health literacy and poor social support.",
)
BOOST_PALLIATIVE: Sentence = (
    "care-transitions",
    "The seventh and eighth Project BOOST 8Ps risk factors are prior hospitalizations and palliative care needs.",
)
BOOST_TEACH_BACK: Sentence = (
    "care-transitions",
    "Project BOOST uses the teach-back method to confirm that patients understand their care instructions, according "
    "to AHRQ.",
)

# Language, homebound, dual eligibility
INTERPRETER: Sentence = (
    "language-access",
    "A qualified interpreter should be used for calls about discharge plans, "
    "medications and consent, because the 2024 Section 1557 rule requires "
    "qualified interpreters.",
)
HOMEBOUND_FOCUS: Sentence = (
    "high-needs-homebound",
    "The CMS LEAD page names homebound and home-limited patients as an explicit focus of the LEAD model.",
)
HOME_HEALTH_HIGH_NEEDS: Sentence = (
    "high-needs-homebound",
    "Home health use is listed among the High Needs criteria, "
    "so homebound patients who use home health services should "
    "be checked against the High Needs definition.",
)
DUAL_LTSS: Sentence = (
    "dual-eligible-medicaid",
    "Dual-eligible beneficiaries often receive long-term services and "
    "supports (LTSS) through Medicaid while Medicare pays for medical "
    "care.",
)
DUAL_CARE_PLANS: Sentence = (
    "dual-eligible-medicaid",
    "A LEAD Medicaid partnership arrangement must include integrated care plans for dual-eligible beneficiaries.",
)
DUAL_PARTNER_STATE: Sentence = (
    "dual-eligible-medicaid",
    "Care teams should check whether their state is a LEAD "
    "Medicaid partner before promising any integrated Medicaid "
    "benefit.",
)
DUAL_RECORD_STATUS: Sentence = (
    "dual-eligible-medicaid",
    "Care managers in a LEAD ACO should record each patient's "
    "Medicaid status, because Medicaid partnership rules and "
    "services apply only to dual-eligible patients.",
)

# Timely Follow-Up windows (knowledge/timely-follow-up.md)
TFU_HEART_FAILURE: Sentence = (
    "timely-follow-up",
    "The TFU follow-up window after a heart failure exacerbation is 14 days, according to Pearl Health's summary.",
)
TFU_ASTHMA: Sentence = (
    "timely-follow-up",
    "The TFU follow-up window after an asthma exacerbation is 14 days, according to Pearl Health's summary.",
)
TFU_DIABETES: Sentence = (
    "timely-follow-up",
    "The TFU follow-up window after a high-acuity diabetes exacerbation is 14 "
    "days, according to Pearl Health's summary.",
)
TFU_COPD: Sentence = (
    "timely-follow-up",
    "The TFU follow-up window after a COPD exacerbation is 30 days, according to Pearl Health's summary.",
)
TFU_TCM_COUNTS: Sentence = (
    "timely-follow-up",
    "A Transitional Care Management face-to-face visit can also satisfy TFU "
    "when the visit falls inside the TFU window for the condition.",
)

# Falls (knowledge/steadi-falls.md, knowledge/cara.md)
STEADI_AFTER_FALL: Sentence = (
    "steadi-falls",
    "STEADI also recommends falls screening whenever a patient presents with a fall, at any visit.",
)
STEADI_ASSESS: Sentence = (
    "steadi-falls",
    "STEADI assesses gait, strength and balance with the Timed Up-and-Go test, the "
    "30-Second Chair Stand test and the 4-Stage Balance test.",
)
STEADI_INTERVENE: Sentence = (
    "steadi-falls",
    "STEADI interventions include referring fall-risk patients to community "
    "classes such as Tai Chi and A Matter of Balance.",
)
CARA_FALLS_UNCONFIRMED: Sentence = (
    "cara",
    "A falls-prevention program within CARA or LEAD is unconfirmed, because "
    "several searches found no source linking CARA to falls prevention.",
)

ALL: tuple[Sentence, ...] = tuple(
    value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, tuple) and len(value) == 2 and all(isinstance(part, str) for part in value)
)


class KnowledgeCites:
    """Knowledge citations for one request: the knowledge chunks read once, each sentence found once.

    The citation has exactly the shape ``knowledge_span`` gives (the guidance rules' citations); a sentence not
    found in the chunks read is handed to ``knowledge_span``, which raises the standard ``MissingKnowledge``.
    ``strict=False`` (only for readers that never show the citations) names a sentence of a document that is not
    indexed at all instead of raising."""

    def __init__(self, engine: Engine, strict: bool = True) -> None:
        self.engine = engine
        self.strict = strict
        self._found: dict[Sentence, dict[str, Any]] = {}
        self._chunks: dict[str, list[Any]] | None = None

    def _load(self) -> dict[str, list[Any]]:
        if self._chunks is None:
            chunks: dict[str, list[Any]] = {}
            with Session(self.engine) as session:
                rows = session.execute(
                    select(ChunkRow.doc_id, ChunkRow.title, ChunkRow.section, ChunkRow.start, ChunkRow.text,
                           ChunkRow.source_uri, ChunkRow.chunk_id, ChunkRow.sha256, ChunkRow.meta)
                    .where(ChunkRow.collection == "knowledge").order_by(ChunkRow.doc_id, ChunkRow.start)
                )  # fmt: skip
                for row in rows:
                    chunks.setdefault(row.doc_id, []).append(row)
            self._chunks = chunks
        return self._chunks

    def _span(self, doc_id: str, sentence: str) -> dict[str, Any]:
        for row in self._load().get(doc_id, []):
            offset = row.text.find(sentence)
            if offset < 0:
                continue
            start = row.start + offset
            return {
                "doc_id": row.doc_id, "title": row.title, "section": row.section, "start": start,
                "end": start + len(sentence), "sha256": hashlib.sha256(sentence.encode("utf-8")).hexdigest(),
                "quote": sentence, "source_uri": row.source_uri, "chunk_id": row.chunk_id, "chunk_sha256": row.sha256,
                "patient_id": None, "source_urls": list((row.meta or {}).get("source_urls", [])),
            }  # fmt: skip
        if not self.strict and doc_id not in self._load():
            # The document is not indexed here at all: a reader that only needs dates and statuses (the guidance
            # TCM rule) still gets them; the sentence is named but has no span. Every caller that shows a checklist
            # to a person passes a strict instance, which raises instead.
            return {"doc_id": doc_id, "source_uri": f"knowledge/{doc_id}.md", "quote": sentence, "indexed": False}
        return knowledge_span(self.engine, doc_id, sentence)

    def __call__(self, sentence: Sentence) -> dict[str, Any]:
        if sentence not in self._found:
            self._found[sentence] = {"type": "knowledge", **self._span(*sentence)}
        return dict(self._found[sentence])
