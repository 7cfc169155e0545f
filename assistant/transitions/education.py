"""Patient education: the teach-back of the discharge plan, and each warning sign the discharge instructions name,
written so the care manager can ask the patient to say it back.

A warning sign is an instruction that says to call or come back when a symptom appears ("Call your physician if
you notice:" followed by the list of signs, "If you experience chest pain ... return to the Emergency Room"). When
the instruction ends in a colon, the short lines after it are its list and are cited with it. The daily-weights
instruction of a heart-failure discharge is its own item (``assistant.transitions.conditions``); the clauses it
uses are not repeated here.
"""

from __future__ import annotations

import re

from assistant.records.model import DocumentSection
from assistant.transitions import knowledge as k
from assistant.transitions.followups import PENDING
from assistant.transitions.item import Item, text_id
from assistant.transitions.sources import record_citation
from assistant.transitions.stay import Line, Stay, is_heading

TRIGGER = re.compile(
    r"\b(call|contact|return to|go to|come back|seek|dial|911|9-1-1|emergency|if you (?:notice|experience|have|develop|"
    r"feel|gain|get|see)|watch for)\b",
    re.IGNORECASE,
)
DONE_ALREADY = re.compile(r"\b(reviewed|discussed|provided|completed|taught|given|explained)\b", re.IGNORECASE)
SYMPTOM = re.compile(
    r"\b(pain|bleed\w*|fever|chills|short(?:ness)? of breath|breath\w*|swell\w*|dizz\w*|faint\w*|"
    r"light-?headed\w*|vomit\w*|nausea|weight|gain\w*|worse\w*|chest|confus\w*|redness|stools?|urin\w*|"
    r"cough\w*|wheez\w*|rash|numb\w*|weak\w*|unusual|symptoms?|notice|signs?)\b",
    re.IGNORECASE,
)
_LIST_STOP = {"do", "take", "make", "you", "follow", "call", "return", "weigh", "keep", "resume", "continue", "avoid",
              "schedule", "please", "if", "no", "use", "check", "eat", "drink", "walk", "rest"}  # fmt: skip
LIST_WORDS = 12


def is_warning(text: str) -> bool:
    """An instruction to call or come back when a symptom appears (not a note that teaching was done)."""
    return (TRIGGER.search(text) is not None and SYMPTOM.search(text) is not None and PENDING.search(text) is None
            and DONE_ALREADY.search(text) is None)  # fmt: skip


def items(stay: Stay, claimed: set[int]) -> list[Item]:
    return [teach_back(stay), *warning_signs(stay, claimed)]


def teach_back(stay: Stay) -> Item:
    sections = stay.instruction_sections
    evidence = [
        f"written instructions: section '{s.record.title}'"
        for s in sections  # type: ignore[union-attr]
        if isinstance(s.record, DocumentSection)
    ]
    if not sections:
        evidence.append("the record holds no written discharge instructions: ask the patient what they were told")
    return Item(
        "teach-back",
        "education",
        "Confirm by teach-back that the patient (or caregiver) can explain the discharge plan in their own words: the "
        "diagnosis, the medicines and what changed, the follow-up appointments, and what to do if a problem arises.",
        stay.contact_due,
        "care_manager",
        True,
        stay.status(stay.contact_due),
        evidence,
        [
            *[record_citation(s) for s in sections[:3]],
            *stay.knowledge(k.RED_TEACH_BACK, k.BOOST_TEACH_BACK, k.RED_EDUCATE),
        ],
    )


def warning_signs(stay: Stay, claimed: set[int]) -> list[Item]:
    found: list[Item] = []
    seen: set[str] = set()
    for stored in stay.instruction_sections:
        clauses = stay.clauses_of(stored)
        index = 0
        while index < len(clauses):
            clause = clauses[index]
            index += 1
            if clause.span.start in claimed or is_heading(clause) or not is_warning(clause.text):
                continue
            group = [clause]
            if clause.text.rstrip().endswith(":"):
                while index < len(clauses) and _list_entry(clauses[index]):
                    group.append(clauses[index])
                    index += 1
            claimed.update(line.span.start for line in group)
            citation = stay.line_citation(clause, end=group[-1].span.end)
            quote = " ".join(line.text for line in group)
            if quote.lower() in seen:
                continue
            seen.add(quote.lower())
            found.append(
                Item(
                    text_id("warning", quote),
                    "education",
                    f'Teach back the warning signs in the discharge instructions: "{quote}". Ask the patient to say '
                    "which "
                    "signs mean calling, and whom to call.",
                    stay.contact_due,
                    "care_manager",
                    True,
                    stay.status(stay.contact_due),
                    [f"from the section '{clause.section.title}'"],
                    [citation, *stay.knowledge(k.RED_PROBLEM, k.BOOST_TEACH_BACK)],
                )
            )
    return found


def _list_entry(line: Line) -> bool:
    words = line.text.split()
    return (
        0 < len(words) <= LIST_WORDS
        and words[0].lower().strip("-•*") not in _LIST_STOP
        and not line.text.rstrip().endswith(":")
    )
