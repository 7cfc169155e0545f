"""`caretrail setup`: what `make run` does before serving: the knowledge base and the demo panel."""

from __future__ import annotations

import json

import typer

from assistant.cli.app import app
from assistant.cli.common import cli_user, console, open_ctx

DEMO_SEED = 2027


@app.command("setup")
def setup_command(
    demo_patients: int = typer.Option(200, "--demo-patients", min=0, help="Demo patients to generate and load."),
    seed: int = typer.Option(DEMO_SEED, "--seed"),
) -> None:
    """Idempotent: unchanged knowledge and demo files are skipped on every later run."""
    from assistant.index.knowledge import ingest_knowledge
    from assistant.ingest.pipeline import ingest_paths

    ctx = open_ctx()
    with console.status("indexing the knowledge base"):
        report = ingest_knowledge(ctx)
    console.print(f"knowledge: {report.added} added, {report.replaced} replaced, {report.unchanged} unchanged")
    for error in report.errors:
        console.print(f"[red]error:[/red] {error['error']}")
    if demo_patients == 0:
        return

    from assistant.demo.generator import generate

    out = ctx.settings.resolved_data_dir / "demo" / f"n{demo_patients}-s{seed}"
    if not (out / "manifest.json").exists():
        with console.status(f"generating {demo_patients} demo patients"):
            generate(demo_patients, seed, out)
    with console.status("loading the demo panel"):
        summary = ingest_paths(ctx, [out])
    console.print(
        f"demo: {summary.documents} documents loaded, {summary.skipped_unchanged} unchanged, "
        f"{len(summary.errors)} errors"
    )
    for error in summary.errors[:10]:
        console.print(f"[red]error:[/red] {error['error']}")
    # The local operator's panel holds the demo population, so the side panel works out of the box.
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    patient_ids = set()
    for entry in manifest.get("patients", []):
        ref = entry.get("mbi") or entry.get("key")
        if ref:
            patient = ctx.patients.resolve_patient(str(ref))
            if patient is not None:
                patient_ids.add(patient.id)
    users = sorted({cli_user(), "local"})
    for user in users:
        ctx.patients.assign_panel(user, sorted(patient_ids))
    console.print(f"panel: {len(patient_ids)} demo patients assigned to {', '.join(users)}")
