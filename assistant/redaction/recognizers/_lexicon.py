"""Is a word a person's name, an English word, or both? (not a recognizer itself)

Why: in ALL-CAPS or all-lower-case notes, and in nursing shorthand ("Neuro:", "CV-", "wean neo"), neither
capital letters nor spaCy's small model separate names from everything else. Two general resources do:

- the US Census 1990 name frequency files (4,275 female and 1,219 male first names, 88,799 surnames with
  their rank), shipped by the ``names`` package;
- WordNet's lemma index (about 83,000 English nouns, verbs, adjectives and adverbs), which the installed
  spaCy pipeline carries for its lemmatizer.

A word in the census lists and not in WordNet ("Nicholson", "Suzette") is a name on its own; one in both
("Rose", "King", "Block") is a name only with a cue or a capital letter; a word in WordNet only ("block",
"alert") is not a name. Nothing here comes from any evaluation corpus.
"""

from __future__ import annotations

import importlib.resources
from functools import lru_cache

from assistant.redaction.clinical_terms import NAME_EPONYMS, NOT_A_NAME

# Surnames past this rank are mostly one-family spellings, and the long tail holds abbreviations and
# words ("Ra", "Sat", "Levo"); a rarer surname is still found through cues ("Dr.", "daughter", ", RN").
SURNAME_MAX_RANK = 60_000

NOT_NAME = 0
AMBIGUOUS = 1  # a name that is also an English word: "Rose", "Mark", "King"
NAME = 2  # a name and not an English word: "Nicholson", "Suzette"


def _census(file_name: str, max_rank: int | None = None) -> frozenset[str]:
    text = importlib.resources.files("names").joinpath(file_name).read_text(encoding="ascii")
    out = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and (max_rank is None or int(parts[3]) <= max_rank):
            out.add(parts[0].lower())
    return frozenset(out)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    return _census("dist.female.first") | _census("dist.male.first")


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return _census("dist.all.last", SURNAME_MAX_RANK)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """WordNet lemmas from the spaCy pipeline presidio already loaded (no second copy of the model)."""
    from assistant.redaction.nlp import get_nlp_engine

    nlp = get_nlp_engine().nlp["en"]  # type: ignore[attr-defined]
    tables = nlp.get_pipe("lemmatizer").lookups
    words: set[str] = set()
    if "lemma_index" in tables.tables:
        index = tables.get_table("lemma_index")
        for pos in index:
            words.update(w for w in index[pos] if "_" not in w)
    return frozenset(words)


@lru_cache(maxsize=1)
def non_noun_words() -> frozenset[str]:
    """WordNet verbs, adjectives and adverbs: a town name that is also one ("Commerce" no, "Floor" yes) is
    too common a word to count as a place on its own."""
    from assistant.redaction.nlp import get_nlp_engine

    nlp = get_nlp_engine().nlp["en"]  # type: ignore[attr-defined]
    tables = nlp.get_pipe("lemmatizer").lookups
    words: set[str] = set()
    if "lemma_index" in tables.tables:
        from spacy.strings import get_string_id

        index = tables.get_table("lemma_index")
        noun = get_string_id("noun")  # the table's keys are string hashes
        for pos in index:
            if pos not in ("noun", noun):
                words.update(w for w in index[pos] if "_" not in w)
    return frozenset(words)


def _lemmas(word: str) -> list[str]:
    """The word and its plain inflection stems: "wheezes" -> "wheeze", "tolerated" -> "tolerate"."""
    out = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e"), ("d", ""), ("'s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


def _bare(word: str) -> str:
    """Lower case without edge punctuation or a possessive: "O'Rourke's" -> "orourke"."""
    bare = word.strip(".,'’:;()").lower()
    for suffix in ("'s", "’s"):
        if bare.endswith(suffix):
            bare = bare[: -len(suffix)]
    return bare.replace("'", "").replace("’", "")


def _parts(word: str) -> list[str]:
    return [p for p in _bare(word).split("-") if p]


def is_english(word: str) -> bool:
    vocabulary = english_words()
    return any(w in vocabulary for w in _lemmas(_bare(word)))


def is_census_name(word: str) -> bool:
    return any(p in first_names() or p in surnames() for p in _parts(word))


def _strength(bare: str) -> int:
    if len(bare) < 2 or bare in NOT_A_NAME or bare in NAME_EPONYMS or not bare.isalpha():
        return NOT_NAME
    if bare not in first_names() and bare not in surnames():
        return NOT_NAME
    return AMBIGUOUS if is_english(bare) else NAME


def name_strength(word: str) -> int:
    """``NAME``, ``AMBIGUOUS`` or ``NOT_NAME`` for one word, whatever its case ("Forman-Lyons": its best part)."""
    return max((_strength(p) for p in _parts(word)), default=NOT_NAME)


def is_first_name(word: str) -> bool:
    bare = _bare(word)
    return bare in first_names() and _strength(bare) == NAME


def is_unknown_word(word: str) -> bool:
    """Neither English, nor clinical, nor a stop word: a rare surname ("Czyzewicz") or a typo."""
    parts = _parts(word)
    return bool(parts) and all(
        len(p) >= 3 and p.isalpha() and p not in NOT_A_NAME and not is_english(p) for p in parts
    )
