"""`caretrail measures report`: per measure the populations, the rate (against the prior year) and the open gaps."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import measures_app
from assistant.cli.common import cli_caller, console, errors_to_exit, open_ctx, parse_day, print_json


@measures_app.command("report")
def report_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    html_file: Path | None = typer.Option(None, "--html", help="Also write a self-contained HTML report here."),
) -> None:
    """CMS165 and CMS122 over your panel (analysts: every patient, counts only); audited."""
    from assistant.measures.report import render_html
    from assistant.services.measures import panel_report

    day = parse_day(as_of)
    with errors_to_exit():
        report, body = panel_report(open_ctx(), cli_caller(), day)
    if html_file is not None:
        html_file.write_text(render_html(report), encoding="utf-8")
    if as_json:
        print_json(body)
        return
    for m in body["measures"].values():
        rate = "n/a" if m["rate"] is None else f"{m['rate']:.1%}"
        prior = "" if m["prior_rate"] is None else f" (prior year {m['prior_rate']:.1%})"
        counts = ", ".join(f"{k} {v}" for k, v in m["counts"].items())
        console.print(f"{m['title']}: rate {rate}{prior}; {counts}; open gaps {len(m.get('gaps', []))}",
                      highlight=False, soft_wrap=True)
    console.print(f"audit {body['audit_id']}", highlight=False)
