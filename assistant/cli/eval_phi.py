"""`caretrail eval phi`: recall, precision and F2 per identifier type on the PHI gold sets.

``--folds K`` (PhysioNet only) is the honest figure: the shared notes split by patient into K folds, the
learned tagger trained on K-1 and scored on the last, K times; it prints each fold, the mean and the worst.
"""

from __future__ import annotations

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


def _print_table(name: str, result: dict) -> None:
    overall = result["overall"]
    typer.echo(f"{name}: {result['notes']} notes, {result['notes_per_second']} notes/s")
    typer.echo(f"  {'type':<16}{'gold':>6}{'pred':>6}{'recall':>9}{'precision':>11}{'F2':>8}")
    rows = {**result["per_type"], "OVERALL": overall}
    for type_name, s in rows.items():
        typer.echo(
            f"  {type_name:<16}{s['gold']:>6}{s['predicted']:>6}{s['recall']:>9.3f}"
            f"{s['precision']:>11.3f}{s['f2']:>8.3f}"
        )


def _print_folds(report: dict) -> None:
    typer.echo(f"physionet, {report['folds']}-fold cross-validation by patient: {report['notes']} notes")
    for fold in report["per_fold"]:
        o = fold["overall"]
        typer.echo(
            f"  fold {fold['fold'] + 1}: {fold['notes']:>4} notes {fold['patients']:>3} patients  "
            f"recall {o['recall']:.3f}  precision {o['precision']:.3f}  gold {o['gold']}  "
            f"threshold {fold['threshold']}"
        )
    typer.echo(f"  {'type':<12}{'gold':>6}{'recall mean':>13}{'worst':>8}{'precision mean':>16}{'worst':>8}")
    rows = {
        **report["per_type"],
        "OVERALL": {**report["overall"], "gold": sum(f["overall"]["gold"] for f in report["per_fold"])},
    }
    for type_name, s in rows.items():
        r, p = s["recall"], s["precision"]
        typer.echo(
            f"  {type_name:<12}{s['gold']:>6}{r.get('mean', 0):>13.3f}{r.get('worst', 0):>8.3f}"
            f"{p.get('mean', 0):>16.3f}{p.get('worst', 0):>8.3f}"
        )
    misses = [m for fold in report["per_fold"] for m in fold["misses"]]
    typer.echo(f"  misses: {len(misses)} (all of them with --json)")


@eval_app.command("phi")
def eval_phi_command(
    corpus: str = typer.Option(
        "ours", "--corpus", help="ours, physionet, physionet-dev, physionet-heldout, presidio or all."
    ),
    folds: int = typer.Option(0, "--folds", help="PhysioNet only: K-fold cross-validation by patient (e.g. 5)."),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N notes of each corpus."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report (with misses) as JSON."),
) -> None:
    from assistant.redaction.evaluation import clinical_false_positive_rate, cross_validate, evaluate

    if folds:
        if corpus != "physionet":
            fail("--folds needs --corpus physionet")
        if folds < 2:
            fail("--folds must be at least 2")
        try:
            report = cross_validate(folds, limit, progress=None if as_json else typer.echo)
        except FileNotFoundError as exc:
            fail(f"corpus physionet not found: {exc.filename}")
        if as_json:
            print_json(report)
        else:
            _print_folds(report)
        return
    names = ["ours", "physionet", "presidio"] if corpus == "all" else [corpus]
    known = ("ours", "physionet", "physionet-dev", "physionet-heldout", "presidio")
    if any(n not in known for n in names):
        fail(f"unknown corpus {corpus!r}")
    report_by_corpus: dict[str, object] = {}
    for name in names:
        try:
            report_by_corpus[name] = evaluate(name, limit)
        except FileNotFoundError as exc:
            fail(f"corpus {name} not found: {exc.filename}")
    report_by_corpus["clinical_terms"] = clinical_false_positive_rate()
    if as_json:
        print_json(report_by_corpus)
        return
    for name in names:
        result = report_by_corpus[name]
        assert isinstance(result, dict)
        _print_table(name, result)
    fp = report_by_corpus["clinical_terms"]
    assert isinstance(fp, dict)
    typer.echo(f"clinical terms redacted: {fp['redacted']}/{fp['terms']} (rate {fp['rate']:.3f})")
