"""Person names: patients, relatives, clinicians.

Three sources, because no single one is enough in clinical text:
1. spaCy's PERSON entities, minus clinical terms ("Parkinson", "Foley", "Down syndrome").
2. Cues that make the next or previous words a name whatever their spelling or case: titles ("Dr.",
   "Mrs."), relations ("daughter Rose", "son, Bill"), credentials ("Ann Lee, RN"), form labels
   ("Patient: ...", "PCP: ...", "Dear ...").
3. Once a name word is found with a cue, its other mentions in the same note ("Mr. Nicholson" ...
   "nicholson tolerated feeds").
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from assistant.redaction.clinical_terms import EPONYM_TAIL, NAME_EPONYMS, NOT_A_NAME, is_clinical
from assistant.redaction.recognizers._names import case_is_informative, take_backward, take_forward
from assistant.redaction.recognizers._spans import tidy

TITLES = r"dr|drs|doctor|mr|mrs|ms|miss|mx|prof|professor|nurse|rev|reverend|attn|np"
RELATIONS = (
    r"son|daughter|wife|husband|spouse|partner|sister|brother|mother|father|mom|dad|niece|nephew|aunt|uncle"
    r"|cousin|grand\s?daughter|grand\s?son|grandchild|grandmother|grandfather|son-in-law|daughter-in-law"
    r"|stepson|stepdaughter|friend|neighbou?r|proxy|hcp|poa|caregiver|guardian|fianc[eé]e?|girlfriend"
    r"|boyfriend|dtr|hsb|sibling|roommate|landlord"
)
CREDENTIALS = (
    r"md|m\.d\.|d\.o\.|rn|r\.n\.|np|pa-c|rrt|lpn|lcsw|msw|pharmd|cna|aprn|fnp|fnp-c|dnp|phd|ccm|bsn|msn"
    r"|crnp|acnp|lsw|chw|facp|facc"
)
LABELS = (
    r"patient|patient\s+name|pt\s+name|name|pcp|attending|provider|physician|surgeon|cardiologist"
    r"|nephrologist|oncologist|pulmonologist|care\s+manager|case\s+manager|nurse|contact|emergency\s+contact"
    r"|caregiver|signed\s+by|signed|dictated\s+by|cc|referred\s+by|referring\s+provider|seen\s+by|from|to"
    r"|author|sender|recipient|member|beneficiary|resident|client|interpreter|pharmacist|therapist"
    r"|social\s+worker|chw|navigator|caller|re|prescriber"
)
# Capitalized names right after these words, without a colon: "Patient Dolores Abernathy (MRN ...)".
SOFT_LABELS = r"patient|pt\.?|beneficiary|caller|re:?|prescriber|member|resident|client|mr\.?|mrs\.?|ms\.?"
# A name right before an identifier or an age: "Bao Church - MBI ...", "June Szymanski, 76 y/o".
_BEFORE_ID = re.compile(
    r"[ \t]*[,(\-–][ \t]*(?=(?:MRN|MBI|DOB|NPI|SSN|ID|Medicaid|\d{1,3}[ \t]*(?:y/?o|yo|year|yr)))"
    r"|[ \t]{2,}(?=MRN|MBI|DOB)",
)
_TITLE = re.compile(rf"\b(?:{TITLES})\b\.?[ \t]*", re.IGNORECASE)
_RELATION = re.compile(
    rf"\b(?:{RELATIONS})(?:'s)?\b[ \t]*(?:\(|,|:|-+|is|named|[ \t])[ \t]*", re.IGNORECASE
)
ROLES = (
    r"caseworker|case\s+manager|care\s+manager|house\s+staff|social\s+worker|sw|psych|psychiatrist|docter"
    r"|resident|fellow|intern|pharmacist|chaplain|interpreter|nurse\s+practitioner|therapist|navigator"
    r"|coordinator|aide|cna|hha"
)
_ROLE = re.compile(rf"\b(?:{ROLES})\b[ \t]*,?[ \t]*", re.IGNORECASE)
_CONTACT = re.compile(
    r"\b(?:spoke|spoken|talked|talking|met|meeting|updated|update|call|called|calling|page|paged|ask\s+for|"
    r"ask\s+to\s+page|contact|contacted|notify|notified|visited\s+by|seen\s+by|per)\s+(?:with\s+|to\s+|w/\s*)?",
    re.IGNORECASE,
)
_SOFT_LABEL = re.compile(rf"\b(?:{SOFT_LABELS})[ \t]+", re.IGNORECASE)
_CREDENTIAL = re.compile(rf"(?<=[A-Za-z.])[ \t]*,?[ \t]*\b(?:{CREDENTIALS})(?![\w-])", re.IGNORECASE)
_LABEL = re.compile(rf"(?:^|(?<=[\n|;]))[ \t]*(?:{LABELS})[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
_GREETING = re.compile(r"\b(?:dear|hi|hello|thanks|thank\s+you|regards|sincerely|best)\b[ \t]*,?[ \t\n]*(?=\S)",
                       re.IGNORECASE)
_LAST_FIRST = re.compile(r"(?-i:[A-Z][A-Za-z'’-]+),[ \t]*(?-i:[A-Z][A-Za-z'’-]+)(?:[ \t]+(?-i:[A-Z])\.?)?")


class PersonRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="person", supported_language="en")

    def load(self) -> None:  # nothing to load: spaCy runs in the NLP engine
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        informative = case_is_informative(text)
        spans: list[tuple[int, int, float, str]] = []
        if informative:  # in ALL-CAPS or lower-case notes spaCy tags "NEURO", "abd soft" as people
            spans += self._from_spacy(text, nlp_artifacts)
        spans += self._from_cues(text, informative)
        spans += self._propagate(text, spans, informative)
        return [
            RecognizerResult(
                "PERSON", s, e, score, recognition_metadata={"recognizer_name": "person", "source": src}
            )
            for s, e, score, src in spans
        ]

    @staticmethod
    def _from_spacy(text: str, nlp_artifacts: NlpArtifacts | None) -> list[tuple[int, int, float, str]]:
        out = []
        if nlp_artifacts is None:
            return out
        for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
            if ent.label_ != "PERSON":
                continue
            span = tidy(text, ent.start_char, ent.end_char)
            if span is None:
                continue
            start, end = span
            surface = text[start:end]
            if end <= start or any(ch.isdigit() for ch in surface) or is_clinical(surface):
                continue
            if len(surface.split()) <= 2 and EPONYM_TAIL.match(text[end:]):  # "Guillain-Barre syndrome"
                continue
            if all(w.rstrip(".").lower() in NOT_A_NAME for w in surface.split()):
                continue
            out.append((start, end, float(score), "spacy"))
        return out

    @staticmethod
    def _from_cues(text: str, informative: bool) -> list[tuple[int, int, float, str]]:
        out = []
        for m in _TITLE.finditer(text):
            span = take_forward(text, m.end(), need_capital=informative)
            if span:
                out.append((*span, 0.9, "title"))
        for m in _RELATION.finditer(text):
            span = take_forward(text, m.end(), need_capital=informative, max_tokens=2)
            if span:
                out.append((*span, 0.85, "relation"))
        for m in _ROLE.finditer(text):
            span = take_forward(text, m.end(), need_capital=informative)
            if span:
                out.append((*span, 0.75, "role"))
        for m in _CONTACT.finditer(text):
            span = take_forward(text, m.end(), need_capital=informative, max_tokens=2)
            if span:
                out.append((*span, 0.6, "contact"))
        for m in _CREDENTIAL.finditer(text):
            span = take_backward(text, m.start(), need_capital=informative)
            if span:
                out.append((*span, 0.85, "credential"))
        for m in _LABEL.finditer(text):
            last_first = _LAST_FIRST.match(text, m.end())
            span = (last_first.start(), last_first.end()) if last_first else None
            span = span or take_forward(text, m.end(), need_capital=informative)
            if span:
                out.append((*span, 0.85, "label"))
        for m in _SOFT_LABEL.finditer(text) if informative else ():
            span = take_forward(text, m.end(), need_capital=True)
            if span:
                out.append((*span, 0.75, "soft-label"))
        for m in _BEFORE_ID.finditer(text) if informative else ():
            span = take_backward(text, m.start(), need_capital=True)
            if span:
                out.append((*span, 0.7, "before-id"))
        for m in _GREETING.finditer(text) if informative else ():
            span = take_forward(text, m.end(), need_capital=True, max_tokens=2)
            if span:
                out.append((*span, 0.7, "greeting"))
        return [s for s in out if not is_clinical(text[s[0] : s[1]])]

    @staticmethod
    def _propagate(
        text: str, found: list[tuple[int, int, float, str]], informative: bool
    ) -> list[tuple[int, int, float, str]]:
        words = set()
        for start, end, _score, _src in found:
            for w in text[start:end].split():
                bare = w.strip(".,'’")
                if len(bare) >= 3 and bare.lower() not in NOT_A_NAME and bare.lower() not in NAME_EPONYMS:
                    words.add(bare)
        if not words:
            return []
        flags = 0 if informative else re.IGNORECASE
        pattern = re.compile(r"(?<![\w'-])(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")(?![\w-])",
                             flags)
        return [(m.start(), m.end(), 0.7, "repeat") for m in pattern.finditer(text)]


def build() -> PersonRecognizer:
    return PersonRecognizer()
