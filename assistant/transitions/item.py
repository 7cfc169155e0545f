"""One checklist item: what to do, by when, whose it is, whether it is done, and what it rests on.

Shape (the JSON contract): ``{"id", "category", "text", "due", "owner_role", "required", "status", "evidence",
"citations"}``. The id is stable for as long as the record says the same thing (a fixed name such as
``tcm-contact``, the drug's ingredient for a medication line, a hash of the cited text for a line read from the
discharge summary), so what a person did to an item (checked it off, waived it) stays with it when the checklist
is built again.

Statuses of a transition item: ``open``, ``overdue`` (past due on the as-of date), ``done``, ``late`` (done after
its deadline), ``waived`` (by a person, with a reason), ``needs_input`` (the record lacks what the step needs) and
``not_applicable``. A documentation element is ``present`` or ``missing``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

WAITING = ("open", "overdue", "needs_input")  # still to do
FINISHED = ("done", "late", "waived", "not_applicable")  # nothing left to do
PRESENT, MISSING = "present", "missing"


@dataclass
class Item:
    id: str
    category: str
    text: str
    due: date | None
    owner_role: str
    required: bool
    status: str
    evidence: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "text": self.text,
                "due": self.due.isoformat() if self.due else None, "owner_role": self.owner_role,
                "required": self.required, "status": self.status, "evidence": self.evidence,
                "citations": self.citations}  # fmt: skip


def slug(text: str, limit: int = 40) -> str:
    """``"Furosemide 40 MG"`` -> ``"furosemide-40-mg"``: a readable id part."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "item"


def text_id(prefix: str, text: str) -> str:
    """An id for an item read from a line of the record: the same line always gives the same id."""
    digest = hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{digest}"
