"""The care team's chat: conversations owned by one user, about one patient or none, answered turn by turn.

Each turn: the caller must own the conversation and (for a patient's conversation) still have the patient on their
panel; the message is made whole from the turns before it (``chat.followups``), checked for other patients it names
(``chat.mentions``), classified (``chat.intent``) and answered by the engine that owns that kind of request:

- a record question from that patient's record only: the structured record (``record_answers``), else the patient's
  own notes (the answer engine scoped to the patient, keeping only sentences that cite the patient);
- a protocol question from the knowledge base only (no patient text is retrieved for it);
- "what should I do" from the guidance items owned by the conversation's role (``services.guidance``);
- "make a checklist" and "draft a message" through ``services.transitions`` and ``services.outreach``, shown as cited
  sentences with a link to the structured result.

Those services check access and write their own audit rows; this one writes one more per turn (``chat.turn``, or
``chat.declined`` with the reason) before anything is shown, then stores the turn. Every shown sentence passes the
screen of ``chat.safety``: instruction-like text is withheld and no link survives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from assistant.ask import AnswerDeps, answer, checked_question
from assistant.chat import followups, intent, mentions, parameters, results, safety, store
from assistant.chat.embedding import remembering
from assistant.chat.intent import IntentDecision
from assistant.citations.cited_text import cited_text
from assistant.context import AppContext
from assistant.errors import CaretrailError, NotFound, PermissionDenied
from assistant.outreach.purposes import PURPOSES
from assistant.prompts import load_prompt
from assistant.record_answers import answer_record_question
from assistant.services import guidance as guidance_service
from assistant.services import outreach as outreach_service
from assistant.services import policy
from assistant.services import transitions as transitions_service
from assistant.services.access import audit, check_patient, deny, may_see_patient, open_patient, require
from assistant.services.answers import view_role
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.policy import Action

SCHEMA = "caretrail.ask/1"
CONVERSATION_SCHEMA = "caretrail.conversation/1"
LIST_SCHEMA = "caretrail.conversations/1"
HISTORY_TURNS = 6  # follow-ups are resolved against the latest of these
# What the audit row keeps of each shown citation: where it points, not the quoted text again.
AUDITED_CITATION_KEYS = (
    "n",
    "type",
    "doc_id",
    "document_id",
    "chunk_id",
    "record_id",
    "patient_id",
    "start",
    "end",
    "sha256",
)


@dataclass
class Reply:
    """What one route produced, before the safety screen."""

    sentences: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    notice: str | None = None  # shown when no sentence is: the abstention, "no open items", why nothing was done
    links: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)  # for the audit row: what was read and which rows it wrote
    declined: str | None = None  # the decline's kind (diagnosis, off_panel...), when the request was declined


def _replies(ctx: AppContext) -> Any:
    return load_prompt("chat/replies", prompts_dir=ctx.settings.prompts_dir)


def _conversation_dict(conversation: store.Conversation) -> dict[str, Any]:
    return {
        "conversation_id": conversation.id,
        "patient_id": conversation.patient_id,
        "role": conversation.role,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
    }


def start(ctx: AppContext, caller: Caller, patient_ref: str | None = None, view: str | None = None) -> dict[str, Any]:
    """A new conversation owned by the caller, about ``patient_ref`` (checked against the panel) or about no patient.
    ``view`` chooses whose next steps are shown (a role); it never grants access."""
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    role = view_role(caller, view)
    patient_id = open_patient(ctx, caller, patient_ref).id if patient_ref else None
    conversation_id = store.new_id()
    audit_id = audit(ctx, caller, "chat.start", patient_id, {"conversation_id": conversation_id, "view_role": role})
    conversation = store.create(ctx.engine, conversation_id, caller.user, caller.role, role, patient_id)
    return {"schema": CONVERSATION_SCHEMA, **_conversation_dict(conversation), "turns": [], "audit_id": audit_id}


def _open(ctx: AppContext, caller: Caller, conversation_id: str) -> store.Conversation:
    """The caller's own conversation, with its patient checked against the panel again (panels change)."""
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    conversation = store.get(ctx.engine, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id[:60]!r}")
    if conversation.user_id != caller.user:
        deny(ctx, caller, Action.ASK_KNOWLEDGE, conversation.patient_id, "this conversation belongs to another user")
    if conversation.patient_id is not None:
        check_patient(ctx, caller, conversation.patient_id, Action.READ_PATIENT)
    return conversation


def read(ctx: AppContext, caller: Caller, conversation_id: str) -> dict[str, Any]:
    """The conversation and every turn as it was shown; audited as a read."""
    conversation = _open(ctx, caller, conversation_id)
    turns = store.turns(ctx.engine, conversation.id)
    audit_id = audit(
        ctx, caller, "chat.read", conversation.patient_id, {"conversation_id": conversation.id, "turns": len(turns)}
    )
    return {
        "schema": CONVERSATION_SCHEMA,
        **_conversation_dict(conversation),
        "turns": [t.to_dict() for t in turns],
        "audit_id": audit_id,
    }


def conversations(ctx: AppContext, caller: Caller, limit: int = 50) -> dict[str, Any]:
    """The caller's own conversations, newest first, leaving out those about patients they may no longer see."""
    require(ctx, caller, Action.ASK_KNOWLEDGE)
    reads_charts = policy.allows(caller.role, Action.READ_PATIENT)
    shown = [
        c
        for c in store.owned_by(ctx.engine, caller.user, limit)
        if c.patient_id is None or (reads_charts and may_see_patient(ctx, caller, c.patient_id))
    ]
    audit_id = audit(ctx, caller, "chat.list", None, {"returned": len(shown)})
    return {"schema": LIST_SCHEMA, "conversations": [_conversation_dict(c) for c in shown], "audit_id": audit_id}


def send(
    ctx: AppContext, caller: Caller, conversation_id: str, text: str | None, as_of: date | None = None
) -> dict[str, Any]:
    """Answer one message: the ``caretrail.ask/1`` contract plus the turn's intent, routing, dropped sentences,
    links and decline; audited (``chat.turn`` or ``chat.declined``) and stored before it is returned."""
    conversation = _open(ctx, caller, conversation_id)
    message = checked_question(text)
    day = reference_day(as_of)
    earlier = store.turns(ctx.engine, conversation.id)
    history = [followups.PriorTurn(t.seq, t.resolved, t.intent) for t in earlier[-HISTORY_TURNS:]]
    seq = (earlier[-1].seq if earlier else 0) + 1
    resolution = followups.resolve(message, history)
    events: list[dict[str, Any]] = []
    tie_breaker = None
    if ctx.llm is not None:
        prompt = load_prompt("chat/intent", prompts_dir=ctx.settings.prompts_dir)
        tie_breaker = intent.model_tie_breaker(ctx.llm, prompt, conversation.patient_id, events)
    # The resolved text too: a follow-up ("and her BP?") may carry a name from the question it completes.
    named = mentions.named_patients(ctx.engine, f"{message}\n{resolution.text}")
    others = [m for m in named if m.patient_id != conversation.patient_id]
    if others:  # nothing about another patient is classified, looked up or answered in this conversation
        decision = _names_another_patient(ctx, caller, others)
    else:
        has_patient = conversation.patient_id is not None
        decision = intent.classify(resolution.text, remembering(ctx.embedder), has_patient, tie_breaker)
    reply = _route(ctx, caller, conversation, others, resolution.text, decision, day)
    screened = safety.screen(reply.sentences, reply.citations)
    dropped = safety.screen_dropped(reply.dropped) + screened.dropped
    abstained = not screened.sentences
    notice = reply.notice or load_prompt("answer/composer", prompts_dir=ctx.settings.prompts_dir)["abstain_message"]
    shown_text = (
        safety.plain(notice)
        if abstained
        else cited_text(screened.sentences)
    )
    routing = {"intent": decision.to_dict(), "followup": resolution.to_dict()}
    decline_reason = shown_text if reply.declined else None
    payload = {
        "conversation_id": conversation.id,
        "turn": seq,
        "text": message,
        "resolved_question": resolution.text,
        "routing": routing,
        "model_events": events,  # a tie-breaking model's calls, as the guard reported them (pseudonymized)
        "view_role": conversation.role,
        "as_of": day.isoformat(),
        "engine": reply.engine,
        "answer": shown_text,
        "sentences": screened.sentences,
        "dropped_sentences": dropped,
        "citations": [{k: c.get(k) for k in AUDITED_CITATION_KEYS} for c in screened.citations],
        "links": reply.links,
        "declined": reply.declined,
    }
    event = "chat.declined" if reply.declined else "chat.turn"
    audit_id = audit(ctx, caller, event, conversation.patient_id, payload)
    response = {
        "schema": SCHEMA,
        "answer": shown_text,
        "sentences": screened.sentences,
        "citations": screened.citations,
        "abstained": abstained,
        "patient_id": conversation.patient_id,
        "audit_id": audit_id,
        "intent": decision.intent,
        "dropped_sentences": dropped,
        "conversation_id": conversation.id,
        "turn": seq,
        "question": message,
        "resolved_question": resolution.text,
        "routing": routing,
        "role": conversation.role,
        "links": reply.links,
        "declined": reply.declined is not None,
        "decline_reason": decline_reason,
    }
    store.add_turn(
        ctx.engine, conversation.id, seq, message, resolution.text, decision.intent, routing, response, audit_id
    )
    return response


def events(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The turn as server-sent events: one ``sentence`` event per shown sentence, then ``final`` with the whole
    response. Plain dicts (``event``, ``data``): the route serialises them; docs/chat.md documents them."""
    for index, sentence in enumerate(response["sentences"]):
        yield {
            "event": "sentence",
            "data": {"index": index, "text": sentence["text"], "citations": sentence["citations"]},
        }
    yield {"event": "final", "data": response}


# ------------------------------------------------------------------------------------------------------ routing


def _decline(ctx: AppContext, kind: str, engine: dict[str, Any] | None = None, **values: str) -> Reply:
    return Reply(notice=_replies(ctx)["decline"][kind].format(**values), engine=engine or {}, declined=kind)


def _names_another_patient(ctx: AppContext, caller: Caller, others: list[mentions.Mention]) -> IntentDecision:
    """Out of scope: the message names a patient this conversation is not about (off the panel, or another one)."""
    visible = all(
        policy.allows(caller.role, Action.READ_PATIENT) and may_see_patient(ctx, caller, m.patient_id) for m in others
    )
    how = " and ".join(sorted({m.how for m in others}))
    scope = "other_patient" if visible else "off_panel"
    reason = f"names {'another patient' if visible else 'a patient off your panel'} by {how}"
    return IntentDecision(intent.OUT_OF_SCOPE_INTENT, "rule", f"rule 'names-another-patient': {reason}", scope)


def _route(
    ctx: AppContext,
    caller: Caller,
    conversation: store.Conversation,
    others: list[mentions.Mention],
    question: str,
    decision: IntentDecision,
    day: date,
) -> Reply:
    if others:
        named = {"mentions": [{"patient_id": m.patient_id, "how": m.how} for m in others]}
        return _decline(ctx, decision.scope or "off_panel", named)
    if decision.intent == intent.OUT_OF_SCOPE_INTENT:
        return _decline(ctx, decision.scope or "off_topic")
    patient_id = conversation.patient_id
    if decision.intent in intent.NEEDS_PATIENT and patient_id is None:
        return _decline(ctx, "no_patient")
    assert patient_id is not None or decision.intent == intent.PROTOCOL
    try:
        if decision.intent == intent.RECORD:
            return _record(ctx, patient_id, question, conversation.role, day)  # type: ignore[arg-type]
        if decision.intent == intent.PROTOCOL:
            return _protocol(ctx, question, conversation.role)
        if decision.intent == intent.NEXT_STEPS:
            return _next_steps(ctx, caller, patient_id, conversation.role, day)  # type: ignore[arg-type]
        if decision.intent == intent.CHECKLIST:
            return _checklist(ctx, caller, patient_id, question, day)  # type: ignore[arg-type]
        return _outreach(ctx, caller, patient_id, question, day)  # type: ignore[arg-type]
    except PermissionDenied as exc:  # the engine's service refused (and audited) it: say why, in the conversation
        return _decline(ctx, "not_permitted", {"refused": str(exc)}, reason=str(exc))
    except CaretrailError as exc:  # no discharge on record, an opted-out patient, a missing fact: say so
        reason = str(exc)
        return Reply(
            notice=_replies(ctx)["engine_refused"].format(reason=reason),
            engine={"refused": reason, "status": exc.status_code},
        )


def _answer_deps(ctx: AppContext) -> AnswerDeps:
    """The answer engine's dependencies with the remembering embedder: the question was embedded to classify it."""
    deps, embedder = ctx.answer_deps, remembering(ctx.embedder)
    return replace(deps, embedder=embedder, search=replace(deps.search, embedder=embedder))


def _answer_reply(response: dict[str, Any], payload: dict[str, Any]) -> Reply:
    return Reply(
        sentences=list(response["sentences"]),
        citations=list(response["citations"]),
        dropped=list(payload.get("dropped_sentences", [])),
        engine=payload,
    )


def _record(ctx: AppContext, patient_id: str, question: str, role: str, day: date) -> Reply:
    """A question the record engine recognises gets the record's answer, as ``ask`` gives it; any other record
    question gets the patient's own notes; never the knowledge base.

    Recognised means answered by the record engine even when the record has nothing: its answer then says what
    was looked for (``structured.text``), exactly as ``services.answers.ask`` does, so the chat and the ask box
    cannot disagree about one patient. Falling back to the notes' best-matching sentence there was the bug the
    record engine replaced (the discharge date, when asked what was pending)."""
    structured = answer_record_question(ctx.patients, patient_id, question, day)
    if structured is not None:
        if structured.abstained:
            return Reply(notice=structured.text, engine=structured.audit_payload())
        return _answer_reply(structured.response(patient_id), structured.audit_payload())
    narrative = answer(_answer_deps(ctx), question, patient_id, role, knowledge=False)
    own = [c["n"] for c in narrative.response["citations"] if c.get("patient_id") == patient_id]
    kept = [s for s in narrative.response["sentences"] if s["citations"] and set(s["citations"]) <= set(own)]
    outside = [
        {**s, "reason": "cites the knowledge base: a record question is answered from the patient's record"}
        for s in narrative.response["sentences"]
        if s not in kept
    ]
    engine = {"narrative": narrative.audit_payload}
    if kept:
        citations = [c for c in narrative.response["citations"] if c["n"] in {n for s in kept for n in s["citations"]}]
        return Reply(
            sentences=kept,
            citations=citations,
            dropped=list(narrative.audit_payload.get("dropped_sentences", [])) + outside,
            engine=engine,
        )
    return Reply(notice=_replies(ctx)["record_abstain"], dropped=outside, engine=engine)


def _protocol(ctx: AppContext, question: str, role: str) -> Reply:
    result = answer(_answer_deps(ctx), question, None, role)
    return _answer_reply(result.response, result.audit_payload)


def _next_steps(ctx: AppContext, caller: Caller, patient_id: str, role: str, day: date) -> Reply:
    found = guidance_service.patient_guidance(ctx, caller, patient_id, role, day)
    mine = [item for item in found["items"] if item["owner_role"] == role]
    cited = results.guidance_sentences(mine)
    link = results.link(
        "guidance", f"patients/{patient_id}/guidance", {"role": role, "as_of": day.isoformat()}, found["audit_id"]
    )
    engine = {
        "service_audit_id": found["audit_id"],
        "items": [i["id"] for i in mine],
        "open_items": len(found["items"]),
    }
    notice = None
    if not mine:
        others = sorted({i["owner_role"].replace("_", " ") for i in found["items"]})
        replies = _replies(ctx)
        notice = (
            replies["no_items_other_roles"].format(
                role=role.replace("_", " "), count=len(found["items"]), roles=", ".join(others)
            )
            if others
            else replies["no_items"].format(role=role.replace("_", " "))
        )
    return Reply(sentences=cited.sentences, citations=cited.citations, notice=notice, links=[link], engine=engine)


def _checklist(ctx: AppContext, caller: Caller, patient_id: str, question: str, day: date) -> Reply:
    kind = parameters.checklist_kind(question)
    found = transitions_service.checklist(ctx, caller, patient_id, None, day, kind)
    cited = results.checklist_sentences(found["items"])
    link = results.link(
        "checklist", f"checklists/{patient_id}", {"kind": kind, "as_of": day.isoformat()}, found["audit_id"]
    )
    engine = {"service_audit_id": found["audit_id"], "kind": kind, "items": [i["id"] for i in found["items"]]}
    notice = None if found["items"] else _replies(ctx)["no_checklist_items"]
    return Reply(sentences=cited.sentences, citations=cited.citations, notice=notice, links=[link], engine=engine)


def _outreach(ctx: AppContext, caller: Caller, patient_id: str, question: str, day: date) -> Reply:
    purpose = parameters.outreach_purpose(question)
    if purpose is None:
        return Reply(
            notice=_replies(ctx)["which_purpose"].format(purposes=", ".join(p for p in PURPOSES if p != "free_text")),
            engine={"purpose": None},
        )
    channel = parameters.outreach_channel(question)
    language = parameters.outreach_language(question)
    draft = outreach_service.create_draft(ctx, caller, patient_id, purpose, language, channel, day)
    cited = results.draft_sentences(draft)
    link = results.link("outreach_draft", f"outreach/drafts/{draft['draft_id']}", None, draft["audit_id"])
    engine = {
        "service_audit_id": draft["audit_id"],
        "draft_id": draft["draft_id"],
        "purpose": purpose,
        "channel": channel,
        "language": draft["language"],
        "warnings": draft.get("warnings", []),
    }
    return Reply(sentences=cited.sentences, citations=cited.citations, links=[link], engine=engine)
