"""The Typer application objects. Command modules in this package attach themselves to these."""

import typer

app = typer.Typer(
    name="caretrail",
    help="Caretrail: cited, PHI-safe care coordination for LEAD ACOs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="Inspect and verify the hash-chained audit log.", no_args_is_help=True)
eval_app = typer.Typer(help="Run evaluation harnesses over the gold sets in evals/.", no_args_is_help=True)
roster_app = typer.Typer(help="Panel and roster tools.", no_args_is_help=True)

app.add_typer(audit_app, name="audit")
app.add_typer(eval_app, name="eval")
app.add_typer(roster_app, name="roster")
