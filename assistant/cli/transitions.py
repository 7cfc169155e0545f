"""`caretrail checklist PATIENT`, `caretrail transitions list` and `caretrail transitions item`: what to do after a
discharge and for whom, what a payer audits in the record, and working through the list."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from assistant.cli.app import app, transitions_app
from assistant.cli.common import cli_caller, errors_to_exit, fail, open_ctx, parse_day, print_json

KINDS = "transition (default), tcm, awv, ccm or cara_referral"


@app.command("checklist")
def checklist_command(
    patient: str = typer.Argument(..., help="Patient reference: internal id, source id, MBI or key."),
    encounter: str | None = typer.Option(
        None, "--encounter", help="Encounter or episode id; default the latest discharge."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    kind: str = typer.Option("transition", "--kind", help=f"Which checklist: {KINDS}."),
    as_json: bool = typer.Option(False, "--json", help="Print the checklist as JSON (same as --format json)."),
    output: str | None = typer.Option(None, "--format", help="json, markdown, pdf or fhir (a FHIR R4 Bundle)."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of standard output."),
) -> None:
    """A discharge's transition-of-care checklist, or a documentation checklist (tcm, awv, ccm, cara_referral):
    each item dated, owned and cited (audited)."""
    from assistant.services.transitions import FORMATS, render

    day = parse_day(as_of)
    chosen = output or ("json" if as_json else None)
    if chosen is not None and chosen not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {chosen!r}")
    if chosen == "pdf" and out is None:
        fail("--format pdf needs --out FILE (a PDF is not written to the terminal)")
    with errors_to_exit():
        rendered = render(open_ctx(), cli_caller(), patient, chosen or "json", encounter, day, kind)
    if out is not None:
        try:
            out.write_bytes(rendered.content)
        except OSError as exc:
            fail(f"{out}: cannot write: {exc.strerror or exc}")
        typer.echo(f"wrote {out} ({len(rendered.content)} bytes, audit {rendered.result['audit_id']})", err=True)
        return
    if chosen is not None:
        sys.stdout.write(rendered.content.decode("utf-8").rstrip("\n") + "\n")
        return
    _show(rendered.result)


def _show(result: dict) -> None:
    if result["kind"] == "transition":
        typer.echo(
            f"Discharge {result['discharge_date']} ({result['facility'] or 'facility not named'}), episode "
            f"{result['episode_id']}, {result['episode_status']}, as of {result['as_of']}"
        )
        typer.echo(result["complexity"]["explanation"])
    else:
        typer.echo(f"{result['kind']} documentation as of {result['as_of']}: {result['present']} present, "
                   f"{result['missing_count']} missing")  # fmt: skip
    for item in result["items"]:
        typer.echo(f"{item['due'] or '-':<10}  {item['status']:<14} {item['owner_role']:<24} {item['id']:<24} "
                   f"{item['text']}")  # fmt: skip
    if result.get("missing"):
        typer.echo(f"missing from the record: {', '.join(result['missing'])}")
    typer.echo(f"audit {result['audit_id']}")


@transitions_app.command("list")
def list_command(
    status: str = typer.Option("open", "--status", help="open, closed, cancelled or all."),
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="At most this many episodes."),
    as_json: bool = typer.Option(False, "--json", help="Print the worklist as JSON."),
) -> None:
    """Discharges of the patients on your panel, nearest deadline first (audited)."""
    from assistant.services.transitions import worklist

    day = parse_day(as_of)
    with errors_to_exit():
        result = worklist(open_ctx(), cli_caller(), status, day, limit)
    if as_json:
        print_json(result)
        return
    for entry in result["episodes"]:
        typer.echo(
            f"{entry['next_due'] or '-':<10}  {entry['name'] or entry['patient_id']:<28} discharged "
            f"{entry['discharge_date']}  {entry['episode_id']}  {entry['next_text'] or 'nothing due'}"
        )
    typer.echo(f"{len(result['episodes'])} of {result['total']} {status} discharges as of {result['as_of']}")


@transitions_app.command("item")
def item_command(
    episode: str = typer.Argument(..., help="The episode id (tx-...), from `transitions list` or the checklist."),
    item: str = typer.Argument(..., help="The item id, e.g. tcm-contact."),
    done: bool = typer.Option(False, "--done", help="Check the item off (you, now)."),
    note: str | None = typer.Option(None, "--note", help="Add a note to the item."),
    owner: str | None = typer.Option(None, "--owner", help="Reassign the item to this role."),
    waive: bool = typer.Option(False, "--waive", help="Waive the item (needs --reason)."),
    reopen: bool = typer.Option(False, "--reopen", help="Undo a check-off or a waiver."),
    reason: str | None = typer.Option(None, "--reason", help="Why: required to waive; kept with any action."),
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date for the checklist (default today)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Work the list: check off, note, reassign, waive or reopen one item; who and when are audited. The episode
    closes when every required item is done or waived."""
    from assistant.services.transitions import act

    chosen = [name for name, on in (("check", done), ("note", note is not None), ("reassign", owner is not None),
                                    ("waive", waive), ("reopen", reopen)) if on]  # fmt: skip
    if len(chosen) != 1:
        fail("give exactly one of --done, --note TEXT, --owner ROLE, --waive --reason TEXT or --reopen")
    action = chosen[0]
    text = note if action == "note" else reason
    day = parse_day(as_of)
    with errors_to_exit():
        result = act(open_ctx(), cli_caller(), episode, item, action, text, owner, day)
    if as_json:
        print_json(result)
        return
    changed = result["item"]
    typer.echo(f"{changed['id']}: {changed['status']} (owner {changed['owner_role']}); episode "
               f"{result['episode_status']}; audit {result['audit_id']}")  # fmt: skip
