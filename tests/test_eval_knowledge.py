"""The knowledge-answer eval: question sets the knowledge base's author did not write (the shared LEAD questions,
MedQuAD) and our own, through the real retrieval and composer, against the issue's targets; and the command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.compose.evaluation import (
    EvalSetError,
    KnowledgeEval,
    citation_valid,
    evaluate_with,
    half,
    load_jsonl,
    load_set,
)
from assistant.settings import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared"
LEAD_DEV = SHARED / "evals" / "lead_questions_dev.jsonl"
MEDQUAD = SHARED / "data" / "qa_care_transitions_aco" / "abachaa_MedQuAD_subset"
EVALS = REPO_ROOT / "evals"


def _shared(path: Path) -> Path:
    """Skip without ../shared on a developer's machine; in CI its absence is a broken set-up."""
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is not present beside the checkout")
    return path


def test_both_row_shapes_load(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"q": "How big is the withhold?", "all": ["3%"], "also_any": ["5%", "five"]},
        {"q": "What is the capital of Australia?", "abstain": True},
        {"id": "kq-1", "question": "When does it start?", "key_fact": "2027"},
        {"id": "oos-1", "question": "Who won the cup?"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    questions = load_jsonl(path)
    assert [q.expect for q in questions] == ["answer", "abstain", "answer", "abstain"]
    assert questions[0].id == "set:1" and questions[2].id == "kq-1"
    assert questions[0].key_facts_in("It is 3%, down from 5%.")
    assert not questions[0].key_facts_in("It is 3%.")  # also_any unmet
    assert questions[2].key_facts_in("from January 1, 2027") and not questions[2].key_facts_in("soon")
    assert [q.id for q in half(questions, "even")] == ["set:1", "kq-1"]
    assert [q.id for q in half(questions, "odd")] == ["set:2", "oos-1"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"q": "x", "any": ["a"]}\n{"q": ', "line 2, column"),
        ('{"question": ""}', "line 1: no question"),
        ('{"q": "x", "any": 5}', "line 1: 'any' must be a string or a list of strings"),
        ('{"q": "x", "any": ["a"], "abstain": true}', "line 1: a question cannot both abstain and expect key facts"),
        ("[1, 2]", "line 1: expected a JSON object"),
    ],
)
def test_a_bad_set_is_named_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line, encoding="utf-8")
    with pytest.raises(EvalSetError, match=message) as raised:
        load_set(path)
    assert str(path) in str(raised.value)
    with pytest.raises(EvalSetError, match="no such file"):
        load_set(tmp_path / "missing.jsonl")


def test_medquad_xml_loads_as_abstain_or_answer_questions(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0001.xml").write_text(
        '<?xml version="1.0"?><Document id="1"><Focus>COPD</Focus><QAPairs>'
        '<QAPair pid="1"><Question qid="1-1" qtype="information">What is (are)  COPD ?</Question>'
        "<Answer>A lung disease.</Answer></QAPair>"
        '<QAPair pid="2"><Question qid="1-2" qtype="symptoms"> </Question><Answer>x</Answer></QAPair>'
        "</QAPairs></Document>",
        encoding="utf-8",
    )
    questions = load_set(tmp_path)
    assert len(questions) == 1
    assert questions[0].id == "1-1" and questions[0].question == "What is (are) COPD ?"
    assert questions[0].expect == "either" and questions[0].reference == "A lung disease."
    (tmp_path / "a" / "0002.xml").write_text("<Document><QAPairs>", encoding="utf-8")
    with pytest.raises(EvalSetError, match="0002.xml: line"):
        load_set(tmp_path)


def test_a_citation_is_valid_only_when_it_opens_exactly() -> None:
    import hashlib

    source = (REPO_ROOT / "knowledge" / "tcm.md").read_text(encoding="utf-8")
    start = source.index("# ")
    quote = source[start : start + 30]
    good = {"source_uri": "knowledge/tcm.md", "start": start, "end": start + 30, "quote": quote,
            "sha256": hashlib.sha256(quote.encode()).hexdigest()}  # fmt: skip
    assert citation_valid(good)
    assert not citation_valid({**good, "start": start + 1})
    assert not citation_valid({**good, "sha256": "0" * 64})
    assert not citation_valid({**good, "source_uri": "knowledge/missing.md"})


@pytest.fixture(scope="module")
def deps(knowledge_ctx):  # type: ignore[no-untyped-def]
    return knowledge_ctx.answer_deps


def _margin_holds(report: KnowledgeEval) -> None:
    margin = report.margin()
    assert margin["in_scope_below_threshold"] == [], margin
    assert margin["must_abstain_above_threshold"] == [], margin


@pytest.mark.slow
def test_our_own_sets_keep_their_scores(deps) -> None:  # type: ignore[no-untyped-def]
    qa = evaluate_with(deps, load_set(EVALS / "knowledge_qa.jsonl"), "qa")
    assert qa.questions >= 60 and qa.key_fact_recall == 1.0 and qa.answer_rate == 1.0, [
        (r.id, r.answer) for r in qa.results if not r.key_facts
    ]
    out = evaluate_with(deps, load_set(EVALS / "knowledge_out_of_scope.jsonl"), "oos")
    assert out.abstention_recall == 1.0, [r.question for r in out.results if not r.abstained]
    _margin_holds(qa)
    _margin_holds(out)
    assert qa.citation_validity == 1.0


@pytest.mark.slow
def test_near_scope_questions_abstain(deps) -> None:  # type: ignore[no-untyped-def]
    """Clinical and LEAD questions close to the documents' topics that the documents do not answer. Two LEAD
    questions whose every word the documents use ("who is the director", "which ACO scored highest") are still
    answered with related sentences: a known limit of a word-and-embedding composer, kept visible here."""
    report = evaluate_with(deps, load_set(EVALS / "knowledge_near_scope.jsonl"), "near")
    answered = [r.id for r in report.results if not r.abstained]
    assert report.questions >= 20 and report.abstention_recall >= 0.9, answered


@pytest.fixture(scope="module")
def lead_report(deps) -> KnowledgeEval:  # type: ignore[no-untyped-def]
    return evaluate_with(deps, load_set(_shared(LEAD_DEV)), "lead dev")


@pytest.mark.slow
def test_shared_lead_questions_meet_the_targets(lead_report: KnowledgeEval) -> None:
    """Issue target on the 32 shared questions: the key fact in >= 30 answers (abstentions that were due count) and
    every out-of-scope question abstained, every citation opening exactly. Today 30: 26 of 28 in scope (a
    paraphrased two-part question and a section retrieval ranks 8th are still missed) and all 4 abstentions; the
    development half (even rows) is all correct, so a drop there is a regression."""
    misses = [(r.id, r.question) for r in lead_report.results if not (r.key_facts or r.expect == "abstain")]
    assert lead_report.questions == 32 and lead_report.correct >= 30, misses
    assert lead_report.abstention_recall == 1.0, [r.question for r in lead_report.results if not r.abstained]
    assert lead_report.citation_validity == 1.0
    development = lead_report.results[0::2]  # the half the composer was developed on (half(..., "even"))
    assert all(r.key_facts or (r.expect == "abstain" and r.abstained) for r in development), development


# Measured on the whole MedQuAD subset when this was written: 69 of 500 answered (0.138), every citation exact.
# The answered ones cite related protocol sentences ("CMS165 ... is titled Controlling High Blood Pressure" for
# "What are the treatments for high blood pressure?") rather than answers: a limit, kept from growing here.
MEDQUAD_MAX_ANSWER_RATE = 0.2


@pytest.mark.slow
def test_medquad_questions_abstain_or_answer_with_exact_citations(deps) -> None:  # type: ignore[no-untyped-def]
    """Clinical-education questions the protocol documents mostly do not cover: what is answered is cited text
    that opens exactly, and most are abstained on. Every fourth question, to keep the run short."""
    questions = load_set(_shared(MEDQUAD))
    assert len(questions) >= 500
    report = evaluate_with(deps, questions[::4], "medquad")
    assert report.citation_validity == 1.0
    assert all(r.citations > 0 for r in report.results if not r.abstained)
    answered = [(r.question, r.answer) for r in report.results if not r.abstained]
    assert report.answer_rate <= MEDQUAD_MAX_ANSWER_RATE, answered


@pytest.mark.slow
def test_eval_knowledge_command_prints_the_figures(tmp_path: Path) -> None:
    # Three questions: the command's wiring (its own freshly indexed data dir), not the figures.
    rows = [json.loads(line) for line in (EVALS / "knowledge_qa.jsonl").read_text(encoding="utf-8").splitlines()[:2]]
    rows.append({"id": "oos", "question": "What is the capital of Australia?"})
    path = tmp_path / "three.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    done = CliRunner().invoke(cli, ["eval", "knowledge", "--set", str(path), "--json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["questions"] == 3 and body["in_scope"] == 2 and body["must_abstain"] == 1
    assert body["key_fact_recall"] == 1.0 and body["abstention_recall"] == 1.0 and body["citation_validity"] == 1.0
    assert body["margin"]["margin_below"] > 0 and body["margin"]["margin_above"] > 0
    text = CliRunner().invoke(cli, ["eval", "knowledge", "--set", str(path), "--half", "even"])
    assert text.exit_code == 0, text.output
    assert "2 questions" in text.output and "abstention precision" in text.output and "margin" in text.output
    bad = CliRunner().invoke(cli, ["eval", "knowledge", "--set", str(tmp_path / "none.jsonl")])
    assert bad.exit_code == 2 and "no such file" in bad.output
