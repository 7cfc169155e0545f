"""`caretrail outreach PATIENT --purpose P`: a message to a patient, drafted for review; and its review, the patient's
replies, the letter PDF and the translators' approvals of templates (`caretrail outreach templates approve`)."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.app import outreach_app, outreach_templates_app
from assistant.cli.common import cli_caller, console, errors_to_exit, fail, open_ctx, parse_day, print_json

PURPOSE_HELP = (
    "post_discharge_checkin, appointment_reminder, awv_invitation, a1c_reminder, bp_check_reminder, "
    "medication_change, falls_program_invitation, benefit_notice, care_team_intro or free_text"
)


def _show(result: dict) -> None:
    console.print(
        f"draft {result['draft_id']} ({result['review_status']}): {result['purpose']} by "
        f"{result['channel']} in {result['language']} [{result['translation_source']}]",
        highlight=False,
    )
    typer.echo(result["text"])
    if result["language"] != "en":
        typer.echo(f"  English: {result['english_text']}")
    if result.get("back_translation"):
        typer.echo(f"  Back-translation: {result['back_translation']}")
    console.print(
        f"  reading grade {result['reading_grade']} (English), {result['segments']} segment(s) "
        f"{result['encoding']}, {len(result['citations'])} citation(s); audit {result['audit_id']}",
        highlight=False,
    )
    for line in result.get("notes", []) + result.get("warnings", []):
        console.print(f"  ! {line}", highlight=False, soft_wrap=True)


@outreach_app.command("draft")
def draft_command(
    patient: str = typer.Argument(..., help="Internal id, source Patient id, MBI or key."),
    purpose: str = typer.Option(..., "--purpose", help=PURPOSE_HELP),
    language: str | None = typer.Option(None, "--language", help="BCP-47 code (default: the record's language)."),
    channel: str = typer.Option("sms", "--channel", help="sms, letter or portal."),
    text: str | None = typer.Option(None, "--text", help="The care team's words (free_text only)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Read the record as of this day (default today)."),
    as_json: bool = typer.Option(False, "--json", help="Print the outreach contract as JSON."),
) -> None:
    """Draft a message for a person to review: in the patient's language, facts cited, every gate shown; audited."""
    from assistant.services.outreach import create_draft

    with errors_to_exit():
        result = create_draft(open_ctx(), cli_caller(), patient, purpose, language, channel, parse_day(as_of), text)
    if as_json:
        print_json(result)
        return
    _show(result)


@outreach_app.command("show")
def show_command(draft_id: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """One draft as it stands, with its edits and review; audited."""
    from assistant.services.outreach import get_draft

    with errors_to_exit():
        result = get_draft(open_ctx(), cli_caller(), draft_id)
    if as_json:
        print_json(result)
        return
    _show({**result, "audit_id": result["read_audit_id"]})


@outreach_app.command("review")
def review_command(
    draft_id: str = typer.Argument(...),
    action: str = typer.Option(..., "--action", help="edit, approve or reject."),
    text: str | None = typer.Option(None, "--text", help="The edited message (edit)."),
    english_text: str | None = typer.Option(None, "--english-text", help="The edited English source (edit)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required to reject)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Edit, approve or reject a draft; an approval prints the FHIR Communication and gateway payload (nothing is
    sent); audited."""
    from assistant.services.outreach import review

    with errors_to_exit():
        result = review(open_ctx(), cli_caller(), draft_id, action, text, english_text, reason)
    if as_json:
        print_json(result)
        return
    console.print(
        f"draft {result['draft_id']}: {result['review_status']} (audit {result['audit_id']})", highlight=False
    )
    if "gateway_payload" in result:
        print_json({"communication": result["communication"], "gateway_payload": result["gateway_payload"]})


@outreach_app.command("reply")
def reply_command(
    patient: str = typer.Argument(..., help="The patient who replied."),
    text: str = typer.Argument(..., help="The reply as received."),
    channel: str = typer.Option("sms", "--channel"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a patient's reply; STOP and the other revocation words record an opt-out at once; audited."""
    from assistant.services.outreach import record_reply

    with errors_to_exit():
        result = record_reply(open_ctx(), cli_caller(), patient, text, channel)
    if as_json:
        print_json(result)
        return
    state = f"opt-out recorded ({result['keyword']!r})" if result["opt_out"] else "no opt-out"
    console.print(f"{result['patient_id']}: {state}; audit {result['audit_id']}", highlight=False)


@outreach_app.command("letter")
def letter_command(
    draft_id: str = typer.Argument(...), out: Path = typer.Option(..., "--out", help="Where to write the PDF.")
) -> None:
    """Render a draft as a letter (PDF) in the patient's script; audited."""
    from assistant.services.outreach import letter_pdf

    with errors_to_exit():
        pdf, audit_id = letter_pdf(open_ctx(), cli_caller(), draft_id)
    out.write_bytes(pdf)
    console.print(f"wrote {out} ({len(pdf)} bytes); audit {audit_id}", highlight=False)


@outreach_templates_app.command("approve")
def approve_command(
    purpose: str = typer.Option(..., "--purpose", help=PURPOSE_HELP),
    language: str = typer.Option(..., "--language", help="The template's language code (es, zh-Hant, ...)."),
    by: str = typer.Option(..., "--by", help="The qualified translator (or reviewer) who approved it."),
) -> None:
    """Record a qualified translator's approval of one template file (its version and content); audited."""
    from assistant.services.outreach import approve_template

    with errors_to_exit():
        result = approve_template(open_ctx(), cli_caller(), purpose, language, by)
    template = result["template"]
    console.print(
        f"{template['purpose']}/{template['language']} v{template['version']} approved by {by} "
        f"(sha256 {template['sha256'][:12]}); audit {result['audit_id']}",
        highlight=False,
    )


@outreach_templates_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every template with its version, translator and approval."""
    from assistant.services.outreach import list_templates

    with errors_to_exit():
        found = list_templates(open_ctx(), cli_caller())
    if as_json:
        print_json(found)
        return
    if not found:
        fail("no templates found", 1)
    for t in found:
        approval = t["approval"]
        state = f"approved by {approval['approved_by']}" if approval else "awaiting approval"
        typer.echo(f"{t['purpose']:<26}{t['language']:<9}v{t['version']}  {state}")
