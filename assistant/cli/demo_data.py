"""``caretrail demo-data``: write the deterministic demo panel as FHIR R4 bundles."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import app
from assistant.demo.generator import generate


@app.command("demo-data")
def demo_data(
    patients: int = typer.Option(200, "--patients", "-n", min=1, help="Number of bundles to write."),
    seed: int = typer.Option(42, "--seed", "-s", help="Same seed and count give identical bytes."),
    out: Path = typer.Option(Path("data/demo"), "--out", "-o", help="Folder for the bundles and manifest.json."),
) -> None:
    """Write a LEAD-like demo panel (FHIR R4 bundles + manifest.json with the planted flags)."""
    summary = generate(patients, seed, out)
    typer.echo(summary.line())
