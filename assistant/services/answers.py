"""Cited answers: the caller may ask, the patient is on their panel, and the answer is audited before return.

A question about one patient that the record engine recognises ("what is her most recent A1c", "what changed at
discharge", "is anything pending", "what are her diagnoses") is answered from the structured record instead of the
narrative index (``assistant.record_answers``): one sentence per fact, each cited to its record, every fact of a
list question. Instead of, not merged with: the narrative composer answers with the best-matching sentences, which
is the wrong shape for a lookup or a list (it named the discharge date when asked what was pending, and it cannot
see an HbA1c held only as an Observation), and mixing the two would let a narrative sentence stand beside, or
contradict, the record fact it paraphrases. Where the record has nothing, the answer says what was looked for rather
than falling back to a best-matching sentence. Everything else (knowledge questions, and patient questions the
record engine does not recognise) goes to the narrative answer. Both kinds keep the ``caretrail.ask/1`` contract and
are audited as "ask" before they are returned. See docs/record_answers.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from assistant.ask import answer, checked_question
from assistant.context import AppContext
from assistant.errors import BadRequest
from assistant.record_answers import answer_record_question
from assistant.roles import normalize_role
from assistant.services.access import audit, open_patient, require
from assistant.services.caller import Caller
from assistant.services.policy import Action


def view_role(caller: Caller, requested: str | None) -> str:
    """A role named in a request chooses a view (whose items come first, the tone); it never grants access."""
    if not requested:
        return caller.role
    try:
        return normalize_role(requested)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def ask(ctx: AppContext, caller: Caller, question: str, patient_ref: str | None = None,
        view: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """The ``caretrail.ask/1`` contract, with the audit id of the row written before it is returned.

    ``as_of`` (today when None) is the day a record answer is true on: records dated after it are not read."""
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    shown_as = view_role(caller, view)
    patient_id = open_patient(ctx, caller, patient_ref).id if patient_ref else None
    if patient_id:
        record = answer_record_question(ctx.patients, patient_id, checked_question(question), as_of)
        if record is not None:
            audit_id = audit(ctx, caller, "ask", patient_id, {**record.audit_payload(), "view_role": shown_as})
            return {**record.response(patient_id), "audit_id": audit_id}
    result = answer(ctx.answer_deps, question, patient_id, shown_as)
    audit_id = audit(ctx, caller, "ask", patient_id, {**result.audit_payload, "view_role": shown_as})
    return {**result.response, "audit_id": audit_id}
