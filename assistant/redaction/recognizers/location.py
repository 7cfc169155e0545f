"""Places smaller than a state: cities, towns, neighbourhoods and named facilities.

spaCy's GPE/LOC/FAC entities (states and countries are allowed by Safe Harbor and dropped), facility
names ending in "Hospital", "Rehab", "Medical Center"..., cities before a state code ("Springfield, IL"),
and places after "lives in", "transferred from" and similar cues.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from assistant.redaction.clinical_terms import NOT_A_NAME, is_clinical
from assistant.redaction.recognizers._lexicon import is_census_name, is_english, is_unknown_word, non_noun_words
from assistant.redaction.recognizers._names import case_is_informative, take_backward, take_forward
from assistant.redaction.recognizers._spans import tidy
from assistant.redaction.recognizers.zip_code import STATE_NAMES, STATES

ALLOWED = {  # Safe Harbor keeps states and countries
    "us", "u.s.", "usa", "u.s.a.", "united states", "america", "canada", "mexico", "puerto rico", "guam",
}
FACILITY = (
    r"hospital|hosp|medical\s+center|med\s+ctr|health\s+center|clinic|rehab|rehabilitation|nursing\s+home"
    r"|nursing\s+center|nursing\s+and\s+rehab|skilled\s+nursing|snf|hospice|adventist|memorial|manor"
    r"|living\s+center|assisted\s+living|senior\s+center|health\s+system|healthcare|medical\s+group"
    r"|pharmacy|infirmary|sanatorium|care\s+center|health\s+care\s+center|convalescent|va\s+medical"
    r"|nursing\s+agency|agency|home\s+care|home\s+health|vna|dialysis\s+center|dialysis|cancer\s+center"
)
_FACILITY = re.compile(rf"(?<=\S)[ \t]+(?:{FACILITY})\b", re.IGNORECASE)
_WEAK_FACILITY = re.compile(
    r"^(?:dialysis|rehab|rehabilitation|agency|pharmacy|clinic|hospice|home\s+care|home\s+health)$", re.IGNORECASE
)
_FACILITY_GENERIC = {"general", "community", "regional", "university", "county", "state", "city", "medical",
                     "memorial", "st", "st.", "saint", "mount", "mt", "mt.", "holy", "family", "good", "samaritan",
                     "sacred", "heart", "children's", "veterans", "baptist", "methodist", "presbyterian", "mercy"}
_CUE = re.compile(
    r"\b(?:lives|living|resides|residing|moved|moving|visiting|vacationing|born|relocated|travel+ed|"
    r"from\s+home\s+in|home\s+in|transferred|transfer|admitted|discharged|sent|taken|brought|returned|"
    r"return|go|going|went|came|come|coming|adm|referred|enroute|en\s+route|seen|followed|arrived|arriving|"
    r"transfer+ed|trans|xfer+e?d?|accepted|transplant|team|(?:ed|er|ew|icu|hospital)\s+at)"
    r"\s+(?:in|at|to|into|from|near|by)?\s*(?:the\s+)?",
    re.IGNORECASE,
)
_SAINT = re.compile(r"(?<![\d\w][ \t])\b(?:st|saint|holy|mount|mt)\.?[ \t]+(?=[A-Za-z])", re.IGNORECASE)
_CITY_STATE = re.compile(
    rf"(?-i:[A-Z][a-z.'-]+(?:[ \t][A-Z][a-z.'-]+){{0,2}})(?=,[ \t]*(?:(?-i:{STATES})\b|(?:{STATE_NAMES})\b))",
    re.IGNORECASE,
)
# A state university or hospital ("U Maryland", "Univ. of Virginia", "University of Texas"): the state alone is
# allowed, the institution is a place smaller than a state.
_STATE_INSTITUTION = re.compile(rf"\b(?:u|univ\.?|university)(?:[ \t]+of)?[ \t]+(?:{STATE_NAMES})\b", re.IGNORECASE)
# "ANNAPOLIS, MD" in an all-caps note: a known US town before a state code, whatever its case.
_TOWN_STATE = re.compile(rf"\b[A-Za-z][A-Za-z.'-]+(?=,[ \t]*(?-i:{STATES})\b)")
# A hospital acronym ("MGH", "JHH", "UMMC") right after an admission or transfer cue. "OSH"/"OH" (outside hospital)
# name no place; unit names ("MICU", "CCU") end in U and do not fit.
_HOSPITAL_AFTER_CUE = re.compile(
    r"\b(?:transferred|transfered|transfer|trans|tx|xfer|admitted|adm|sent|came|come|arrived|arrival|brought|taken"
    r"|went|returned|followed|seen)[ \t]+(?:in|at|to|into|from)?[ \t]*(?:the[ \t]+)?"
    r"(?P<h>(?!osh\b|oh\b)[a-z]{0,3}(?:h|mc))\b(?![/-])",
    re.IGNORECASE,
)
_STATE_WORDS = re.compile(rf"^(?:{STATE_NAMES})$", re.IGNORECASE)


def _allowed(surface: str) -> bool:
    s = surface.strip().lower()
    return s in ALLOWED or bool(_STATE_WORDS.match(s)) or is_clinical(surface)


class LocationRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["LOCATION"], name="location", supported_language="en")

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        informative = case_is_informative(text)
        spans: list[tuple[int, int, float]] = []
        if nlp_artifacts is not None and informative:
            for ent in nlp_artifacts.entities:
                if ent.label_ == "LOCATION" and not _allowed(ent.text) and _spacy_place(ent.text):
                    span = tidy(text, ent.start_char, ent.end_char)
                    if span:
                        spans.append((*span, 0.7))
        for m in _FACILITY.finditer(text):
            span = take_backward(text, m.start(), need_capital=informative, max_tokens=3)
            if span and _WEAK_FACILITY.match(m.group().strip()) and not _cue_place(text[span[0] : span[1]],
                                                                                       informative):
                span = None  # "tolerated dialysis", "awaiting rehab"; "Harbor Hospital" stays
            if span is None:
                span = _generic_facility(text, m.start())
            if span:
                spans.append((span[0], m.end(), 0.8))
        for m in _CUE.finditer(text):
            span = take_forward(text, m.end(), need_capital=True if informative else False, max_tokens=3)
            if span and not _allowed(text[span[0] : span[1]]) and _cue_place(text[span[0] : span[1]], informative):
                # A known US town after the cue ("lives in hagerstown") is as sure as a city before a state.
                spans.append((*span, 0.8 if _us_town(text[span[0] : span[1]]) else 0.6))
        for m in _SAINT.finditer(text):
            span = take_forward(text, m.end(), need_capital=informative, max_tokens=2)
            if span:
                spans.append((m.start(), span[1], 0.6))
        for m in _CITY_STATE.finditer(text):
            if not _allowed(m.group()) and m.group().split()[0].lower() not in NOT_A_NAME:
                spans.append((m.start(), m.end(), 0.85))
        for m in _HOSPITAL_AFTER_CUE.finditer(text):
            h = m.group("h")
            if is_english(h) or h.lower() in NOT_A_NAME or is_clinical(h):
                continue  # "taken to cath", "went to bath"
            if h.isupper() or h.islower() and not informative:
                spans.append((m.start("h"), m.end("h"), 0.8))
        for m in _STATE_INSTITUTION.finditer(text):
            spans.append((m.start(), m.end(), 0.85))
        for m in _TOWN_STATE.finditer(text):
            if _us_town(m.group()):
                spans.append((m.start(), m.end(), 0.85))
        return [
            RecognizerResult("LOCATION", s, e, score, recognition_metadata={"recognizer_name": "location"})
            for s, e, score in spans
            if e > s
        ]


def _spacy_place(surface: str) -> bool:
    """spaCy's small model calls "x3", "100cc/hr", "BB" or "Neuro" places in nursing notes.

    A place name has no digits or slashes, starts every word with a capital, and is not a short
    all-caps abbreviation or shorthand.
    """
    words = surface.split()
    if not words or any(not ch.isalpha() and ch not in " .'’-&" for ch in surface):
        return False
    if all(w.strip(".,'’").lower() in NOT_A_NAME for w in words):
        return False
    if len(words) == 1 and surface.isupper() and len(surface.strip(".")) <= 3:
        return False
    return all(w[:1].isupper() for w in words if w.lower() not in {"of", "the", "and", "de", "la"})


def _us_town(surface: str) -> bool:
    """The first word is a US city or county name (the zipcodes package), no clinical or note word, and no
    English word other than a noun (WordNet lists "Hagerstown" as a noun; "Floor" is also a verb)."""
    from assistant.redaction.lexicons import us_places

    first = surface.split()[0].strip(".,").lower()
    return (len(first) >= 4 and first in us_places()[0] and first not in NOT_A_NAME and not is_clinical(first)
            and first not in non_noun_words())


def _cue_place(surface: str, informative: bool) -> bool:
    """After "transferred to", "lives in": a capitalized name, a census name, an unknown word or an acronym.

    In notes without informative capitals the words must not be plain English ("transferred to floor").
    """
    first = surface.split()[0]
    if informative:
        return True
    return is_census_name(first) or is_unknown_word(first) or _us_town(first) or (
        first.isalpha() and len(first) <= 4 and first.lower() not in NOT_A_NAME and not is_english(first)
    )


def _generic_facility(text: str, end: int) -> tuple[int, int] | None:
    """'St. Mary's Hospital', 'Mercy General Hospital': names whose words are common words."""
    m = re.search(r"((?:(?-i:[A-Z])[\w.'’-]*[ \t]+){1,3})$", text[max(0, end - 50) : end] + " ")
    if not m:
        return None
    words = m.group(1).split()
    if any(w.lower() in _FACILITY_GENERIC for w in words):
        start = max(0, end - 50) + m.start(1)
        return start, end
    return None


def build() -> LocationRecognizer:
    return LocationRecognizer()
