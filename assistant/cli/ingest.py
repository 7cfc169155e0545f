"""`caretrail ingest PATH...`: knowledge documents and patient records, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.cli.app import app
from assistant.cli.common import console, fail, open_ctx, print_json


@app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders to ingest."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Exit 0 when every file was read (or was unchanged), 1 when any file failed, 2 for bad usage."""
    from assistant.ingest.pipeline import ingest_paths, iter_files

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    ctx = open_ctx()
    files = iter_files(paths)  # walked once: the count drives the progress bar, the list drives the ingest
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("ingesting", total=len(files))

        def advance(path: Path) -> None:
            progress.update(task, advance=1, description=f"ingesting {path.name[:40]}")

        def part(path: Path, records: int) -> None:
            progress.update(task, description=f"ingesting {path.name[:40]} ({records:,} records so far)")

        summary = ingest_paths(ctx.ingest_deps, files, on_file=advance, on_part=part)
        if summary.patient_ids:
            from assistant.services.updates import records_changed

            progress.update(task, description=f"updating episodes and guidance of {len(summary.patient_ids)} "
                                              "patients")
            pending = records_changed(ctx, summary.patient_ids)
            if pending:
                console.print(f"[yellow]note:[/yellow] {pending}", highlight=False, soft_wrap=True)
    result = summary.as_dict()
    if as_json:
        print_json(result)
    else:
        console.print(
            f"{summary.files} files: {summary.documents} documents, {summary.knowledge_documents} knowledge "
            f"documents, {summary.patients} patients, {summary.records} records, {summary.chunks} chunks, "
            f"{summary.skipped_unchanged} unchanged, {len(summary.errors)} errors"
        )
        for error in summary.errors:
            console.print(f"[red]error:[/red] {error['error']}", highlight=False, soft_wrap=True)
    if summary.errors:
        raise typer.Exit(1)
