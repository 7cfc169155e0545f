"""`caretrail keys create|list|revoke`: API keys for services and scripts (admin; every change audited)."""

from __future__ import annotations

import typer

from assistant.cli.app import keys_app
from assistant.cli.common import cli_caller, console, errors_to_exit, open_ctx, print_json


@keys_app.command("create")
def create_command(
    name: str = typer.Option(..., "--name", help="A unique name for the key (letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help="The role the key acts in (care_manager, analyst, admin, ...)."),
    user: str | None = typer.Option(None, "--user", help="The user it acts for (default: the key's name)."),
    panel: str | None = typer.Option(
        None, "--panel", help="all, or patient references separated by commas; default: the user's own panel."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key and print its secret once; only a hash is kept, so store the secret now."""
    from assistant.services.keys import create

    with errors_to_exit():
        result = create(open_ctx(), cli_caller(), name, role, user, panel)
    if as_json:
        print_json(result)
        return
    key = result["key"]
    console.print(f"key {key['name']}: role {key['role']}, user {key['user']}, panel {key['panel']}", highlight=False)
    typer.echo(result["secret"])


@keys_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every key with its role, user, panel and state; never a secret."""
    from assistant.services.keys import list_keys

    with errors_to_exit():
        result = list_keys(open_ctx(), cli_caller())
    if as_json:
        print_json(result)
        return
    for key in result["keys"]:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        typer.echo(f"{key['name']}\t{key['prefix']}...\t{key['role']}\t{key['user']}\t{key['panel']}\t{state}")


@keys_app.command("revoke")
def revoke_command(name: str = typer.Argument(..., help="The key's name.")) -> None:
    """Revoke a key at once; sessions signed in with it end too."""
    from assistant.services.keys import revoke

    with errors_to_exit():
        result = revoke(open_ctx(), cli_caller(), name)
    console.print(f"key {result['key']['name']} revoked", highlight=False)
