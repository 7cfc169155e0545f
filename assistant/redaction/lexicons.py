"""Public word lists the learned tagger reads: what is known safe, what is a name, what is a US place.

Why public lists: the tagger must generalize to notes it has never seen, so it may not learn which
surrogate names a corpus happens to use. It sees a word's identity only when the word is known safe and
is no name or place (``identity_allowed``); every other word reaches it only as lexicon flags and shape.

- Known safe (Philter's inverse idea: what is not known safe is a candidate): the ``nonames`` whitelist
  shipped by ``philter-lite`` (195,000 English and medical words and abbreviations, BSD-3), WordNet's
  lemmas (``recognizers/_lexicon.english_words``), our clinical and nursing lists, spaCy's stop words.
- Names: US Census 1990 first names and surnames (``names`` package) and philter-lite's first- and
  last-name lists.
- Places: every US city and county in the ``zipcodes`` package (USPS city names, 18,000+), and states.

Nothing here is read from an evaluation corpus.
"""

from __future__ import annotations

import importlib.resources
import re
from functools import lru_cache

from assistant.redaction.clinical_terms import NEVER_REDACT, NOT_A_NAME, NURSING_SHORTHAND

_QUOTED = re.compile(r'"([^"\\]*)"')


@lru_cache(maxsize=1)
def _philter_sets() -> dict[str, frozenset[str]]:
    """philter-lite's ``filters/set.toml``: three one-line lists (parsed by hand: tomllib takes 4 s on it)."""
    text = importlib.resources.files("philter_lite.filters").joinpath("set.toml").read_text(encoding="utf-8")
    out: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        key, sep, values = line.partition("=")
        if sep and values.strip().startswith("["):
            out[key.strip()] = frozenset(w.lower() for w in _QUOTED.findall(values) if w)
    return out


def philter_safe() -> frozenset[str]:
    return _philter_sets()["nonames"]


def philter_first_names() -> frozenset[str]:
    return _philter_sets()["firstnames"]


def philter_last_names() -> frozenset[str]:
    return _philter_sets()["lastnames"]


@lru_cache(maxsize=1)
def us_places() -> tuple[frozenset[str], frozenset[str]]:
    """(single-word place names, multi-word place names), lower case, from the zipcodes package."""
    import zipcodes

    single: set[str] = set()
    multi: set[str] = set()
    for row in zipcodes.list_all():
        names = [row.get("city") or "", *(row.get("acceptable_cities") or [])]
        county = row.get("county") or ""
        names.append(re.sub(r"\s+(?:county|parish|borough|census area|municipality)$", "", county, flags=re.I))
        for name in names:
            name = name.lower().replace(".", "").strip()
            if not name:
                continue
            (multi if " " in name else single).add(name)
    return frozenset(single), frozenset(multi)


@lru_cache(maxsize=1)
def census_surname_ranks() -> dict[str, int]:
    text = importlib.resources.files("names").joinpath("dist.all.last").read_text(encoding="ascii")
    ranks = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            ranks[parts[0].lower()] = int(parts[3])
    return ranks


@lru_cache(maxsize=1)
def census_first_names() -> frozenset[str]:
    from assistant.redaction.recognizers._lexicon import first_names

    return first_names()


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    from assistant.redaction.recognizers._lexicon import english_words

    return english_words()


CLINICAL = frozenset(NEVER_REDACT | NURSING_SHORTHAND)


@lru_cache(maxsize=1)
def known_safe() -> frozenset[str]:
    """Words that are safe to show a model: English, medical, shorthand, stop words."""
    return frozenset(philter_safe() | english() | CLINICAL | NOT_A_NAME)


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    return frozenset(census_first_names() | set(census_surname_ranks()) | philter_first_names() | philter_last_names())


@lru_cache(maxsize=1)
def identity_vocabulary() -> frozenset[str]:
    """Known-safe words that are no name and no place: the only words whose identity the tagger may use."""
    single, _multi = us_places()
    return frozenset(w for w in known_safe() if w not in name_words() and w not in single) | NOT_A_NAME


def warm() -> None:
    """Load every list once (about 2 s), so the first note is not the slow one."""
    _philter_sets()
    us_places()
    census_surname_ranks()
    identity_vocabulary()
