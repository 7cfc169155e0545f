"""`caretrail eval outreach`: reading grade, SMS segments and length of every template in every language, and a
machine-translation round trip, written to evals/outreach/report.md."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from assistant.cli.app import eval_app
from assistant.cli.common import fail, print_json


@eval_app.command("outreach")
def eval_outreach_command(
    machine: str = typer.Option("local", "--machine", help="local (the SmolLM2 wheel, through the PHI guard) or none."),
    languages: str = typer.Option("all", "--languages", help="Round-trip languages, comma-separated, or all."),
    out: Path = typer.Option(None, "--out", help="Where to write the report (default evals/outreach/report.md)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON as well."),
) -> None:
    from assistant.llm.guard import get_llm
    from assistant.outreach.evaluation import DEFAULT_OUT, evaluate, markdown
    from assistant.outreach.languages import ENGLISH, LANGUAGES
    from assistant.outreach.translation import LLMTranslator
    from assistant.settings import Settings

    if machine not in ("local", "none"):
        fail(f"--machine must be local or none, not {machine!r}")
    codes = [c for c in LANGUAGES if c != ENGLISH] if languages == "all" else languages.split(",")
    unknown = [c for c in codes if c not in LANGUAGES]
    if unknown:
        fail(f"--languages: unknown {', '.join(unknown)}; choose from {', '.join(LANGUAGES)}")
    settings = Settings()
    translator = None
    with tempfile.TemporaryDirectory(prefix="caretrail-eval-outreach-") as scratch:
        if machine == "local":  # the guard's vault lives in a scratch data dir: the eval's message is not a patient's
            llm = get_llm(settings.model_copy(update={"llm_backend": "local", "data_dir": Path(scratch)}))
            translator = LLMTranslator(llm, settings.prompts_dir)  # type: ignore[arg-type]
        report = evaluate(settings.prompts_dir / "outreach", translator, codes)
    target = out or DEFAULT_OUT
    target.write_text(markdown(report), encoding="utf-8")
    if as_json:
        print_json(report.to_dict())
    english = [r for r in report.rows if r["language"] == ENGLISH]
    typer.echo(
        f"{len(report.rows)} templates: English grades {min(r['fk_grade'] for r in english)}-"
        f"{max(r['fk_grade'] for r in english)} (gate 6), "
        f"{sum(1 for r in report.rows if r['segments'] == 1)} single-segment texts"
    )
    if report.trips:
        typer.echo(
            f"round trips: {sum(1 for t in report.trips if t['passes'])}/{len(report.trips)} kept every date, "
            f"dose and name; {sum(1 for t in report.trips if t['untranslated'])} copied the English"
        )
    typer.echo(f"wrote {target}")
