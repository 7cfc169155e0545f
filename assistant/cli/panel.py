"""`caretrail panel assign|import|list|link-npi`: who sees which patients (changes need the admin role)."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import panel_app
from assistant.cli.common import cli_caller, console, errors_to_exit, open_ctx, print_json


@panel_app.command("assign")
def assign_command(
    user: str = typer.Argument(..., help="The user whose panel grows."),
    patients: list[str] = typer.Argument(..., help="Patient references: internal id, source id, MBI or key."),
) -> None:
    """Put patients on a user's panel (idempotent); an unknown or ambiguous reference assigns nothing."""
    from assistant.services.panels import assign

    with errors_to_exit():
        result = assign(open_ctx(), cli_caller(), user, patients)
    console.print(f"{user}: {result['added']} added, {len(result['patients']) - result['added']} already there",
                  highlight=False)


@panel_app.command("import")
def import_command(file: Path = typer.Argument(..., help="CSV of user,patient reference rows.")) -> None:
    """Assign every row of a CSV in one transaction; a bad row names its line and nothing is assigned."""
    from assistant.services.panels import import_csv

    with errors_to_exit():
        result = import_csv(open_ctx(), cli_caller(), file)
    console.print(f"{result['rows']} rows, {result['added']} added, users: {', '.join(result['users'])}",
                  highlight=False)


@panel_app.command("list")
def list_command(
    user: str = typer.Argument(..., help="The user whose panel to show."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A user's patients and why each is there: assigned, or derived from the records by the user's NPI."""
    from assistant.services.panels import list_panel

    with errors_to_exit():
        result = list_panel(open_ctx(), cli_caller(), user)
    if as_json:
        print_json(result)
        return
    for entry in result["patients"]:
        typer.echo(f"{entry['patient_id']}\t{entry['name']}\t{entry['mbi'] or ''}\t{entry['source']}")
    console.print(f"{len(result['patients'])} patients; NPIs: {', '.join(result['npis']) or 'none'}",
                  highlight=False)


@panel_app.command("link-npi")
def link_npi_command(
    user: str = typer.Argument(..., help="The care-team user."),
    npi: str = typer.Argument(..., help="Their 10-digit NPI."),
) -> None:
    """Link a user to their NPI: patients whose records name it as primary care practitioner join their panel."""
    from assistant.services.panels import link_npi

    with errors_to_exit():
        result = link_npi(open_ctx(), cli_caller(), user, npi)
    console.print(f"{user} is NPI {result['npi']}: {result['derived_patients']} patients from the records",
                  highlight=False)
