"""`caretrail eval phi`: recall, precision and F2 per identifier type on the PHI gold sets."""

from __future__ import annotations

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


@eval_app.command("phi")
def eval_phi_command(
    corpus: str = typer.Option(
        "ours", "--corpus", help="ours, physionet, physionet-dev, physionet-heldout, presidio or all."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N notes of each corpus."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report (with misses) as JSON."),
) -> None:
    from assistant.redaction.evaluation import clinical_false_positive_rate, evaluate

    names = ["ours", "physionet", "presidio"] if corpus == "all" else [corpus]
    known = ("ours", "physionet", "physionet-dev", "physionet-heldout", "presidio")
    if any(n not in known for n in names):
        fail(f"unknown corpus {corpus!r}")
    report: dict[str, object] = {}
    for name in names:
        try:
            report[name] = evaluate(name, limit)
        except FileNotFoundError as exc:
            fail(f"corpus {name} not found: {exc.filename}")
    report["clinical_terms"] = clinical_false_positive_rate()
    if as_json:
        print_json(report)
        return
    for name in names:
        result = report[name]
        assert isinstance(result, dict)
        overall = result["overall"]
        typer.echo(f"{name}: {result['notes']} notes, {result['notes_per_second']} notes/s")
        typer.echo(f"  {'type':<16}{'gold':>6}{'pred':>6}{'recall':>9}{'precision':>11}{'F2':>8}")
        rows = {**result["per_type"], "OVERALL": overall}
        for type_name, s in rows.items():
            typer.echo(f"  {type_name:<16}{s['gold']:>6}{s['predicted']:>6}{s['recall']:>9.3f}"
                       f"{s['precision']:>11.3f}{s['f2']:>8.3f}")
    fp = report["clinical_terms"]
    assert isinstance(fp, dict)
    typer.echo(f"clinical terms redacted: {fp['redacted']}/{fp['terms']} (rate {fp['rate']:.3f})")
