"""Name and identifier normalization for patient matching.

Why: the same beneficiary arrives as "ROBERT J O'NEIL" from CCLF8, "Bob O'Neil" from an EHR and
"Robert123 Oneil456" from Synthea. Matching on raw strings would create a duplicate patient for
each spelling; matching too loosely would merge two people. These helpers fold only the
differences that carry no identity (case, accents, punctuation, digits, middle names and initials,
common English nicknames) and keep everything else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Nickname -> formal given names. A nickname may stand for several names ("Pat"); matching asks
# whether two names share any canonical form. Formal names map to themselves implicitly.
_NICKNAMES: dict[str, tuple[str, ...]] = {
    "abby": ("abigail",),
    "al": ("albert", "alfred", "alan", "allen"),
    "alex": ("alexander", "alexandra"),
    "andy": ("andrew",),
    "annie": ("ann", "anne", "anna"),
    "barb": ("barbara",),
    "becky": ("rebecca",),
    "ben": ("benjamin",),
    "bert": ("albert", "herbert", "robert"),
    "beth": ("elizabeth",),
    "betsy": ("elizabeth",),
    "betty": ("elizabeth",),
    "bill": ("william",),
    "billy": ("william",),
    "bob": ("robert",),
    "bobby": ("robert",),
    "cathy": ("catherine", "kathryn", "katherine"),
    "charlie": ("charles",),
    "chuck": ("charles",),
    "chris": ("christopher", "christine", "christina"),
    "cindy": ("cynthia",),
    "dan": ("daniel",),
    "danny": ("daniel",),
    "dave": ("david",),
    "debbie": ("deborah", "debra"),
    "deb": ("deborah", "debra"),
    "dick": ("richard",),
    "don": ("donald",),
    "dot": ("dorothy",),
    "dottie": ("dorothy",),
    "ed": ("edward", "edwin", "edmund"),
    "eddie": ("edward",),
    "ellie": ("eleanor", "ellen"),
    "fran": ("frances", "francis"),
    "frank": ("francis", "franklin"),
    "fred": ("frederick", "alfred"),
    "gene": ("eugene",),
    "greg": ("gregory",),
    "hank": ("henry",),
    "harry": ("harold", "henry"),
    "jack": ("john",),
    "jan": ("janet", "janice"),
    "jean": ("jeanne",),
    "jeff": ("jeffrey",),
    "jen": ("jennifer",),
    "jenny": ("jennifer",),
    "jerry": ("gerald", "jerome"),
    "jim": ("james",),
    "jimmy": ("james",),
    "joe": ("joseph",),
    "joey": ("joseph",),
    "johnny": ("john",),
    "jon": ("jonathan", "john"),
    "josie": ("josephine",),
    "judy": ("judith",),
    "kate": ("katherine", "catherine", "kathryn"),
    "kathy": ("katherine", "kathryn", "catherine"),
    "katie": ("katherine", "kathryn", "catherine"),
    "ken": ("kenneth",),
    "kenny": ("kenneth",),
    "larry": ("lawrence",),
    "len": ("leonard",),
    "lenny": ("leonard",),
    "liz": ("elizabeth",),
    "lizzie": ("elizabeth",),
    "lou": ("louis", "louise"),
    "maggie": ("margaret",),
    "marge": ("margaret", "marjorie"),
    "margie": ("margaret", "marjorie"),
    "matt": ("matthew",),
    "meg": ("margaret",),
    "mike": ("michael",),
    "mickey": ("michael",),
    "millie": ("mildred",),
    "nick": ("nicholas",),
    "pat": ("patricia", "patrick"),
    "patty": ("patricia",),
    "peggy": ("margaret",),
    "pete": ("peter",),
    "phil": ("phillip", "philip"),
    "ray": ("raymond",),
    "rich": ("richard",),
    "rick": ("richard",),
    "ricky": ("richard",),
    "rob": ("robert",),
    "robbie": ("robert",),
    "ron": ("ronald",),
    "ronnie": ("ronald",),
    "sally": ("sarah",),
    "sam": ("samuel", "samantha"),
    "sandy": ("sandra",),
    "steve": ("steven", "stephen"),
    "sue": ("susan", "suzanne"),
    "susie": ("susan", "suzanne"),
    "ted": ("edward", "theodore"),
    "teddy": ("edward", "theodore"),
    "terry": ("terrence", "theresa", "teresa"),
    "tim": ("timothy",),
    "tom": ("thomas",),
    "tommy": ("thomas",),
    "tony": ("anthony",),
    "vicky": ("victoria",),
    "walt": ("walter",),
    "will": ("william",),
    "willie": ("william",),
}

_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "md", "phd"}


def fold(text: str) -> str:
    """Lower case, accents stripped, digits and punctuation removed, spaces collapsed.

    Apostrophes and hyphens are removed without a space ("O'Neil" == "ONeil" == "Oneil"), since
    sources disagree on them; digits go because Synthea appends them to every name.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    stripped = stripped.replace("'", "").replace("\u2019", "").replace("-", "")
    stripped = _NON_LETTERS.sub(" ", stripped)
    return _SPACES.sub(" ", stripped).strip()


def first_given(given: Iterable[str]) -> str:
    """The first given name, folded, with middle names and initials dropped.

    A given list may hold "Robert J" as one string or ["Robert", "J."]; either way "robert".
    A leading initial ("J. Robert") is skipped so the name the person goes by is compared.
    """
    tokens = [tok for part in given for tok in fold(part).split()]
    tokens = [tok for tok in tokens if tok not in _SUFFIXES]
    for tok in tokens:
        if len(tok) > 1:
            return tok
    return tokens[0] if tokens else ""


def family_name(family: str | None) -> str:
    """Folded family name without generational suffixes and without inner spaces ("De La Cruz")."""
    if not family:
        return ""
    tokens = [tok for tok in fold(family).split() if tok not in _SUFFIXES]
    return "".join(tokens)


def given_forms(name: str) -> frozenset[str]:
    """Every canonical form a folded given name may stand for: itself plus the formal names it abbreviates."""
    if not name:
        return frozenset()
    return frozenset((name, *_NICKNAMES.get(name, ())))


def given_names_match(left: str, right: str) -> bool:
    """True when two folded first names can be the same person's (equal, or nickname of the other)."""
    if not left or not right:
        return False
    return bool(given_forms(left) & given_forms(right))


def normalize_mbi(value: str) -> str:
    """MBIs are stored without dashes or spaces and in upper case (CMS prints 1EG4-TE5-MK73 on the card)."""
    return re.sub(r"[\s-]+", "", value).upper()


def normalize_phone(value: str | None) -> str:
    """The last ten digits of a phone number (drops +1, punctuation and extensions written as trailing text)."""
    if not value:
        return ""
    digits = re.sub(r"\D+", "", value.split("x")[0].split("ext")[0])
    return digits[-10:] if len(digits) >= 10 else ""
