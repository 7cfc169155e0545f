"""`caretrail checklist PATIENT` and `caretrail transitions list`: what to do after a discharge, and for whom."""

from __future__ import annotations

import typer

from assistant.cli.app import app, transitions_app
from assistant.cli.common import cli_caller, errors_to_exit, open_ctx, parse_day, print_json


@app.command("checklist")
def checklist_command(
    patient: str = typer.Argument(..., help="Patient reference: internal id, source id, MBI or key."),
    encounter: str | None = typer.Option(None, "--encounter", help="Encounter or episode id; default the latest "
                                         "discharge."),
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print the checklist as JSON."),
) -> None:
    """The transition-of-care checklist of a discharge: TCM deadlines, medication changes, follow-ups (audited)."""
    from assistant.services.transitions import checklist

    day = parse_day(as_of)
    with errors_to_exit():
        result = checklist(open_ctx(), cli_caller(), patient, encounter, day)
    if as_json:
        print_json(result)
        return
    typer.echo(f"Discharge {result['discharge_date']} ({result['facility'] or 'facility not named'}), "
               f"episode {result['episode_id']}, {result['episode_status']}, as of {result['as_of']}")
    typer.echo(result["complexity"]["explanation"])
    for item in result["items"]:
        typer.echo(f"{item['due'] or '-':<10}  {item['status']:<14} {item['owner_role']:<16} {item['text']}")
    if result["missing"]:
        typer.echo(f"missing from the record: {', '.join(result['missing'])}")


@transitions_app.command("list")
def list_command(
    status: str = typer.Option("open", "--status", help="open, closed, cancelled or all."),
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print the worklist as JSON."),
) -> None:
    """Discharges of the patients on your panel, nearest deadline first (audited)."""
    from assistant.services.transitions import worklist

    day = parse_day(as_of)
    with errors_to_exit():
        result = worklist(open_ctx(), cli_caller(), status, day)
    if as_json:
        print_json(result)
        return
    for entry in result["episodes"]:
        typer.echo(f"{entry['next_due'] or '-':<10}  {entry['name'] or entry['patient_id']:<28} discharged "
                   f"{entry['discharge_date']}  {entry['next_text'] or 'nothing due'}")
    typer.echo(f"{len(result['episodes'])} {status} discharges as of {result['as_of']}")
