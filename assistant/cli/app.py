"""The Typer application objects. Command modules in this package attach themselves to these."""

import typer
from typer.core import TyperGroup


class DraftByDefault(TyperGroup):
    """``caretrail outreach PATIENT --purpose P`` drafts a message; ``caretrail outreach templates ...`` and the other
    names are subcommands. A first word that names no subcommand is a patient, and goes to ``draft``."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["draft", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="caretrail",
    help="Caretrail: cited, PHI-safe care coordination for LEAD ACOs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="Inspect and verify the hash-chained audit log.", no_args_is_help=True)
eval_app = typer.Typer(help="Run evaluation harnesses over the gold sets in evals/.", no_args_is_help=True)
roster_app = typer.Typer(help="Roster tools: duplicates, attribution, MBI changes.", no_args_is_help=True)
panel_app = typer.Typer(help="Who sees which patients: assign, import, list, link an NPI.", no_args_is_help=True)
measures_app = typer.Typer(help="Quality measures (CMS165, CMS122) over your panel.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for services and scripts: stored as hashes, shown once.", no_args_is_help=True)
transitions_app = typer.Typer(help="Transition-of-care episodes: the worklist of discharges.", no_args_is_help=True)
outreach_app = typer.Typer(
    cls=DraftByDefault,
    no_args_is_help=True,
    help="Patient outreach: `outreach PATIENT --purpose P` drafts a message for review; review, replies, templates.",
)
outreach_templates_app = typer.Typer(help="Outreach templates and translators' approvals.", no_args_is_help=True)

app.add_typer(audit_app, name="audit")
app.add_typer(eval_app, name="eval")
app.add_typer(roster_app, name="roster")
app.add_typer(panel_app, name="panel")
app.add_typer(keys_app, name="keys")
app.add_typer(measures_app, name="measures")
app.add_typer(transitions_app, name="transitions")
app.add_typer(outreach_app, name="outreach")
outreach_app.add_typer(outreach_templates_app, name="templates")
