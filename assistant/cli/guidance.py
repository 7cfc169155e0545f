"""`caretrail guidance PATIENT`: next steps for one patient, each with rationale, owner, due date and citations."""

from __future__ import annotations

import typer

from assistant.cli.app import app
from assistant.cli.common import cli_caller, console, errors_to_exit, open_ctx, parse_day, print_json


@app.command("guidance")
def guidance_command(
    patient: str = typer.Argument(..., help="Internal id, source Patient id, MBI or key."),
    role: str | None = typer.Option(None, "--role", help="Whose items come first (a view; access stays yours)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Compute every date from this day (default today)."),
    as_json: bool = typer.Option(False, "--json", help="Print the guidance contract as JSON."),
) -> None:
    """Suggested next steps (never orders): measure gaps, follow-ups, utilization, each cited; audited."""
    from assistant.services.guidance import patient_guidance

    with errors_to_exit():
        result = patient_guidance(open_ctx(), cli_caller(), patient, role, parse_day(as_of))
    if as_json:
        print_json(result)
        return
    for item in result["items"]:
        console.print(f"[{item['priority']}] {item['action']} (owner {item['owner_role']}, due {item['due']})",
                      highlight=False, soft_wrap=True)
        console.print(f"    {item['rationale']}", highlight=False, soft_wrap=True)
    console.print(f"audit {result['audit_id']}", highlight=False)


@app.command("guidance-status")
def status_command(
    item_id: str = typer.Argument(..., help="The item's id (g-...)."),
    patient: str = typer.Option(..., "--patient", help="The patient the item is for."),
    status: str = typer.Option(..., "--status", help="accepted, dismissed or completed."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required to dismiss)."),
    as_of: str | None = typer.Option(None, "--as-of"),
) -> None:
    """Record a decision on an item; a dismissed item stays hidden until its evidence changes."""
    from assistant.services.guidance import decide

    with errors_to_exit():
        result = decide(open_ctx(), cli_caller(), item_id, patient, status, reason, parse_day(as_of))
    console.print(f"{result['item_id']}: {result['status']} (audit {result['audit_id']})", highlight=False)


@app.command("worklist")
def worklist_command(
    role: str | None = typer.Option(None, "--role", help="Only the items this role owns."),
    user: str | None = typer.Option(None, "--user", help="Another user's panel (admins)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Compute every date from this day (default today)."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open items across your panel, soonest due and most urgent first, with counts per rule; audited."""
    from assistant.services.guidance import panel_worklist

    with errors_to_exit():
        result = panel_worklist(open_ctx(), cli_caller(), role, user, parse_day(as_of), limit)
    if as_json:
        print_json(result)
        return
    for item in result["items"]:
        console.print(f"{item['due']}  [{item['priority']}] {item['patient_id']}  {item['action']} "
                      f"({item['owner_role']})", highlight=False, soft_wrap=True)
    counts = ", ".join(f"{rule} {n}" for rule, n in result["counts"].items())
    console.print(f"{result['total']} open items: {counts or 'none'}; audit {result['audit_id']}", highlight=False)


@app.command("refresh-worklist")
def refresh_worklist_command(
    as_of: str | None = typer.Option(None, "--as-of", help="The day to compute for (default today)."),
) -> None:
    """Recompute every patient's guidance for the day; run it at the start of each day (cron); audited."""
    from assistant.services.guidance import refresh_day

    with errors_to_exit():
        result = refresh_day(open_ctx(), cli_caller(), parse_day(as_of))
    console.print(f"{result['recomputed']} of {result['patients']} patients recomputed for {result['as_of']}; "
                  f"audit {result['audit_id']}", highlight=False)
