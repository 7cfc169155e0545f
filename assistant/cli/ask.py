"""`caretrail ask`: a cited answer from the knowledge base and, with --patient, that patient's records."""

from __future__ import annotations

import typer

from assistant.cli.app import app
from assistant.cli.common import cli_caller, errors_to_exit, open_ctx, print_json


@app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help="The question, in quotes."),
    patient: str | None = typer.Option(None, "--patient", help="Internal id, source Patient id, MBI or key."),
    role: str | None = typer.Option(
        None, "--role", help="Answer from this role's view (care_manager, clinician, ...); access stays yours."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the full answer contract as JSON."),
) -> None:
    """Answer with cited sentences only, as the local operator (CARETRAIL_CLI_USER), audited before it prints.

    With --patient the patient must be on the operator's panel (`caretrail panel assign`)."""
    from assistant.services.answers import ask

    with errors_to_exit():
        result = ask(open_ctx(), cli_caller(), question, patient_ref=patient, view=role)
    if as_json:
        print_json(result)
        return
    typer.echo(result["answer"])
    for citation in result["citations"]:
        typer.echo(f"  [{citation['n']}] {citation['title']} > {citation['section']} "
                   f"({citation['source_uri']}:{citation['start']}-{citation['end']})")
    typer.echo(f"  audit {result['audit_id']}")
