"""`caretrail eval transitions`: item recall and precision, due-date accuracy, status accuracy and medication-diff F1
over the discharge scenarios in evals/transitions/scenarios (hand-made FHIR, HL7 v2 and C-CDA records, and real
documents read from ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


@eval_app.command("transitions")
def eval_transitions_command(
    scenarios: Path = typer.Option(
        None,
        "--scenarios",
        help="Folder of <scenario>/expected.json with record files (default: evals/transitions/scenarios).",
    ),
    shared: Path = typer.Option(
        None,
        "--shared",
        help="Where the real documents scenarios name live (default: ../shared/data beside the checkout).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the full report (misses, extras, wrong dates) as JSON."),
) -> None:
    from assistant.transitions.evaluation import DEFAULT_SCENARIOS, DEFAULT_SHARED, evaluate

    folder = scenarios or DEFAULT_SCENARIOS
    if not folder.is_dir():
        fail(f"no such folder: {folder}")
    report = evaluate(folder, shared or DEFAULT_SHARED)
    if as_json:
        print_json(report.to_dict())
        return
    typer.echo(
        f"{report.scenarios} scenarios ({len(report.skipped)} skipped: real documents not present), "
        f"{report.expected} expected items, {report.produced} produced"
    )
    typer.echo(f"item recall        {report.recall:.3f} ({report.matched}/{report.expected})")
    typer.echo(f"item precision     {report.precision:.3f} ({report.matched}/{report.produced})")
    typer.echo(f"due-date accuracy  {report.due_accuracy:.3f} ({report.due_correct}/{report.matched})")
    typer.echo(f"status accuracy    {report.status_accuracy:.3f} ({report.status_correct}/{report.status_checked})")
    typer.echo(f"med-diff F1        {report.med_f1:.3f} (tp {report.med_tp}, fp {report.med_fp}, fn {report.med_fn})")
    typer.echo(f"episode checks     {report.episode_correct}/{report.episode_checks}")
    if report.milliseconds:
        ordered = sorted(report.milliseconds)
        typer.echo(f"checklist time     p50 {ordered[len(ordered) // 2]:.0f} ms, max {ordered[-1]:.0f} ms")
    typer.echo(f"  {'category':<18}{'expected':>9}{'matched':>8}{'extra':>6}")
    for category, tally in sorted(report.per_category.items()):
        typer.echo(f"  {category:<18}{tally['expected']:>9}{tally['matched']:>8}{tally['extra']:>6}")
    for miss in report.misses:
        typer.echo(f"  ! miss    {miss['scenario']}: {miss['item']} (due {miss['due']})")
    for extra in report.extras:
        typer.echo(f"  ! extra   {extra['scenario']}: {extra['id']} (due {extra['due']}): {extra['text']}")
    for wrong in report.wrong_due:
        typer.echo(
            f"  ! due     {wrong['scenario']}: {wrong['item']}: expected {wrong['expected']}, got {wrong['got']}"
        )
    for wrong in report.wrong_status:
        typer.echo(
            f"  ! status  {wrong['scenario']}: {wrong['item']}: expected {wrong['expected']}, got {wrong['got']}"
        )
    for wrong in report.wrong_meds:
        typer.echo(f"  ! meds    {wrong['scenario']}: {wrong}")
    for wrong in report.wrong_episodes:
        typer.echo(f"  ! episode {wrong}")
    for skipped in report.skipped:
        typer.echo(f"  ! skipped {skipped['scenario']}: {', '.join(skipped['missing'])}")
    for error in report.errors:
        typer.echo(f"  ! error   {error['scenario']}: {error['error']}")
