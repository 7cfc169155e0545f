"""`caretrail eval measures`: run CMS165 and CMS122 over MADiE test-case folders and compare with their
MeasureReports."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


@eval_app.command("measures")
def eval_measures_command(
    cases: Path = typer.Option(..., "--cases", help="Folder of <MeasureName>/<case-id>/ test cases (MADiE layout)."),
    measure: list[str] = typer.Option(None, "--measure", help="Only this measure (repeatable); default: all."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    from assistant.measures.cases import evaluate_cases
    from assistant.measures.engine import MEASURES

    if not cases.is_dir():
        fail(f"no such folder: {cases}")
    unknown = [name for name in measure or [] if name not in MEASURES]
    if unknown:
        fail(f"measure {unknown[0]!r} is not implemented (known: {', '.join(sorted(MEASURES))})")
    report, _ = evaluate_cases(cases, list(measure) if measure else None)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{report['agree']}/{report['cases']} cases agree")
    for name, entry in report["measures"].items():
        typer.echo(f"{name}: {entry['agree']}/{entry['cases']} cases agree")
        for population, tally in entry["populations"].items():
            typer.echo(f"  {population:<24}{tally['agree']:>4}/{tally['total']}")
        for miss in entry["disagreements"]:
            if miss.get("error"):
                typer.echo(f"  ! {miss['case']}: {miss['error']}")
            else:
                typer.echo(f"  ! {miss['case']} {miss['population']}: expected {miss['expected']}, got {miss['got']}")
    for name in report.get("not_implemented", []):
        typer.echo(f"{name}: not implemented (skipped)")
