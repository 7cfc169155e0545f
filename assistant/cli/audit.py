"""`caretrail audit verify|export`: prove the log is intact, or hand it to a reviewer."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from assistant.cli.app import audit_app
from assistant.cli.common import cli_caller, console, errors_to_exit, open_ctx, print_json


@audit_app.command("verify")
def verify_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Exit 0 when the chain is intact; otherwise exit 1 and name the first broken row."""
    from assistant.audit.log import audit_log_for

    result = audit_log_for(open_ctx()).verify()
    if as_json:
        print_json(result.__dict__)
    elif result.ok:
        console.print(f"audit log intact: {result.rows} rows verified")
    else:
        console.print(f"[red]audit log broken at row {result.broken_seq}:[/red] {result.reason}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_command(
    out: Path | None = typer.Option(None, "--out", help="Write JSON Lines here (default stdout)."),
) -> None:
    """Every row as one JSON object per line, with its hashes, for an external reviewer (admin; audited)."""
    from assistant.audit.log import audit_log_for
    from assistant.services.access import audit, require
    from assistant.services.policy import Action

    ctx, caller = open_ctx(), cli_caller()
    with errors_to_exit():
        require(ctx, caller, Action.READ_AUDIT)
        audit(ctx, caller, "audit.export", None, {"to": "file" if out else "stdout"})
    rows = audit_log_for(ctx).rows()
    lines = [
        json.dumps(
            {
                "seq": r.seq, "audit_id": r.audit_id, "created_at": r.created_at, "event": r.event, "user": r.user,
                "role": r.role, "patient_id": r.patient_id, "payload": r.payload, "prev_hash": r.prev_hash,
                "hash": r.hash,
            },
            ensure_ascii=False, sort_keys=True,
        )
        for r in rows
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(lines)} rows to {out}")
    else:
        typer.echo(text, nl=False)
