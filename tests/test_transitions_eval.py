"""The transitions eval over evals/transitions/scenarios meets its targets (item recall >= 0.95, every due date right,
medication-diff F1 >= 0.95, every episode count and state right), and its scoring catches a wrong expectation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from assistant.transitions.evaluation import DEFAULT_SCENARIOS, load_scenarios
from tests.helpers import copy_data_dir

pytestmark = pytest.mark.slow


def test_scenario_set_covers_what_the_issue_asks_for() -> None:
    scenarios = load_scenarios(DEFAULT_SCENARIOS)
    assert len(scenarios) >= 20
    names = {s.name for s in scenarios}
    assert sum(1 for s in scenarios if s.expected.get("shared")) >= 4  # real documents from ../shared
    assert any(n.startswith("fhir-") for n in names) and any(n.startswith("hl7-") for n in names)
    for needed in ("friday", "thanksgiving", "christmas", "readmission", "died", "hospice", "a13", "duplicate"):
        assert any(needed in n for n in names), needed


def test_eval_meets_the_targets_and_catches_a_wrong_expectation(
    knowledge_ctx: Any, knowledge_settings: Settings, tmp_path: Path
) -> None:
    from assistant.transitions.evaluation import evaluate

    seed = tmp_path / "seed"  # evaluate copies its seed in this process: give it one no connection here holds open
    copy_data_dir(knowledge_settings.data_dir, seed)
    report = evaluate(DEFAULT_SCENARIOS, seed=seed)
    assert report.errors == [] and report.scenarios + len(report.skipped) >= 20
    assert report.recall >= 0.95 and report.due_accuracy == 1.0 and report.med_f1 >= 0.95
    assert report.episode_correct == report.episode_checks > 0
    # One expected due date moved by a day, one expected drug removed: the scorer must notice both.
    broken = tmp_path / "scenarios"
    shutil.copytree(DEFAULT_SCENARIOS / "fhir-friday-heart-failure", broken / "fhir-friday-heart-failure")
    expected_file = broken / "fhir-friday-heart-failure" / "expected.json"
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    expected["items"][0]["due"] = "2026-11-25"
    expected["medication_changes"] = expected["medication_changes"][1:]
    expected_file.write_text(json.dumps(expected), encoding="utf-8")
    wrong = evaluate(broken, seed=seed)
    assert wrong.due_accuracy < 1.0 and wrong.wrong_due[0]["item"] == "tcm-contact"
    assert wrong.med_fp == 1 and wrong.med_f1 < 1.0
