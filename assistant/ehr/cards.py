"""CDS Hooks 2.0 cards from guidance items and from a discharge's transition checklist.

A guidance card: ``summary`` is the item's action (under 140 characters, cut at a word when longer),
``indicator`` from its priority and due date, ``source`` the knowledge document it cites (label, and the
document's public address when it has one), ``links`` open each cited span in Caretrail and launch the SMART app
on the patient, ``detail`` quotes the cited sentences. One suggestion with no actions lets the EHR's user accept
the step, which the feedback endpoint records on the item; ``overrideReasons`` are what dismissing it can say.

A checklist card lists the discharge's open items and offers one suggestion per item whose action creates the
item's FHIR Task (``assistant/transitions/fhir_plan.py``) in the EHR, for the EHR's patient and encounter.

Citations stay intact: every card carries the items' citation objects unchanged (the ask contract's shape, with
document, offsets, hash and exact quote) under ``extension``, and each Task keeps them as ``input``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fhir.resources.R4B.task import Task

SUMMARY_LIMIT = 139  # "<140-character summary"
CITATIONS_EXTENSION = "org.caretrail.citations"
OVERRIDE_SYSTEM = "urn:caretrail:cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "already-done", "display": "Already done or scheduled"},
    {"system": OVERRIDE_SYSTEM, "code": "not-applicable", "display": "Does not apply to this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "patient-declined", "display": "Patient declined"},
]
OPEN_ITEM_STATUSES = ("open", "overdue", "needs_input", "missing")  # checklist items still to do


@dataclass
class Built:
    """A card and what each of its suggestions means, for the feedback endpoint."""

    card: dict[str, Any]
    kind: str  # "guidance" | "checklist"
    item_id: str | None
    suggestions: dict[str, dict[str, Any]] = field(default_factory=dict)


def summary(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    cut = text[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def indicator(priority: str, due: str | None, as_of: date, required: bool = True) -> str:
    """critical: a high-priority step past its date; warning: high priority, or due by today; info: the rest."""
    late = bool(due) and date.fromisoformat(str(due)) < as_of
    due_now = bool(due) and date.fromisoformat(str(due)) <= as_of
    if priority == "high" and late and required:
        return "critical"
    if priority == "high" or due_now:
        return "warning"
    return "info"


def _where(citation: dict[str, Any]) -> str:
    """A human label for a citation: a protocol's title and section, or the record's place in its source."""
    if citation.get("title"):
        return f"{citation['title']} › {citation.get('section') or ''}".rstrip(" ›")
    return str(citation.get("locator") or citation.get("type") or "record")


def _quote_lines(citations: list[dict[str, Any]]) -> list[str]:
    """The cited text itself, quoted (citations to a whole document or an audit row have no text to quote)."""
    lines = []
    for citation in citations:
        if citation.get("quote"):
            lines += [f"> {citation['quote']}", f"> — *{_where(citation)}*", ""]
    return lines


def _span_links(citations: list[dict[str, Any]], public: str) -> list[dict[str, Any]]:
    """One link per cited span: Caretrail's source view of exactly the cited characters (protocol text, or a
    patient's note, which the source view opens only for someone who may see the patient)."""
    links, seen = [], set()
    for citation in citations:
        if not citation.get("chunk_id") or citation.get("start") is None or citation.get("end") is None:
            continue
        key = (citation["chunk_id"], citation["start"], citation["end"])
        if key in seen:
            continue
        seen.add(key)
        query = urlencode({"start": citation["start"], "end": citation["end"]})
        url = f"{public}/v1/sources/{quote(citation['chunk_id'], safe='')}?{query}"
        links.append({"label": summary(f"Cited: {_where(citation)}"), "url": url, "type": "absolute"})
    return links[:3]


def smart_link(public: str, ehr_patient: str, item: str | None = None) -> dict[str, Any]:
    """A SMART launch of Caretrail; the EHR adds ``iss`` and ``launch``, and the token names the patient."""
    context = {"patient": ehr_patient, **({"item": item} if item else {})}
    return {
        "label": "Open in Caretrail",
        "url": f"{public}/smart/launch",
        "type": "smart",
        "appContext": json.dumps(context, sort_keys=True),
    }


def _source(citations: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    """The protocol document the card rests on: the first cited one, with its public address when it has one."""
    first = next((c for c in citations if c.get("title")), None)
    if first is None:
        return {"label": fallback}
    source: dict[str, Any] = {"label": summary(first["title"])}
    urls = first.get("source_urls") or []
    if urls:
        source["url"] = urls[0]
    return source


def guidance_card(item: dict[str, Any], as_of: date, public: str, ehr_patient: str) -> Built:
    citations = list(item["citations"])
    accept = str(uuid.uuid4())
    due = f"Due {item['due']}. " if item.get("due") else ""
    detail = [
        f"{item['rationale']}",
        "",
        f"{due}Owner: {item['owner_role'].replace('_', ' ')}. Priority: {item['priority']}.",
        "",
        *_quote_lines(citations),
    ]
    card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(item["action"]),
        "indicator": indicator(item["priority"], item.get("due"), as_of),
        "detail": "\n".join(detail).strip(),
        "source": {
            **_source(citations, "Caretrail guidance"),
            "topic": {
                "system": "urn:caretrail:guidance-rule",
                "code": item["rule"],
                "display": item["rule"].replace("_", " "),
            },
        },
        "suggestions": [{"label": "Accept this next step", "uuid": accept, "isRecommended": True}],
        "selectionBehavior": "at-most-one",
        "overrideReasons": OVERRIDE_REASONS,
        "links": [*_span_links(citations, public), smart_link(public, ehr_patient, item["id"])],
        "extension": {
            CITATIONS_EXTENSION: citations,
            "org.caretrail.guidance": {
                k: item.get(k) for k in ("id", "rule", "owner_role", "due", "priority", "status", "measure")
            },
        },
    }
    return Built(card, "guidance", item["id"], {accept: {"action": "accept", "item_id": item["id"]}})


def _ehr_task(task: dict[str, Any], ehr_patient: str, ehr_encounter: str | None) -> dict[str, Any]:
    """The checklist's Task as the EHR should create it: for its patient and encounter, not tied to a CarePlan
    the EHR does not hold."""
    created = {k: v for k, v in task.items() if k != "basedOn"}
    created["for"] = {"reference": f"Patient/{ehr_patient}"}
    if ehr_encounter:
        created["encounter"] = {"reference": f"Encounter/{ehr_encounter}"}
    Task.model_validate(created)  # never suggest a resource that is not valid FHIR
    return created


def checklist_card(
    result: dict[str, Any],
    bundle: dict[str, Any],
    as_of: date,
    public: str,
    ehr_patient: str,
    ehr_encounter: str | None,
) -> Built:
    tasks = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Task":
            tasks[resource["identifier"][0]["value"]] = resource
    waiting = [i for i in result["items"] if i["status"] in OPEN_ITEM_STATUSES]
    citations = [c for i in waiting for c in i["citations"]]
    suggestions, meanings = [], {}
    for item in waiting:
        suggestion_id = str(uuid.uuid4())
        task = _ehr_task(tasks[item["id"]], ehr_patient, ehr_encounter)
        suggestions.append(
            {
                "label": summary(f"Create task: {item['text']}"),
                "uuid": suggestion_id,
                "isRecommended": bool(item["required"]),
                "actions": [
                    {"type": "create", "description": summary(f"Create a Task: {item['text']}"), "resource": task}
                ],
            }
        )
        meanings[suggestion_id] = {"action": "create_task", "item_id": item["id"]}
    dated = sorted((i for i in waiting if i.get("due")), key=lambda i: i["due"])
    next_due = f", next due {dated[0]['due']}" if dated else ""
    text = (
        (
            f"Transition checklist after the {result['discharge_date']} discharge: {len(waiting)} open "
            f"item{'s' if len(waiting) != 1 else ''}{next_due}"
        )
        if waiting
        else (f"Transition checklist after the {result['discharge_date']} discharge: nothing left open")
    )
    levels = [indicator("high", i.get("due"), as_of) for i in waiting if i["required"]]  # warning or critical
    level = "critical" if "critical" in levels else ("warning" if levels else "info")
    lines = []
    for item in waiting:
        due = f", due {item['due']}" if item.get("due") else ""
        lines.append(f"- **{item['text']}** ({item['owner_role'].replace('_', ' ')}{due})")
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(text),
        "indicator": level,
        "detail": "\n".join([*lines, "", *_quote_lines(citations[:5])]).strip() or text,
        "source": _source(citations, "Caretrail transition checklist"),
        "links": [*_span_links(citations, public), smart_link(public, ehr_patient)],
        "extension": {
            CITATIONS_EXTENSION: citations,
            "org.caretrail.checklist": {
                "episode_id": result.get("episode_id"),
                "encounter_id": result.get("encounter_id"),
                "discharge_date": result.get("discharge_date"),
                "items": [
                    {k: i.get(k) for k in ("id", "status", "required", "due", "owner_role")} for i in result["items"]
                ],
            },
        },
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    return Built(card, "checklist", result.get("episode_id"), meanings)
