"""`caretrail serve`: the API and the side panel UI, on loopback by default."""

from __future__ import annotations

import typer

from assistant.cli.app import app


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="API worker processes; more than one needs PostgreSQL and the Chroma server."
    ),
) -> None:
    """Serve the API and the side panel. Every request needs an API key, an OIDC token or a panel session
    (sign in at /login); identity headers count only from CARETRAIL_TRUSTED_PROXIES."""
    import uvicorn

    from assistant.settings import Settings

    settings = Settings()
    if workers > 1:
        # Each worker is its own process with its own connections: SQLite and the embedded Chroma store are files
        # one process owns, so several workers need the shared servers (docs/deploy.md).
        if settings.database_url is None or settings.chroma_mode != "http":
            raise typer.BadParameter(
                "--workers above 1 needs CARETRAIL_DATABASE_URL (PostgreSQL) and CARETRAIL_CHROMA_MODE=http",
                param_hint="--workers",
            )
        uvicorn.run("assistant.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", timeout_keep_alive=settings.keep_alive_seconds)
        return
    from assistant.api.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                timeout_keep_alive=settings.keep_alive_seconds)
