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

from assistant.redaction.clinical_terms import EPONYM_TAIL, EPONYMS, NAME_EPONYMS, NOT_A_NAME, is_clinical
from assistant.redaction.recognizers._lexicon import (
    AMBIGUOUS,
    NAME,
    NOT_NAME,
    is_census_name,
    is_english,
    is_first_name,
    is_unknown_word,
    name_strength,
)
from assistant.redaction.recognizers._names import TOKEN, case_is_informative, take_backward, take_forward
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


_TITLE_WORDS = {"dr", "drs", "mr", "mrs", "ms", "miss", "mx", "prof", "rev", "st", "pt", "md", "mds", "rn", "np"}
_EPONYM_NAME = re.compile(
    "(" + "|".join(sorted(w.capitalize() for w in EPONYMS | NAME_EPONYMS)) + r")\b(?!['’]?s?\s+(?:sign|syndrome))"
)
_FAMILY_AFTER = re.compile(r"[ \t]+(?:family|families)\b", re.IGNORECASE)
_RELATION_AFTER = re.compile(rf"[ \t]*\((?:{RELATIONS})\)", re.IGNORECASE)

Span = tuple[int, int, float, str]


def _word_ok(word: str, strict: bool) -> bool:
    """A word after a cue can be a name: a census name, or (unless ``strict``) a word that is not English.

    Rejects what nursing notes put after "Dr", "NP", "per" or "IV nurse": "aware", "crackles",
    "protocol". ``strict`` cues ("per", "called") need a census name that is no English word, or one
    written with a capital in a note whose capitals mean something: "per carevue" is a system.
    """
    strength = name_strength(word)
    if strict:
        return strength == NAME or (strength == AMBIGUOUS and _title_case(word))
    return strength != NOT_NAME or is_unknown_word(word)


def _title_case(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def _plausible(
    text: str, span: tuple[int, int], strict: bool = False, informative: bool = False
) -> tuple[int, int] | None:
    """Keep the leading words of ``span`` that can be a name; ``None`` when the first cannot.

    Where capitals mean something, a capitalized word passes as before ("SW Carmen Delacroix"), and a
    capitalized census name even when it is a common word ("Dr. Will Summers", "daughter Hope Baker").
    """
    start, _end = span
    last = None
    for m in TOKEN.finditer(text, span[0], span[1]):
        word = m.group()
        bare = word.rstrip(".")
        if len(bare) == 1 and bare.isalpha():
            last = m.end()  # an initial
            continue
        lower = bare.lower()
        capital_name = informative and _title_case(bare) and lower not in _TITLE_WORDS and (
            (lower not in NOT_A_NAME and (is_census_name(bare) or not is_english(bare))) if strict
            else (is_census_name(bare) or lower not in NOT_A_NAME)
        )
        if not capital_name and not _word_ok(bare, strict):
            break
        last = m.end() - (1 if word.endswith(".") else 0)
    if last is None or last <= start:
        return None
    if not any(len(w.strip(".")) >= 2 for w in text[start:last].split()):
        return None
    return start, last


class PersonRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="person", supported_language="en")

    def load(self) -> None:  # nothing to load: spaCy runs in the NLP engine
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        informative = case_is_informative(text)
        spans: list[Span] = []
        if informative:  # in ALL-CAPS or lower-case notes spaCy tags "NEURO", "abd soft" as people
            spans += self._from_spacy(text, nlp_artifacts)
        spans += self._from_cues(text, informative)
        spans += self._from_census(text, informative)
        spans += self._propagate(text, spans, informative)
        return [
            RecognizerResult(
                "PERSON", s, e, score, recognition_metadata={"recognizer_name": "person", "source": src}
            )
            for s, e, score, src in spans
        ]

    @staticmethod
    def _from_spacy(text: str, nlp_artifacts: NlpArtifacts | None) -> list[Span]:
        """spaCy PERSON hits that hold a census name or an unknown capitalized word ("Czyzewicz").

        The small model tags shorthand such as "Neuro", "CV", "Abd soft" or "Wean neo" as people in
        nursing notes; a name list and an English word list tell those apart.
        """
        out: list[Span] = []
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
            words = [w.strip(".,'’") for w in surface.split()]
            if all(w.lower() in NOT_A_NAME for w in words):
                continue
            census = any(name_strength(w) == NAME or (name_strength(w) == AMBIGUOUS and _title_case(w))
                         for w in words)
            full_name = len(words) >= 2 and all(  # "Hyun-woo Kim", "Mateus Delacroix": names the lists lack
                _title_case(w) and w.lower() not in NOT_A_NAME and (is_census_name(w) or not is_english(w))
                for w in words
            )
            if not census and not full_name:
                continue
            out.append((start, end, float(score), "spacy"))
        return out

    @staticmethod
    def _from_cues(text: str, informative: bool) -> list[Span]:
        out: list[Span] = []

        def add(span: tuple[int, int] | None, score: float, source: str, strict: bool = False) -> None:
            if span and source == "title" and text[span[0] : span[1]].lower() in EPONYMS | NAME_EPONYMS:
                out.append((*span, score, source))  # "Dr. Foley" is a person, "Foley removed" is not
                return
            if span:
                span = _plausible(text, span, strict, informative)
            if span:
                out.append((*span, score, source))

        for m in _TITLE.finditer(text):
            # After a title a lower-case word is still a name ("Dr. griffin aware"): plausibility decides.
            span = take_forward(text, m.end(), need_capital=False)
            eponym = _EPONYM_NAME.match(text, m.end())
            if span is None and eponym and m.group().strip().rstrip(".").lower() in {"dr", "drs", "doctor"}:
                span = (eponym.start(1), eponym.end(1))  # "Dr. Foley"
            add(span, 0.9, "title")
        for m in _RELATION.finditer(text):
            add(take_forward(text, m.end(), need_capital=informative, max_tokens=2), 0.85, "relation")
        for m in _ROLE.finditer(text):
            add(take_forward(text, m.end(), need_capital=informative), 0.75, "role")
        for m in _CONTACT.finditer(text):
            add(take_forward(text, m.end(), need_capital=informative, max_tokens=2), 0.6, "contact", strict=True)
        for m in _CREDENTIAL.finditer(text):
            span = take_backward(text, m.start(), need_capital=informative)
            if span:
                add(span, 0.85, "credential")
        for m in _LABEL.finditer(text):
            last_first = _LAST_FIRST.match(text, m.end())
            if last_first:
                out.append((last_first.start(), last_first.end(), 0.85, "label"))
            else:
                add(take_forward(text, m.end(), need_capital=informative), 0.85, "label")
        for m in _SOFT_LABEL.finditer(text) if informative else ():
            add(take_forward(text, m.end(), need_capital=True), 0.75, "soft-label")
        for m in _BEFORE_ID.finditer(text) if informative else ():
            add(take_backward(text, m.start(), need_capital=True), 0.7, "before-id")
        for m in _GREETING.finditer(text) if informative else ():
            add(take_forward(text, m.end(), need_capital=True, max_tokens=2), 0.7, "greeting")
        for m in _RELATION_AFTER.finditer(text):  # "Hank Przybylo (son)"
            add(take_backward(text, m.start(), need_capital=informative), 0.85, "relation")
        for m in _FAMILY_AFTER.finditer(text):  # "keep Romero family aware"
            span = take_backward(text, m.start(), need_capital=informative, max_tokens=1)
            if span and name_strength(text[span[0] : span[1]]) == NAME:
                out.append((*span, 0.7, "family"))
        return [s for s in out if s[3] == "title" or not is_clinical(text[s[0] : s[1]])]

    @staticmethod
    def _from_census(text: str, informative: bool) -> list[Span]:
        """A first name that is no English word ("Suzette", "SUSAN"), with the name words after it."""
        out: list[Span] = []
        tokens = list(TOKEN.finditer(text))
        i = 0
        while i < len(tokens):
            word = tokens[i].group().rstrip(".")
            if informative and not word[:1].isupper():
                i += 1
                continue
            if not is_first_name(word):
                i += 1
                continue
            start, end = tokens[i].start(), tokens[i].start() + len(word)
            j = i + 1
            while j < len(tokens) and j <= i + 2:
                gap = text[end : tokens[j].start()]
                nxt = tokens[j].group().rstrip(".")
                if gap.strip() or "\n" in gap or not _word_ok(nxt, strict=False):
                    break
                if informative and not nxt[:1].isupper():
                    break
                end = tokens[j].start() + len(nxt)
                j += 1
            out.append((start, end, 0.6, "census"))
            i = j
        return out

    @staticmethod
    def _propagate(text: str, found: list[Span], informative: bool) -> list[Span]:
        """Other mentions of a name word already found; English words only when the case matches."""
        words = set()
        for start, end, _score, _src in found:
            for w in text[start:end].split():
                bare = w.strip(".,'’")
                if len(bare) < 3 or bare.lower() in NOT_A_NAME or bare.lower() in NAME_EPONYMS:
                    continue
                strength = name_strength(bare)
                if strength == NOT_NAME and not is_unknown_word(bare):
                    continue
                if strength == AMBIGUOUS and not (informative and _title_case(bare)):
                    continue
                words.add(bare)
        if not words:
            return []
        flags = 0 if informative else re.IGNORECASE
        pattern = re.compile(r"(?<![\w'-])(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")(?![\w-])",
                             flags)
        return [(m.start(), m.end(), 0.7, "repeat") for m in pattern.finditer(text)]


def build() -> PersonRecognizer:
    return PersonRecognizer()
