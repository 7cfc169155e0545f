"""``caretrail listen-adt``: receive HL7 v2 ADT messages over MLLP and spool them durably."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from assistant.cli.app import app
from assistant.intake.mllp import DEFAULT_MAX_MESSAGE_BYTES, serve
from assistant.settings import get_settings


@app.command("listen-adt")
def listen_adt(
    host: str = typer.Option("127.0.0.1", help="Address to bind; keep it on loopback behind a TLS tunnel."),
    port: int = typer.Option(2575, help="TCP port (2575 is the registered HL7 port)."),
    spool: Path | None = typer.Option(None, help="Where messages are stored; default <data_dir>/inbox/adt."),
    max_bytes: int = typer.Option(DEFAULT_MAX_MESSAGE_BYTES, help="Largest message accepted, in bytes."),
    ingest: bool = typer.Option(True, "--ingest/--no-ingest", help="Ingest each stored message into the store."),
) -> None:
    """Listen for ADT messages; each one is stored before it is acknowledged, then ingested.

    Ingest runs after the ACK in a worker thread, so a slow ingest never delays an acknowledgement;
    on start-up the spool is ingested once more (idempotent), which picks up any message that was
    stored and acknowledged just before a crash.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    directory = spool or get_settings().resolved_data_dir / "inbox" / "adt"
    on_stored = None
    if ingest:
        from assistant.context import open_context
        from assistant.ingest.pipeline import ingest_paths

        ctx = open_context()
        log = logging.getLogger("caretrail.adt")

        def ingest_one(path: Path) -> None:
            from assistant.services.updates import records_changed

            summary = ingest_paths(ctx.ingest_deps, [path])
            for error in summary.errors:
                log.error("ingest failed: %s", error["error"])
            pending = records_changed(ctx, summary.patient_ids)  # an A03 opens its episode and TCM items now
            if pending:
                log.warning("%s", pending)

        async def on_stored(path: Path) -> None:
            await asyncio.to_thread(ingest_one, path)

        if directory.is_dir():
            ingest_one(directory)
    typer.echo(f"listening for MLLP on {host}:{port}; spooling to {directory}")
    try:
        asyncio.run(serve(directory, host=host, port=port, max_message_bytes=max_bytes, on_stored=on_stored))
    except KeyboardInterrupt:
        typer.echo("stopped")
