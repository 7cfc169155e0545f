"""Name and word lexicons (census names, WordNet lemmas) and what they change in notes without capitals."""

from __future__ import annotations

import pytest

from assistant.redaction.engine import detect
from assistant.redaction.evaluation import PHYSIONET_DIR, evaluate, load_physionet
from assistant.redaction.recognizers._lexicon import (
    AMBIGUOUS,
    NAME,
    NOT_NAME,
    first_names,
    is_english,
    is_unknown_word,
    name_strength,
    surnames,
)


def test_census_lists_load_from_the_installed_package() -> None:
    assert len(first_names()) > 5000
    assert len(surnames()) > 50000
    assert {"mary", "james", "suzette"} <= first_names()
    assert {"smith", "nicholson", "vasquez"} <= surnames()


def test_name_strength_separates_names_words_and_shorthand() -> None:
    assert name_strength("Nicholson") == NAME
    assert name_strength("SUZETTE") == NAME
    assert name_strength("O'Rourke") == NAME
    assert name_strength("Forman-Lyons") == NAME
    assert name_strength("Rose") == AMBIGUOUS
    assert name_strength("King") == AMBIGUOUS and name_strength("block") == AMBIGUOUS
    for word in ("neuro", "CV", "abd", "alert", "wheezes", "carevue", "mae", "protocol", "Foley"):
        assert name_strength(word) == NOT_NAME, word
    assert is_english("wheezes") and is_english("tolerated")
    assert is_unknown_word("Czyzewicz") and not is_unknown_word("Neuro") and not is_unknown_word("crackles")


def test_names_in_all_caps_and_lower_case_notes() -> None:
    caps = "PT RESTING. SPOKE WITH DAUGHTER SUZETTE. PER DR. NICHOLSON WEAN NEO. NEURO: A&OX3, MAE."
    found = {e.text for e in detect(caps) if e.type == "PERSON"}
    assert {"SUZETTE", "NICHOLSON"} <= found
    assert not any(w in " ".join(found) for w in ("NEURO", "NEO", "MAE", "WEAN"))
    lower = "dr. griffin made aware. cv: hr 80s. abd soft. hank przybylo (son) called. per protocol."
    found = {e.text for e in detect(lower) if e.type == "PERSON"}
    assert {"griffin", "hank przybylo"} <= found
    assert not any(w in " ".join(found) for w in ("cv", "abd", "protocol"))


def test_shorthand_after_cues_is_not_a_name_or_place() -> None:
    text = ("RESP: 4L NP CRACKLES 1/2 UP. IV NURSE UNSUCCESSFUL. ATIVAN GIVEN PER HO. "
            "TOLERATED DIALYSIS. TRANSFERRED TO CCU.")
    assert [e for e in detect(text) if e.type in {"PERSON", "LOCATION"}] == []


def test_facilities_after_transfer_cues_in_all_caps() -> None:
    text = "PT TRANSFERED TO GH FOR CATH. SENT TO ED AT GH. FAMILY VISITING."
    found = [e.text for e in detect(text) if e.type == "LOCATION"]
    assert found.count("GH") == 2


def test_eponym_after_a_title_is_a_person_but_not_alone() -> None:
    assert "PERSON" in {e.type for e in detect("Spoke with Dr. Foley about the plan.")}
    assert detect("Foley removed, voiding.") == []


@pytest.mark.slow  # scores the PhysioNet eval corpus: about 10 s
@pytest.mark.skipif(not PHYSIONET_DIR.is_dir(), reason="PhysioNet deid corpus absent")
def test_physionet_halves_split_and_held_out_half_scores() -> None:
    dev, held = load_physionet(half="dev"), load_physionet(half="heldout")
    assert len(dev) + len(held) == len(load_physionet())
    assert {n.name for n in dev}.isdisjoint({n.name for n in held})
    report = evaluate("physionet-heldout", limit=150)
    assert report["overall"]["gold"] > 40
    assert report["overall"]["recall"] >= 0.8
    assert report["overall"]["precision"] >= 0.5  # was 0.24 before the name lexicons
