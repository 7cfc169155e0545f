"""The facts in a sentence that its cited span must state word for word: numbers, dates, doses and names.

Why a hard rule beside the content-word score: a generated sentence can share 80 % of its words with a source and
still change the one thing a care team acts on ("within 7 days" from a span that says 14, "metoprolol" from a span
about furosemide, "Dr. Patel" from a span naming someone else). Coverage alone would keep it. Every such token of
the sentence must therefore appear in one of the spans it cites; an extractive sentence passes trivially.

What counts: every number (with its decimal part, and percentages, dates and times as written: "9.4", "11/20",
"2:30"); every capitalised word that does not open the sentence (person, place, drug brand and programme names:
"Patel", "Lasix", "LEAD"); and lower-case generic drug names, recognised by the stems the USAN council assigns
(furosemide, metoprolol, lisinopril, apixaban, ...). A number from one to twenty may be written as a word in the
span ("two business days" supports "2 business days").
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,:/]\d+)*(?![\w])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# USAN stems of generic drug names (a selection that covers the classes a discharge list names).
_DRUG_STEM = re.compile(
    r"[a-z]+(?:pril|sartan|olol|dipine|semide|thiazide|tiazide|statin|formin|gliptin|gliflozin|glutide|parin|"
    r"xaban|gatran|grel|azole|cillin|mycin|cycline|floxacin|prazole|tidine|oxetine|aline|azepam|zolam|codone|"
    r"morphone|profen|coxib|sone|olone|lukast|terol|tropium|insulin|warfarin|digoxin|spironolactone)\b"
)
_NUMBER_WORDS = {
    1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
    11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen", 16: "sixteen", 17: "seventeen",
    18: "eighteen", 19: "nineteen", 20: "twenty",
}
# Capitalised words that carry no fact of their own when they appear mid-sentence.
_TITLES = {"Dr", "Mr", "Mrs", "Ms", "St", "Mt", "Jr", "Sr"}  # "Dr. Patel": the full stop ends no sentence
_PLAIN = {"I", "If", "The", "This", "That", "These", "Those", "A", "An", "In", "On", "At", "For", "And", "Or"}


def fact_tokens(sentence: str) -> list[str]:
    """The numbers, names and drug names of ``sentence``, in order, without repeats."""
    tokens = [m.group(0) for m in _NUMBER.finditer(sentence)]
    words = list(_WORD.finditer(sentence))
    for index, match in enumerate(words):
        word = match.group(0)
        before = sentence[: match.start()].rstrip()
        after_title = index > 0 and words[index - 1].group(0) in _TITLES and before.endswith(".")
        opens_sentence = index == 0 or (before.endswith((".", "!", "?", ":")) and not after_title)
        if word[0].isupper() and not opens_sentence and word not in _PLAIN:
            tokens.append(word)
        elif _DRUG_STEM.fullmatch(word.lower()):
            tokens.append(word)
    return list(dict.fromkeys(tokens))


def missing_facts(sentence: str, quotes: list[str]) -> list[str]:
    """The fact tokens of ``sentence`` that none of the cited ``quotes`` states."""
    text = " ".join(quotes)
    lowered = text.lower()
    missing = []
    for token in fact_tokens(sentence):
        if token[0].isdigit():
            if _stated_number(token, text):
                continue
        elif re.search(rf"(?<![a-z]){re.escape(token.lower())}(?![a-z])", lowered):
            continue
        missing.append(token)
    return missing


def _stated_number(token: str, text: str) -> bool:
    if re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", text):
        return True
    word = _NUMBER_WORDS.get(int(token)) if token.isdigit() else None
    return word is not None and re.search(rf"\b{word}\b", text, flags=re.IGNORECASE) is not None
