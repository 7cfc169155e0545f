"""`caretrail eval knowledge --set FILE`: answer rate, abstention, key-fact recall, citation validity and the
abstention threshold's margin on a question set (JSON Lines, or a folder of MedQuAD XML), run over a freshly indexed
copy of the knowledge base."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


def _score(value: dict | None) -> str:
    return "n/a" if value is None else f"{value['score']:.3f} ({value['id']})"


@eval_app.command("knowledge")
def eval_knowledge_command(
    question_set: Path = typer.Option(
        ...,
        "--set",
        help="Questions: JSON Lines (fields q/question, any/all/also_any or key_fact, "
        "abstain) or a folder of MedQuAD XML files.",
    ),
    which: str | None = typer.Option(None, "--half", help="Only rows 0,2,4,... (even) or 1,3,5,... (odd)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N questions (after --half)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report, every answer included, as JSON."),
) -> None:
    from assistant.compose.evaluation import EvalSetError, evaluate

    if which not in (None, "even", "odd"):
        fail(f"--half must be even or odd, not {which!r}")
    try:
        report = evaluate(question_set, which, limit)  # type: ignore[arg-type]
    except EvalSetError as exc:
        fail(str(exc))
    body = report.to_dict()
    if as_json:
        print_json(body)
        return
    margin = body["margin"]
    typer.echo(
        f"{body['name']}: {body['questions']} questions ({body['in_scope']} in scope, "
        f"{body['must_abstain']} must abstain, {body['either']} abstain or answer from the sources)"
    )
    typer.echo(f"answer rate           {body['answer_rate']:.3f} ({body['answered']}/{body['questions']})")
    typer.echo(f"abstention precision  {body['abstention_precision']:.3f}")
    typer.echo(f"abstention recall     {body['abstention_recall']:.3f} (of {body['must_abstain']} that must abstain)")
    typer.echo(f"key-fact recall       {body['key_fact_recall']:.3f} (of {body['in_scope']} in scope)")
    typer.echo(f"correct               {body['correct']} (key facts present or required abstention made)")
    typer.echo(f"citation validity     {body['citation_validity']:.3f} ({body['citations']} citations)")
    typer.echo(f"threshold             {margin['threshold']:.3f}")
    typer.echo(
        f"  lowest answered in scope     {_score(margin['lowest_answered_in_scope'])}  margin {margin['margin_below']}"
    )
    typer.echo(
        f"  highest abstained out of scope {_score(margin['highest_abstained_out_of_scope'])}  "
        f"margin {margin['margin_above']}"
    )
    if margin["in_scope_below_threshold"]:
        typer.echo(f"  ! in scope below threshold: {', '.join(margin['in_scope_below_threshold'])}")
    if margin["must_abstain_above_threshold"]:
        typer.echo(f"  ! must abstain above threshold: {', '.join(margin['must_abstain_above_threshold'])}")
    for result in body["results"]:
        if result["expect"] == "answer" and not result["key_facts"]:
            typer.echo(f"  ! key fact missing  {result['id']}: {result['question']}")
        elif result["expect"] == "abstain" and not result["abstained"]:
            typer.echo(f"  ! answered          {result['id']}: {result['question']}")
        elif result["expect"] == "either" and not result["abstained"]:
            typer.echo(f"  ? answered          {result['id']}: {result['question']} -> {result['answer'][:160]}")
        if result["citations_valid"] < result["citations"]:
            typer.echo(f"  ! bad citation      {result['id']}")
