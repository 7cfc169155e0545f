"""What a question asks for, read from its wording alone: its parts, and the kind of answer each part wants.

Why: people ask with other words than the documents use ("what share" where a document gives "50%", "how soon"
where it says "within 7 days"), and they ask two things at once ("what happens to REACH, and on what date?"). A
sentence that merely repeats the question's words is then closer to the question than the one that answers it.
Knowing that a part asks for a figure, a time or a list lets the composer prefer, among relevant sentences, those
that carry one; knowing the parts lets it cover each of them. Nothing here knows the knowledge base's vocabulary:
the cues are ordinary English question forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from assistant.retrieval.bm25 import tokenize_query

Asks = Literal["time", "figure", "list"]

# Words that carry the question's form, not its topic: they are never evidence that a sentence is on topic, and
# never a sign that the sources lack the topic.
_FORM_WORDS = (
    "what which who whom whose when where why how whether do does did doing done can could would should shall may "
    "might must have has had having get gets got we our ours us you your yours i me my mine he him his she her hers "
    "its them their they one ones much many often soon else also any some tell please there here say says said "
    "write writes wrote written mention mentions mentioned about"
)

# In a question about one patient, words that point at the patient or her record, not at a topic ("why did the
# patient go to the hospital?", "what did the notes say about her living situation?"): the scope already says whose
# record. As topic words they made a "Patient Education" section or a "Care management note" heading look relevant
# to every such question, ahead of the Hospital Course or the line about who she lives with.
_RECORD_WORDS = "patient patients note notes chart charts record records document documents documented documentation"

_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNT_WORD = r"(?:two|three|four|five|six|seven|eight|nine|ten|[2-9]|10)"

# A new part starts after a question mark or semicolon, or at "and"/"or"/"but" when a question word follows
# ("..., and on what date?"), never inside a noun phrase ("savings or losses", "start and end dates").
_PART_BREAK = re.compile(
    r"\s*(?:[?;]|,?\s+(?:and|or|but)\s+(?=(?:what|when|which|who|whom|whose|where|why|how|whether|is|are|was|were|"
    r"does|do|did|can|could|will|would|should|must|has|have|(?:on|from|since|by|until|in|at|for|to|of) "
    r"(?:what|when|which|how|whom)\b)\b))\s*",
    re.IGNORECASE,
)

_ASKS_TIME = re.compile(
    r"\b(?:when|(?:what|which) (?:date|day|month|year|deadline|time ?frame|period)s?|(?:from|since|by|until|till) "
    r"when|how (?:soon|long|quickly|fast)|how many (?:calendar |business )?(?:days|weeks|months|years|hours|minutes)|"
    r"deadline|within how)\b",
    re.IGNORECASE,
)
_ASKS_FIGURE = re.compile(
    r"\b(?:how (?:many|much|large|big|small|high|low|often|frequently|far|old)|(?:what|which) (?:share|fraction|"
    r"percent|percentage|proportion|portion|rate|amount|number|level|size|threshold|cut-?off|minimum|maximum|"
    r"limit|cap|weight|ratio|score|age|range|count|sum|cost|price|value)s?|minimum|maximum|threshold|at least|"
    r"at most|percentage|percent|by how much)\b",
    re.IGNORECASE,
)
_ASKS_LIST = re.compile(
    rf"^(?:please )?(?:name|list|enumerate|give)\b|\b(?:what|which) (?:are|were) (?:the|all)\b|\bthe {_COUNT_WORD} "
    r"\w",
    re.IGNORECASE,
)
_ASKED_COUNT = re.compile(rf"\b(?:the|all|those|these) ({_COUNT_WORD})\b", re.IGNORECASE)

_NUMBER_WORDS = (
    r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|half|halves|thirds?|quarters?|twice|double|triple|once|"
    r"percent|majority|minority|none|all of"
)
_FIGURE = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|\bone-(?:third|half|quarter|fifth|tenth)", re.IGNORECASE)
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_TIME = re.compile(
    rf"\b(?:(?:19|20)\d\d|(?:{_MONTHS})\b|(?:\d+|{_NUMBER_WORDS}|one|a|an)[- ](?:calendar[- ]|business[- ])?"
    r"(?:days?|weeks?|months?|years?|hours?|minutes?)\b|annually|yearly|monthly|weekly|daily|every (?:day|week|"
    r"month|year)|each (?:day|week|month|year)|quarterly)",
    re.IGNORECASE,
)
_ANNOUNCED_COUNT = re.compile(rf"\b({_COUNT_WORD})\s+(?:[\w-]+\s+){{0,3}}?[\w-]+s\b", re.IGNORECASE)


_EARLIEST = r"first|earliest|initial|opening|early"
_LATEST = r"last|final|latest|closing|late"
_TIME_NOUN = r"(?:performance |calendar |model |program |plan )?(?:years?|months?|dates?|days?|periods?|phases?)"
_ORDERED_TIME = re.compile(
    rf"\b({_EARLIEST}|{_LATEST})\b(?:\s+(?:{_NUMBER_WORDS}|\d+|few|several))?\s+{_TIME_NOUN}\b", re.IGNORECASE
)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|this|that|these|those|he|she|him|her)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@dataclass(frozen=True)
class QuestionPart:
    text: str  # the part with the main part's words added when it has few of its own ("and from when?")
    asks: Asks | None
    count: int | None  # how many items a list part asks for, when it says ("the four measures")


@lru_cache(maxsize=1)
def _form_stems() -> frozenset[str]:
    return frozenset(tokenize_query(_FORM_WORDS)[0])


@lru_cache(maxsize=16384)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed topic words: BM25's tokens without the words that only shape a question. Cached: the same
    sentences come back for question after question, and tokenizing them was a visible part of an answer."""
    return frozenset(tokenize_query(text)[0]) - _form_stems()


@lru_cache(maxsize=1)
def _record_stems() -> frozenset[str]:
    return frozenset(tokenize_query(_RECORD_WORDS)[0])


def question_terms(text: str, about_patient: bool = False) -> frozenset[str]:
    """A question's topic words; about one patient, without the words that only point at her or her record."""
    terms = content_terms(text)
    return terms - _record_stems() if about_patient else terms


def asks_for(text: str) -> Asks | None:
    if _ASKS_TIME.search(text):
        return "time"
    if _ASKS_FIGURE.search(text):
        return "figure"
    if _ASKS_LIST.search(text.strip()):
        return "list"
    return None


def _count(text: str) -> int | None:
    match = _ASKED_COUNT.search(text)
    if not match:
        return None
    word = match.group(1).lower()
    return _COUNTS.get(word) or int(word)


def parts(question: str) -> list[QuestionPart]:
    """The question's parts in order; a question with one part gives one."""
    pieces = [p.strip(" ,") for p in _PART_BREAK.split(question.strip()) if p and p.strip(" ,?;")]
    if not pieces:
        pieces = [question.strip()]
    main = pieces[0]
    found = []
    for index, piece in enumerate(pieces):
        # "and from when?", "and how does it compare?" say what they want, not about what: they borrow the main
        # part's topic.
        text = (
            piece
            if index == 0 or (len(content_terms(piece)) >= 3 and not _PRONOUN.search(piece))
            else f"{main} {piece}"
        )
        found.append(QuestionPart(text=text, asks=asks_for(piece), count=_count(piece)))
    return found


def carries(asks: Asks | None, sentence: str) -> bool:
    """Whether a sentence holds the kind of thing asked for: a time (year, date, duration, frequency), a figure
    (digits, number words, fractions) or a list (an enumeration of several items)."""
    if asks == "time":
        return bool(_TIME.search(sentence))
    if asks == "figure":
        return bool(_FIGURE.search(sentence))
    if asks == "list":
        return sentence.count(",") >= 2 or bool(re.search(r",[^,]+\band\b", sentence))
    return False


_DATE = r"(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})(?:\s+\d{1,2}:\d{2}(?:\s*[AP]M)?)?"
_DATED_ONLY = re.compile(rf"(?:[A-Za-z][\w /-]{{0,40}}:\s*{_DATE}\s*)+", re.IGNORECASE)


def dated_only(sentence: str) -> bool:
    """Whether a line only dates something ("Date: 10/01/2026", "Admission date: ... Discharge date: ..."): it answers
    when, and nothing else."""
    return bool(_DATED_ONLY.fullmatch(sentence.strip()))


def announced_count(sentence: str) -> int | None:
    """The number of items a sentence announces ("keeps four claims-based measures" -> 4), if any."""
    match = _ANNOUNCED_COUNT.search(sentence)
    if not match:
        return None
    word = match.group(1).lower()
    return _COUNTS.get(word) or int(word)


def time_order(question: str) -> Literal["earliest", "latest"] | None:
    """Whether the question is about the first or the last of some years ("the first two performance years",
    "the last performance year"): the sentence with the earliest, or latest, year then fits it best."""
    match = _ORDERED_TIME.search(question)
    if not match:
        return None
    return "earliest" if re.fullmatch(_EARLIEST, match.group(1), re.IGNORECASE) else "latest"


def years(sentence: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(sentence)]


# "Which ACOs won the most shared savings?", "who scored highest?": the question picks items out by rank. "most
# recent", "latest" and "first" are orders in time (time_order), and "at most"/"at least" are limits (figures).
_RANKS = r"most|least|fewest|highest|lowest|largest|smallest|biggest|greatest|best|worst|top"
_RANKING_ASKED = re.compile(
    rf"^\s*(?:which|who|whom|whose)\b.*?(?<!\bat )\b(?:{_RANKS})\b"
    r"(?!\s+(?:recent|recently|likely|often|common|commonly))",
    re.IGNORECASE,
)
_STATES_RANK = re.compile(
    rf"\b(?:{_RANKS}|more|less|fewer|higher|lower|larger|smaller|bigger|greater|better|worse|rank|ranks|ranked|ranking|"
    r"leading|exceeds?|exceeded)\b",
    re.IGNORECASE,
)


def ranking_asked(question: str) -> bool:
    """Whether the question asks which (or who) ranks first or last by some measure."""
    return bool(_RANKING_ASKED.search(question))


def states_rank(sentence: str) -> bool:
    """Whether a sentence ranks or compares ("the highest", "lower than the 5% withhold"): only such a sentence
    answers a question about which ranks first. An amount alone does not: "81 ACOs gained about $70 million" says
    nothing of who gained most."""
    return bool(_STATES_RANK.search(sentence))


_NUMBER_NAMED = re.compile(r"\d{4,}")


def numbers_named(question: str) -> set[str]:
    """Years and codes the question names (runs of four or more digits: 2029, 99496, the 2024 of "PY2024")."""
    return set(_NUMBER_NAMED.findall(question))



def is_year(number: str) -> bool:
    """Whether a number the question names (``numbers_named``) is a year ("2024", also from "PY2024") rather than a
    code ("99496")."""
    return bool(_YEAR.fullmatch(number))
