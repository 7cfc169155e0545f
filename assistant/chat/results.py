"""Engine results as chat sentences: each guidance item, checklist item or draft becomes one sentence that cites what
the engine cited (knowledge spans, records, settings), numbered once per turn, with a link to the structured result.

Why one sentence per item: the chat shows the same facts the engine returned, in the same words, and each keeps its
own citations; the structured result behind the link has everything else (evidence, statuses, actions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode


@dataclass
class Cited:
    """Sentences and the citations they share; a citation met twice keeps its first number."""

    sentences: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)

    def add(self, text: str, cited: list[dict[str, Any]]) -> None:
        refs: list[int] = []
        for citation in cited:
            body = {k: v for k, v in citation.items() if k != "n"}
            key = json.dumps(body, sort_keys=True, default=str)
            if key not in self._numbers:
                self._numbers[key] = len(self.citations) + 1
                self.citations.append({"n": self._numbers[key], **body})
            if self._numbers[key] not in refs:
                refs.append(self._numbers[key])
        self.sentences.append({"text": text, "citations": refs})


def _evidence_citation(evidence: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", **{k: v for k, v in evidence.items() if k != "type"}}


def guidance_sentences(items: list[dict[str, Any]]) -> Cited:
    cited = Cited()
    for item in items:
        due = f"due {item['due']}, " if item.get("due") else ""
        text = f"{item['action'].rstrip('. ')} ({due}{item['priority']} priority)."
        cited.add(text, [*item.get("citations", []), *map(_evidence_citation, item.get("evidence", []))])
    return cited


def checklist_sentences(items: list[dict[str, Any]]) -> Cited:
    cited = Cited()
    for item in items:
        text = f"{item['text'].rstrip()} ({item['status']}; owner {item['owner_role'].replace('_', ' ')})"
        cited.add(text if text.endswith((".", ")")) else text + ".", list(item.get("citations", [])))
    return cited


def draft_sentences(draft: dict[str, Any]) -> Cited:
    cited = Cited()
    channel = {"sms": "text message", "letter": "letter", "portal": "portal message"}.get(draft["channel"], "message")
    status = str(draft.get("review_status", "needs_review")).replace("_", " ")
    cited.add(f"Draft {channel} ({status}): \u201c{draft['text']}\u201d", list(draft.get("citations", [])))
    return cited


def link(rel: str, path: str, query: dict[str, Any] | None = None, audit_id: str | None = None) -> dict[str, Any]:
    """A relative link to a structured result of this API (never to another host)."""
    href = "/v1/" + "/".join(quote(part, safe="") for part in path.strip("/").split("/"))
    params = {k: v for k, v in (query or {}).items() if v is not None}
    if params:
        href += "?" + urlencode(params)
    return {"rel": rel, "href": href, "audit_id": audit_id}
