"""`caretrail setup`: what `make run` does before serving: the knowledge base and the demo panel."""

from __future__ import annotations

import json

import typer

from assistant.cli.app import app
from assistant.cli.common import cli_caller, console, open_ctx

DEMO_SEED = 2027
DEMO_USER = "demo-cm"
DEMO_KEY_PREFIX = "demo-care-manager-"


@app.command("setup")
def setup_command(
    demo_patients: int = typer.Option(200, "--demo-patients", min=0, help="Demo patients to generate and load."),
    seed: int = typer.Option(DEMO_SEED, "--seed"),
    demo_key: bool = typer.Option(True, "--demo-key/--no-demo-key", help="Create a key for the demo care manager."),
) -> None:
    """Idempotent: unchanged knowledge and demo files are skipped on every later run."""
    from assistant.index.knowledge import ingest_knowledge
    from assistant.ingest.pipeline import ingest_paths

    ctx = open_ctx()
    with console.status("indexing the knowledge base"):
        report = ingest_knowledge(ctx.knowledge_deps)
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
        summary = ingest_paths(ctx.ingest_deps, [out])
    console.print(
        f"demo: {summary.documents} documents loaded, {summary.skipped_unchanged} unchanged, "
        f"{len(summary.errors)} errors"
    )
    for error in summary.errors[:10]:
        console.print(f"[red]error:[/red] {error['error']}")
    if summary.patient_ids:
        from assistant.services.updates import records_changed

        with console.status("computing episodes and guidance"):
            pending = records_changed(ctx, summary.patient_ids)
        if pending:
            console.print(f"[yellow]note:[/yellow] {pending}", highlight=False, soft_wrap=True)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    patient_ids = set()
    for entry in manifest.get("patients", []):
        ref = entry.get("mbi") or entry.get("key")
        if ref:
            patient = ctx.patients.resolve_patient(str(ref))
            if patient is not None:
                patient_ids.add(patient.id)
    # The demo care manager's and the local operator's panels hold the demo population, so the side panel and
    # `caretrail ask --patient` work out of the box. This is the installer's bootstrap (it writes the data dir
    # it was given), so it writes panels and the demo key directly, and audits what it did.
    users = sorted({DEMO_USER, ctx.settings.cli_user})
    for user in users:
        ctx.patients.assign_panel(user, sorted(patient_ids))
    console.print(f"panel: {len(patient_ids)} demo patients assigned to {', '.join(users)}")
    if demo_key:
        secret = _rotate_demo_key(ctx)
        console.print(f"demo care manager {DEMO_USER!r}: sign in to the side panel at /login with this key "
                      "(shown once; a new one is made on every setup):")
        typer.echo(secret)


def _rotate_demo_key(ctx) -> str:  # type: ignore[no-untyped-def]
    """Revoke earlier demo keys and make a new one: a key is shown only when it is created."""
    import secrets as random

    from assistant.services.access import audit
    from assistant.services.caller import PanelScope

    for key in ctx.keys.list():
        if key.name.startswith(DEMO_KEY_PREFIX) and key.active:
            ctx.keys.revoke(key.name)
    secret, key = ctx.keys.create(f"{DEMO_KEY_PREFIX}{random.token_hex(4)}", "care_manager", DEMO_USER, PanelScope())
    audit(ctx, cli_caller(), "setup.demo_key", None, {"key": key.name, "user": DEMO_USER, "role": key.role})
    return secret
