"""`caretrail eval guidance`: item recall and precision, due-date accuracy and citation validity over the patient
scenarios in evals/guidance/scenarios (FHIR bundles with the items each role should get)."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


@eval_app.command("guidance")
def eval_guidance_command(
    scenarios: Path = typer.Option(None, "--scenarios",
                                   help="Folder of <scenario>/bundle.json + expected.json (default: evals/guidance/"
                                        "scenarios)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report (with misses and extras) as JSON."),
) -> None:
    from assistant.guidance.evaluation import DEFAULT_SCENARIOS, evaluate

    folder = scenarios or DEFAULT_SCENARIOS
    if not folder.is_dir():
        fail(f"no such folder: {folder}")
    report = evaluate(folder)
    if as_json:
        print_json(report.to_dict())
        return
    typer.echo(f"{report.scenarios} scenarios, {report.expected} expected items, {report.produced} produced")
    typer.echo(f"item recall        {report.recall:.3f} ({report.matched}/{report.expected})")
    typer.echo(f"item precision     {report.precision:.3f} ({report.matched}/{report.produced})")
    typer.echo(f"due-date accuracy  {report.due_accuracy:.3f} ({report.due_correct}/{report.matched})")
    typer.echo(f"citation validity  {report.citation_validity:.3f} ({report.citations_valid}/{report.citations})")
    typer.echo(f"  {'rule':<28}{'expected':>9}{'produced':>9}{'matched':>8}{'due ok':>7}")
    for rule, tally in sorted(report.per_rule.items()):
        typer.echo(f"  {rule:<28}{tally['expected']:>9}{tally['produced']:>9}{tally['matched']:>8}"
                   f"{tally['due_correct']:>7}")
    for miss in report.misses:
        typer.echo(f"  ! miss  {miss['scenario']}: {miss['rule']} ({miss['owner_role']}, due {miss.get('due')})")
    for extra in report.extras:
        typer.echo(f"  ! extra {extra['scenario']}: {extra['rule']} ({extra['owner_role']}, due {extra['due']}): "
                   f"{extra['rationale']}")
    for wrong in report.wrong_due:
        typer.echo(f"  ! due   {wrong['scenario']}: {wrong['rule']} ({wrong['owner_role']}): expected "
                   f"{wrong['expected']}, got {wrong['got']}")
    for bad in report.bad_citations:
        typer.echo(f"  ! cite  {bad['scenario']}: {bad['rule']} {bad['doc_id']}: {str(bad['quote'])[:60]!r}")
    for error in report.errors:
        typer.echo(f"  ! error {error['scenario']}: {error['error']}")
