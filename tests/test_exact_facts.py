"""Numbers, dates, doses and names in a sentence must be in the span it cites (assistant/citations/exact_facts)."""

from __future__ import annotations

from assistant.citations.exact_facts import fact_tokens, missing_facts

SOURCE = "Dr. Lee increased furosemide to 40 mg daily on 11/20; contact the patient within two business days."


def test_the_facts_of_a_sentence_are_its_numbers_names_and_drugs() -> None:
    sentence = "Call within 2 business days; Dr. Patel started metoprolol 25 mg on 11/20. Then recheck the BP."
    assert fact_tokens(sentence) == ["2", "25", "11/20", "Dr", "Patel", "metoprolol", "BP"]


def test_a_sentence_restating_its_source_loses_nothing() -> None:
    assert missing_facts("Dr. Lee increased furosemide to 40 mg on 11/20.", [SOURCE]) == []
    assert missing_facts("Contact the patient within 2 business days.", [SOURCE]) == []  # "two" states 2


def test_a_changed_number_name_dose_or_drug_is_caught() -> None:
    assert missing_facts("Contact the patient within 7 business days.", [SOURCE]) == ["7"]
    assert missing_facts("Dr. Patel increased furosemide to 40 mg.", [SOURCE]) == ["Patel"]
    assert missing_facts("Furosemide was increased to 80 mg.", [SOURCE]) == ["80"]
    assert missing_facts("Dr. Lee started metoprolol.", [SOURCE]) == ["metoprolol"]
    assert missing_facts("The dose is 4.0 mg.", ["The dose is 40 mg."]) == ["4.0"]


def test_any_cited_span_may_state_the_fact() -> None:
    assert missing_facts("Metoprolol 25 mg is new; furosemide went to 40 mg.",
                         ["metoprolol 25 mg daily (new)", SOURCE]) == []
