"""`caretrail roster audit`: likely duplicates, inactive members, MBI changes and attribution mismatches."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from assistant.cli.app import roster_app
from assistant.cli.common import cli_caller, errors_to_exit, open_ctx, parse_day, print_json


@roster_app.command("audit")
def audit_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Reference date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Report roster problems, each with the source rows that show it (analyst or admin; audited)."""
    from assistant.records.roster import RosterReport
    from assistant.services.patients import roster_audit

    day = parse_day(as_of)
    with errors_to_exit():
        result = roster_audit(open_ctx(), cli_caller(), day)
    if as_json:
        print_json(result)
        return
    report = RosterReport.model_validate({k: v for k, v in result.items() if k != "audit_id"})
    out = Console()
    counts = report.counts
    out.print(
        f"Roster audit as of {report.as_of.isoformat()}: {counts['patients']} patients, "
        f"{counts['likely_duplicate']} likely duplicates, {counts['attribution_mismatch']} attribution mismatches, "
        f"{counts['mbi_changed']} MBI changes, {counts['inactive_12m']} inactive 12+ months",
        highlight=False,
        soft_wrap=True,
    )
    if not report.findings:
        return
    table = Table(show_lines=True)
    table.add_column("kind")
    table.add_column("score", justify="right")
    table.add_column("finding")
    table.add_column("evidence")
    for finding in report.findings:
        evidence = "\n".join(
            f"{e.source_path} @ {e.locator}" + (f" ({e.detail})" if e.detail else "") for e in finding.evidence[:4]
        )
        if len(finding.evidence) > 4:
            evidence += f"\n... {len(finding.evidence) - 4} more"
        score = f"{finding.score:.2f}" if finding.score is not None else ""
        table.add_row(finding.kind, score, finding.summary, evidence)
    out.print(table)
