"""A checklist (transition or documentation) as Markdown: a table to work through, then each item's evidence and
numbered sources, the medication changes, and the audit id of the read that produced it.

Why Markdown: it pastes into an EHR note, a ticket or an e-mail as readable text and renders as a table where
Markdown is understood; every source keeps its place (file, locator, offsets, quote) so a reader can open it.
"""

from __future__ import annotations

from typing import Any

TITLES = {
    "transition": "Transition-of-care checklist",
    "tcm": "TCM documentation checklist",
    "awv": "Annual Wellness Visit documentation checklist",
    "ccm": "Chronic Care Management documentation checklist",
    "cara_referral": "CARA referral package checklist",
}


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


def source_line(citation: dict[str, Any]) -> str:
    kind = citation.get("type")
    if kind == "knowledge":
        return (
            f"knowledge `{citation.get('source_uri')}` § {citation.get('section')} [{citation.get('start')}-"
            f'{citation.get("end")}]: "{citation.get("quote")}"'
        )
    if kind == "audit":
        return (
            f"audit row `{citation.get('audit_id')}` ({citation.get('action')} by {citation.get('user')} at "
            f"{citation.get('at')})"
        )
    if kind == "record":
        where = f"`{citation.get('source_path')}` at {citation.get('locator')}"
        span = f" [{citation.get('start')}-{citation.get('end')}]" if citation.get("start") is not None else ""
        quote = f': "{cell(citation["quote"])}"' if citation.get("quote") else ""
        return f"record ({citation.get('kind')}) {where}{span}{quote}"
    return ", ".join(f"{key}={value}" for key, value in citation.items() if key != "type")


def render(result: dict[str, Any]) -> str:
    kind = result.get("kind", "transition")
    out = [f"# {TITLES.get(kind, 'Checklist')}", ""]
    facts = [("Patient", result.get("patient_id")), ("Discharge", result.get("discharge_date")),
             ("Facility", result.get("facility")), ("Episode", result.get("episode_id")),
             ("Status", result.get("episode_status")), ("As of", result.get("as_of"))]  # fmt: skip
    out += [f"- **{name}:** {cell(value)}" for name, value in facts if value]
    complexity = result.get("complexity")
    if complexity:
        out.append(f"- **Suggested TCM complexity:** {complexity['level']} ({complexity['code']}). "
                   f"{cell(complexity['explanation'])}")  # fmt: skip
    if result.get("missing"):
        out.append(f"- **Missing from the record:** {', '.join(result['missing'])}")
    for note in result.get("notes") or []:
        out.append(f"- **Note:** {cell(note)}")
    out += ["", "| # | Due | Status | Owner | Required | Item |", "|---|---|---|---|---|---|"]
    for n, item in enumerate(result["items"], start=1):
        out.append(f"| {n} | {item['due'] or '-'} | {item['status']} | {item['owner_role']} | "
                   f"{'yes' if item['required'] else 'no'} | {cell(item['text'])} |")  # fmt: skip
    out += ["", "## Items", ""]
    for n, item in enumerate(result["items"], start=1):
        out.append(f"### {n}. {cell(item['text'])}")
        out.append(f"`{item['id']}` · {item['category']} · due {item['due'] or '-'} · {item['status']} · "
                   f"{item['owner_role']}")  # fmt: skip
        out.append("")
        for line in item["evidence"]:
            out.append(f"- {cell(line)}")
        for m, citation in enumerate(item["citations"], start=1):
            out.append(f"- [{m}] {source_line(citation)}")
        out.append("")
    changes = result.get("medication_changes") or []
    if changes:
        out += ["## Medication changes", "", "| Change | Medication | High-risk class | Pre-admission | Discharge |",
                "|---|---|---|---|---|"]  # fmt: skip
        for change in changes:
            out.append(f"| {change['change']} | {cell(change['medication'])} | {change['high_risk_class'] or '-'} | "
                       f"{cell(change['pre_admission']) or '-'} | {cell(change['discharge']) or '-'} |")  # fmt: skip
        out.append("")
    out.append(f"Audit id of this read: `{result.get('audit_id')}`")
    return "\n".join(out) + "\n"
