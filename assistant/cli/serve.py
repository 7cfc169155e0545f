"""`caretrail serve`: the API and the side panel UI, on loopback by default."""

from __future__ import annotations

import typer

from assistant.cli.app import app


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
) -> None:
    """Serve the API and the side panel. Every request needs an API key, an OIDC token or a panel session
    (sign in at /login); identity headers count only from CARETRAIL_TRUSTED_PROXIES."""
    import uvicorn

    from assistant.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
