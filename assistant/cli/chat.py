"""`caretrail chat`: a conversation at the terminal, about one patient or none, answered turn by turn.

Interactive by default (a Rich prompt; an empty line, ``exit`` or Ctrl-D ends it). With ``--json`` it reads one
message per line from standard input and writes one JSON object per line (the turn's final event), for scripts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.prompt import Prompt

from assistant.cli.app import app
from assistant.cli.common import cli_caller, errors_to_exit, fail, open_ctx, parse_day
from assistant.errors import CaretrailError

QUIT = {"exit", "quit", ":q"}


def _show(console: Console, response: dict[str, Any]) -> None:
    style = "yellow" if response["declined"] else ("dim" if response["abstained"] else "")
    console.print(response["answer"], style=style, highlight=False, markup=False, soft_wrap=True)
    for citation in response["citations"]:
        where = citation.get("title") or citation.get("doc_id") or citation.get("kind") or citation.get("type", "")
        place = citation.get("section") or citation.get("locator") or citation.get("name") or ""
        console.print(f"  [{citation['n']}] {where} {place}".rstrip(), style="cyan", highlight=False, markup=False)
    for link in response["links"]:
        console.print(f"  {link['rel']}: {link['href']}", style="cyan", highlight=False, markup=False)
    routing = response["routing"]["intent"]
    console.print(
        f"  {response['intent']} ({routing['method']}); audit {response['audit_id']}",
        style="dim",
        highlight=False,
        markup=False,
    )


@app.command("chat")
def chat_command(
    patient: str | None = typer.Option(None, "--patient", help="Internal id, source Patient id, MBI or key."),
    role: str | None = typer.Option(None, "--role", help="Whose next steps to show (a view; access stays yours)."),
    conversation: str | None = typer.Option(None, "--conversation", help="Continue one of your conversations."),
    as_of: str | None = typer.Option(None, "--as-of", help="Compute next steps and checklists for this day."),
    as_json: bool = typer.Option(False, "--json", help="Read one message per line from stdin; print JSON lines."),
) -> None:
    """Ask about a patient's record, the protocols, next steps, a checklist or a draft message; every turn is cited,
    screened and audited as the local operator (CARETRAIL_CLI_USER)."""
    from assistant.services import chat

    day = parse_day(as_of)
    ctx, caller = open_ctx(), cli_caller()
    with errors_to_exit():
        if conversation:
            conversation_id = chat.read(ctx, caller, conversation)["conversation_id"]
        else:
            conversation_id = chat.start(ctx, caller, patient, role)["conversation_id"]
    if as_json:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                response = chat.send(ctx, caller, conversation_id, line.strip(), day)
            except CaretrailError as exc:
                fail(f"stdin line {number}: {exc}", exc.exit_code)
            sys.stdout.write(json.dumps(response, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
        return
    console = Console()
    console.print(f"conversation {conversation_id}; an empty line or 'exit' ends it", style="dim", highlight=False)
    while True:
        try:
            message = Prompt.ask("[bold]you[/bold]", console=console, default="", show_default=False).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not message or message.lower() in QUIT:
            break
        try:
            _show(console, chat.send(ctx, caller, conversation_id, message, day))
        except CaretrailError as exc:  # a refusal ends this turn, not the conversation
            console.print(f"error: {exc}", style="red", highlight=False, markup=False)
