"""How the composer reads a question's form: parts, the kind of answer each part asks for, and what a sentence
carries. Plain functions over text; the end-to-end effect is scored in tests/test_eval_knowledge.py."""

from __future__ import annotations

import pytest

from assistant.compose.question import (
    announced_count,
    asks_for,
    carries,
    content_terms,
    dated_only,
    numbers_named,
    parts,
    question_terms,
    ranking_asked,
    states_rank,
    time_order,
    years,
)


def test_a_two_part_question_splits_at_a_conjunction_before_a_question_word() -> None:
    found = parts("What is the copay for the annual visit, and from when does it apply?")
    assert len(found) == 2
    assert found[0].text == "What is the copay for the annual visit" and found[0].asks is None
    # The second part says what it wants (a time), not about what: it borrows the first part's topic.
    assert found[1].asks == "time" and found[1].text.startswith("What is the copay for the annual visit")
    assert len(parts("Who signs the plan? When is it due?")) == 2
    assert len(parts("Is the visit required; who pays for it?")) == 2


@pytest.mark.parametrize(
    "question",
    [
        "What are the start and end dates of the model?",
        "How much of the savings or losses does the ACO keep?",
        "Does a Participant join at the TIN or the TIN-NPI level?",
    ],
)
def test_noun_phrases_joined_by_and_or_stay_one_part(question: str) -> None:
    assert len(parts(question)) == 1


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("When does shadow testing start?", "time"),
        ("Within how many days must the visit happen?", "time"),
        ("How soon after discharge is the call due?", "time"),
        ("Which year is the final year of the program?", "time"),
        ("What share of the savings does the track carry?", "figure"),
        ("What fraction of losses applies?", "figure"),
        ("How large is the withhold?", "figure"),
        ("What is the minimum number of patients?", "figure"),
        ("Name the three screening questions.", "list"),
        ("What are the two ways to enrol?", "list"),
        ("Is the payment reconciled?", None),
        ("Who qualifies as high needs?", None),
    ],
)
def test_what_a_question_asks_for(question: str, asks: str | None) -> None:
    assert asks_for(question) == asks


def test_the_number_of_items_a_list_question_asks_for() -> None:
    assert parts("Name the four measures that carry over.")[0].count == 4
    assert parts("What are the 3 options?")[0].count == 3
    assert parts("What are the options?")[0].count is None


@pytest.mark.parametrize(
    ("asks", "sentence", "expected"),
    [
        ("figure", "The track puts the ACO at risk for 50% of savings and losses.", True),
        ("figure", "Risk scores carry one-third weight.", True),
        ("figure", "CMS will partner with up to two states.", True),
        ("figure", "The track puts the ACO at risk for savings and losses.", False),
        ("time", "The model ends on December 31, 2036.", True),
        ("time", "Book the visit within 7 days of discharge.", True),
        ("time", "Contact within 2 business days of discharge.", True),
        ("time", "Screen every year for falls.", True),
        ("time", "The ACO needs 5,000 aligned beneficiaries.", False),
        ("list", "The measures are readmissions, unplanned admissions, days at home and follow-up.", True),
        ("list", "The measure counts readmissions.", False),
        (None, "Anything at all, 2027.", False),
    ],
)
def test_what_a_sentence_carries(asks: str | None, sentence: str, expected: bool) -> None:
    assert carries(asks, sentence) is expected  # type: ignore[arg-type]


def test_announced_counts_and_named_numbers() -> None:
    assert announced_count("The set keeps four claims-based measures from REACH.") == 4
    assert announced_count("CARA offers two contracting options, a default and a flexible one.") == 2
    assert announced_count("The visit is due within 7 days.") == 7  # a count, though not of items: lists only
    assert announced_count("The set keeps the measures from REACH.") is None
    assert numbers_named("What did code 99496 pay in PY2024?") == {"99496", "2024"}
    assert numbers_named("What is CMS165?") == set()


def test_first_and_last_years() -> None:
    assert time_order("Are the measures scored in the first two performance years?") == "earliest"
    assert time_order("Which is the last performance year?") == "latest"
    assert time_order("What is the first thing the team does?") is None
    assert years("Optional in 2027 and 2028, scored from 2031 (PY5).") == [2027, 2028, 2031]


def test_content_terms_leave_out_the_question_form() -> None:
    terms = content_terms("How much do we have to pay for our patients' visits?")
    assert "pay" in terms and "visit" in terms
    assert not terms & {"how", "much", "we", "our", "have"}


def test_about_one_patient_the_words_for_her_and_her_record_are_not_topics() -> None:
    question = "Why did the patient go to the hospital, and what did the notes say about it?"
    assert {"patient", "note"} <= content_terms(question)  # a protocol question keeps them: "patient engagement"
    assert question_terms(question, about_patient=True) == content_terms(question) - {"patient", "note"}
    assert "say" not in content_terms("What does the RFA say about alignment?")  # question form, never a topic


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Date: 10/01/2026", True),
        ("Admission date: 10/20/2026    Discharge date: 10/27/2026", True),
        ("Collected: 2026-10-01 08:30", True),
        ("Discharged on 10/27/2026 to home with her daughter.", False),
        ("Pending Results: None.", False),
        ("Follow-up call in 2 weeks.", False),
    ],
)
def test_a_line_that_only_dates_something(line: str, expected: bool) -> None:
    assert dated_only(line) is expected



@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which ACOs won the most shared savings in 2024?", True),
        ("Who scored highest on CAHPS?", True),
        ("Which track carries the least risk?", True),
        ("Which lab is her most recent?", False),  # an order in time, not a rank
        ("Which patients are most likely to be readmitted?", False),
        ("Who can be charged at most $5?", False),  # a limit
        ("What is the best inhaler for emphysema?", False),  # not which or who: the ordinary threshold decides
    ],
)
def test_a_question_that_asks_which_ranks_first(question: str, expected: bool) -> None:
    assert ranking_asked(question) is expected


def test_only_a_sentence_that_ranks_or_compares_answers_a_ranking() -> None:
    assert states_rank("The LEAD quality withhold of 3% is lower than the 5% withhold that ACO REACH used.")
    assert states_rank("The ACO with the highest score keeps the most.")
    assert not states_rank("In the simulation, 81 ACOs gained about $70 million.")  # an amount ranks nothing
    assert not states_rank("Milliman simulated the benchmark on 2024 MSSP ACOs.")
