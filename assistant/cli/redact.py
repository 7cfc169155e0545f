"""`caretrail redact FILE|-`: print a text with its identifiers redacted or pseudonymized."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from assistant.cli.app import app
from assistant.cli.common import cli_caller, errors_to_exit, fail, open_ctx, print_json


@app.command("redact")
def redact_command(
    source: str = typer.Argument(..., help="A text file (UTF-8), or - for standard input."),
    mode: str = typer.Option("redact", "--mode", help="redact (typed placeholders) or pseudonymize (surrogates)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"text", "entities": [...]} as JSON.'),
) -> None:
    """Print the text with names, dates, identifiers, addresses and contacts replaced, found locally (presidio
    with our recognizers); nothing leaves the machine. The audit row keeps entity counts, never the text."""
    from assistant.services.redaction import redact

    if mode not in ("redact", "pseudonymize"):
        fail(f"--mode must be redact or pseudonymize, not {mode!r}")
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            fail(f"no such file: {source}")
        text = path.read_bytes().decode("utf-8", errors="replace")
    with errors_to_exit():
        result = redact(open_ctx(), cli_caller(), text, mode)  # type: ignore[arg-type]
    if as_json:
        print_json(result)
    else:
        typer.echo(result["text"], nl=not str(result["text"]).endswith("\n"))
