"""The learned PHI tagger: what it ships, what it may know, and what it finds in nursing-style notes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.redaction import lexicons
from assistant.redaction.engine import detect, detector_version, run_rules, tagger_rows
from assistant.redaction.evaluation import load_ours
from assistant.redaction.tagger import MODEL_PATH, TaggerModel, default_model, gold_labels, is_typo_of_safe, train

_IDENTITY = re.compile(r"^(?:-?\d|[pn]3)?w=(.+)$")


def test_the_model_ships_small_and_knows_only_public_words() -> None:
    """No word from a training note reaches the model file unless it is a known-safe, non-name public word."""
    assert MODEL_PATH.is_file() and MODEL_PATH.stat().st_size < 20 * 1024 * 1024
    model = default_model()
    assert model is not None and 0.0 < model.threshold < 1.0
    allowed = lexicons.identity_vocabulary()
    identities = [m.group(1) for f in model.features if (m := _IDENTITY.match(f))]
    assert len(identities) > 1000
    for word in identities:
        assert word in ("?", "<edge>") or word in allowed or (word.isdigit() and len(word) <= 2), word
    assert "w=?" in model.features


def test_detector_version_names_the_models_content() -> None:
    model = default_model()
    assert model is not None
    assert detector_version().endswith(f"tagger-{model.digest}")
    changed = TaggerModel(list(model.features), model.coef.copy(), model.intercept, model.threshold)
    changed.coef[0, 0] += 1.0
    assert changed.digest != model.digest


def test_names_places_and_dates_in_all_caps_nursing_notes() -> None:
    """Names and places written the way ICU nursing notes write them: capitals, no titles, shorthand around."""
    text = (
        "NPN 7P-7A: PT IS 78 YO MAN ADMITTED TO FENWICK 5 FROM GLENWOOD MEMORIAL ON 11/2. DTR LUCILLE AWARE, "
        "WILL CALL DR. BRANNIGAN IN AM. SON ROBERTO LIVES IN HAGERSTOWN."
    )
    found = {e.text for e in detect(text)}
    for planted in ("FENWICK", "GLENWOOD MEMORIAL", "11/2", "LUCILLE", "BRANNIGAN", "ROBERTO", "HAGERSTOWN"):
        assert any(planted in f for f in found), planted
    lower = "npn: pt seen by dr okafor, wife marisol at bedside. dtr henrietta called from frederick."
    found = {e.text.lower() for e in detect(lower)}
    assert {"okafor", "marisol", "henrietta"} <= found


def test_nursing_shorthand_and_clinical_words_stay() -> None:
    text = "NEURO: A&OX3, MAE. CV: NSR, SBP 110S ON NEO GTT. GI: OGT TO LCWS. FOLEY DRAINING AMBER URINE."
    assert [e.text for e in detect(text) if e.type in ("PERSON", "LOCATION")] == []


def test_typos_of_clinical_words_are_recognized() -> None:
    assert is_typo_of_safe("draingae") and is_typo_of_safe("diltizem")
    assert not is_typo_of_safe("brannigan")


@pytest.mark.slow  # runs spaCy and the rules on our 72 notes and fits a model
def test_training_saving_and_loading_give_the_same_predictions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = load_ours()[:40]
    rows = [tagger_rows(run_rules(n.text)) for n in notes]
    labels = [
        gold_labels(r, [(s.start, s.end, s.type) for s in n.spans], n.ignore) for r, n in zip(rows, notes, strict=True)
    ]
    model = train(rows, labels, threshold=0.8, meta={"trained_on": "test"})
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = TaggerModel.load(path)
    assert loaded.digest == model.digest and loaded.meta["trained_on"] == "test"
    assert np.allclose(loaded.probabilities(rows[0].rows), model.probabilities(rows[0].rows), atol=1e-5)
    # trained on these notes it finds most of their names
    person_rows = [
        row
        for note, labs in zip(rows, labels, strict=True)
        for row, lab in zip(note.rows, labs, strict=True)
        if lab == "PERSON"
    ]
    probs = loaded.probabilities(person_rows)
    assert (probs[:, 0] < 0.5).mean() > 0.8
