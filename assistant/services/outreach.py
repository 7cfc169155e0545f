"""Patient outreach through the service layer: drafts, their review, patients' replies and template approvals.

Every function checks the caller (``outreach.draft`` to draft, read and record replies, ``outreach.review`` to edit,
approve or reject, ``outreach.templates`` to record a translator's approval), checks the patient against the panel,
and writes its audit row before it returns. Refusals after the chart was read (a missing fact, an opt-out, a PHI
block) are audited too, with the reason and never the identifier that caused them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from assistant.business_days import add_business_days
from assistant.context import AppContext
from assistant.errors import BadRequest, CaretrailError, Conflict
from assistant.guidance.citations import MissingKnowledge, knowledge_span
from assistant.guidance.engine import guidance
from assistant.guidance.facts import gather as gather_guidance
from assistant.outreach import drafts, engine, facts, fhir_output, letters, minimum_phi, optout, readability, sms
from assistant.outreach.languages import ENGLISH
from assistant.outreach.purposes import CHANNELS, PURPOSES
from assistant.outreach.templates import TemplateError, load_template
from assistant.outreach.translation import get_translator
from assistant.services.access import audit, check_patient, open_patient, require
from assistant.services.caller import Caller
from assistant.services.dates import reference_day
from assistant.services.policy import Action

OPT_OUT_DAYS = 10  # business days to honour an opt-out (2024 FCC order); we honour it at once
GATE_SOURCES = (  # the sentences each gate rests on, cited from the indexed knowledge base
    (
        "plain-language",
        "Care teams writing outreach letters and text messages should aim for a 6th grade reading "
        "level, which meets the NIH, AAFP and 6th-to-8th grade recommendations.",
    ),
    ("plain-language", "Every healthcare text message should include an easy way to opt out, such as replying STOP."),
    (
        "sms-outreach-tcpa",
        "A healthcare text message under the TCPA exemption, such as an appointment reminder, must "
        "be 160 characters or fewer.",
    ),
    (
        "language-access",
        "Text messages and letters for patients with limited English proficiency should be written "
        "in the patient's preferred language and in plain language.",
    ),
)
REPLY_SOURCE = (
    "sms-outreach-tcpa",
    "Senders must treat seven words as a TCPA opt-out from texts: stop, quit, end, "
    "revoke, opt out, cancel and unsubscribe.",
)


class Blocked(CaretrailError):
    """The draft carries PHI a patient message must not (an MBI, a date of birth, an address, a full name)."""

    status_code = 422
    exit_code = 1


def _settings(ctx: AppContext) -> facts.Settings:
    return facts.Settings(ctx.settings.outreach_org_name, ctx.settings.outreach_callback_number)


def _refuse(ctx: AppContext, caller: Caller, patient_id: str, what: dict[str, Any], exc: Exception) -> None:
    audit(ctx, caller, "outreach.refused", patient_id, {**what, "reason": str(exc)[:300]})


def _basis(ctx: AppContext, caller: Caller, purpose: str, patient_id: str, day: date) -> dict[str, Any]:
    """What the message is about: the open guidance items of the purpose's rules, or nothing (with a note)."""
    rules = PURPOSES[purpose].guidance_rules
    if not rules:
        return {"items": [], "note": None}
    try:
        found = guidance(
            gather_guidance(ctx.patients, ctx.engine, ctx.roster_cache, patient_id, day), ctx.engine, caller.role
        )
    except MissingKnowledge as exc:  # the message is still drafted; the reviewer is told the basis is unchecked
        return {"items": [], "note": f"whether the message is due was not checked: {exc}"}
    items = [
        {
            "id": i.id,
            "rule": i.rule,
            "action": i.action,
            "due": i.due.isoformat() if i.due else None,
            "status": i.status,
            "evidence": list(i.evidence),
            "citations": list(i.citations),
        }
        for i in found
        if i.rule in rules
    ]
    note = (
        None
        if items
        else (
            f"no open {' or '.join(rules)} guidance item for this patient on {day.isoformat()}: "
            "check that the message is due before approving it"
        )
    )
    return {"items": items, "note": note}


def _approvals(ctx: AppContext, purpose: str, language: str) -> dict[str, dict[str, Any] | None]:
    found: dict[str, dict[str, Any] | None] = {}
    for code in {ENGLISH, language}:
        template = load_template(ctx.settings.prompts_dir / "outreach", purpose, code)
        if template is not None:
            found[template.ref] = drafts.template_approval(ctx.engine, template)
    return found


def _public(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in draft.items() if k != "llm_events"}


def create_draft(
    ctx: AppContext,
    caller: Caller,
    ref: str,
    purpose: str,
    language: str | None = None,
    channel: str = "sms",
    as_of: date | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """A ``needs_review`` draft for one patient: ``caretrail.outreach/1`` with its draft id and audit id."""
    if purpose not in PURPOSES:
        raise BadRequest(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose[:40]!r}")
    if channel not in CHANNELS:
        raise BadRequest(f"channel must be one of {', '.join(CHANNELS)}, not {channel[:20]!r}")
    row = open_patient(ctx, caller, ref, Action.OUTREACH_DRAFT)
    day = reference_day(as_of)
    asked = {"purpose": purpose, "channel": channel, "language": language, "as_of": day.isoformat()}
    stopped = optout.opted_out(ctx.engine, row.id, channel)
    if stopped is not None:
        exc = Conflict(
            f"the patient opted out of {channel} messages on {stopped['received_at'][:10]} (replied "
            f"{stopped['keyword']!r}); no {channel} drafts are made for them"
        )
        _refuse(ctx, caller, row.id, asked, exc)
        raise exc
    try:
        sources = ctx.patients.patient_sources(row.id)
        filled = facts.gather(purpose, ctx.engine, row, sources, day, _settings(ctx), text, caller.user)
        choice = engine.choose_language(row, language)
        conditions = [r.code.display for r in ctx.patients.patient_records(row.id, {"condition"}) if r.code.display]
        draft = engine.build(
            patient=row,
            purpose=purpose,
            channel=channel,
            choice=choice,
            facts=filled,
            templates_dir=ctx.settings.prompts_dir / "outreach",
            translator=get_translator(ctx.llm, ctx.settings.prompts_dir, ctx.settings.outreach_translation_models),
            approvals=_approvals(ctx, purpose, choice.code),
            conditions=conditions,
            as_of=day,
        )
    except (facts.MissingFact, TemplateError, CaretrailError) as exc:
        if getattr(exc, "status_code", 500) in (422, 409):
            _refuse(ctx, caller, row.id, asked, exc)
        raise
    phi = draft["gates"]["minimum_phi"]
    if not phi["passes"]:
        audit(ctx, caller, "outreach.blocked", row.id, {**asked, "blocked": phi["blocked"]})
        raise Blocked(
            "draft blocked by the minimum-necessary PHI check: "
            + "; ".join(f"{b['type']} ({b['reason']})" for b in phi["blocked"])
        )
    language_cite = facts.language_citation(row, sources)
    if language_cite is not None:
        draft["language_citation"] = language_cite
    draft["basis"] = _basis(ctx, caller, purpose, row.id, day)
    if draft["basis"]["note"]:
        draft["warnings"].append(draft["basis"]["note"])
    draft["gate_citations"] = [knowledge_span(ctx.engine, doc, sentence) for doc, sentence in GATE_SOURCES]
    draft["filled_values"] = sorted(
        {str(c["value"]) for c in draft["citations"] if c.get("value")}
        | {str(c["medication"]) for c in (filled["medication_changes"].value if "medication_changes" in filled else [])}
    )
    draft["draft_id"] = draft_id = drafts.new_id()
    draft["audit_id"] = audit(
        ctx,
        caller,
        "outreach.draft",
        row.id,
        {
            **asked,
            "draft_id": draft_id,
            "language": draft["language"],
            "template": draft["template"],
            "translation_source": draft["translation_source"],
            "text": draft["text"],
            "english_text": draft["english_text"],
            "back_translation": draft["back_translation"],
            "gates": draft["gates"],
            "citations": draft["citations"],
            "warnings": draft["warnings"],
            "llm_events": draft["llm_events"],
        },
    )
    public = _public(draft)
    drafts.save(ctx.engine, draft_id, public, caller.user)
    return public


def _open_draft(ctx: AppContext, caller: Caller, draft_id: str, action: Action) -> drafts.OutreachDraftTable:
    require(ctx, caller, action)
    row = drafts.get(ctx.engine, draft_id)
    check_patient(ctx, caller, row.patient_id, action)
    return row


def get_draft(ctx: AppContext, caller: Caller, draft_id: str) -> dict[str, Any]:
    row = _open_draft(ctx, caller, draft_id, Action.OUTREACH_DRAFT)
    shown = drafts.shown(row)
    shown["read_audit_id"] = audit(ctx, caller, "outreach.read", row.patient_id, {"draft_id": row.id})
    return shown


def _regate(ctx: AppContext, row: drafts.OutreachDraftTable, text: str, english_text: str) -> dict[str, Any]:
    """The gates again for an edited draft (the reviewer's words go through the same checks)."""
    patient = ctx.patients.get_patient(row.patient_id)
    stored = dict(row.draft)
    count = sms.count(text)
    reading = readability.assess(english_text, text, row.language)
    conditions = [r.code.display for r in ctx.patients.patient_records(row.patient_id, {"condition"}) if r.code.display]
    phi = minimum_phi.check(
        [text, english_text],
        patient,
        list(stored.get("filled_values", [])),
        channel=row.channel,
        diagnosis_allowed=bool(stored.get("template", {}).get("diagnosis_in_sms", False)),
        conditions=conditions,
    )
    gates = dict(stored["gates"])
    gates["reading_grade"] = {"passes": reading["passes"], "grade": reading["grade"], "gate": readability.GRADE_GATE}
    gates["segments"] = {
        "passes": row.channel != "sms" or count.units <= sms.LIMITS[count.encoding][0],
        "segments": count.segments,
        "encoding": count.encoding,
    }
    gates["minimum_phi"] = phi.to_dict()
    gates["opt_out"] = {**gates["opt_out"], "passes": row.channel != "sms" or "STOP" in text}
    return {
        **stored,
        "text": text,
        "english_text": english_text,
        "reading_grade": reading["grade"],
        "readability": reading,
        "segments": count.segments,
        "encoding": count.encoding,
        "sms": count.to_dict(),
        "gates": gates,
    }


def review(
    ctx: AppContext,
    caller: Caller,
    draft_id: str,
    action: str,
    text: str | None = None,
    english_text: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Edit (the diff is kept and audited), approve (emits the Communication and gateway payload) or reject."""
    if action not in drafts.ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(drafts.ACTIONS)}, not {action[:20]!r}")
    row = _open_draft(ctx, caller, draft_id, Action.OUTREACH_REVIEW)
    if row.review_status != drafts.NEEDS_REVIEW:
        raise Conflict(f"draft {row.id} is already {row.review_status}; make a new draft to change it")
    if action == "edit":
        return _edit(ctx, caller, row, text, english_text)
    if action == "reject":
        if not (reason or "").strip():
            raise BadRequest("rejecting a draft needs a reason")
        audit_id = audit(ctx, caller, "outreach.reject", row.patient_id, {"draft_id": row.id, "reason": reason})
        decided = drafts.decide(ctx.engine, row.id, drafts.REJECTED, caller.user, reason)
        return {**drafts.shown(decided), "audit_id": audit_id}
    return _approve(ctx, caller, row, reason)


def _edit(
    ctx: AppContext, caller: Caller, row: drafts.OutreachDraftTable, text: str | None, english_text: str | None
) -> dict[str, Any]:
    if text is None and english_text is None:
        raise BadRequest("an edit needs the new text or the new english_text")
    new_text = " ".join((text if text is not None else row.text).split())
    new_english = " ".join((english_text if english_text is not None else row.english_text).split())
    if not new_text:
        raise BadRequest("the edited text is empty")
    updated = _regate(ctx, row, new_text, new_english)
    phi = updated["gates"]["minimum_phi"]
    if not phi["passes"]:
        audit(
            ctx,
            caller,
            "outreach.blocked",
            row.patient_id,
            {"draft_id": row.id, "edit": True, "blocked": phi["blocked"]},
        )
        raise Blocked(
            "edit blocked by the minimum-necessary PHI check: "
            + "; ".join(f"{b['type']} ({b['reason']})" for b in phi["blocked"])
        )
    if row.draft.get("back_translation") and text is not None:
        updated["warnings"] = [*updated.get("warnings", []), "the text was edited after its back-translation"]
    changes = []
    for field, before, after in (("text", row.text, new_text), ("english_text", row.english_text, new_english)):
        if before != after:
            changes.append({"field": field, "diff": drafts.diff(before, after, field)})
    if not changes:
        raise BadRequest("the edit changes nothing")
    audit_id = audit(
        ctx,
        caller,
        "outreach.edit",
        row.patient_id,
        {"draft_id": row.id, "changes": changes, "gates": updated["gates"]},
    )
    for change in changes:
        drafts.edit(
            ctx.engine,
            row.id,
            change["field"],
            new_text if change["field"] == "text" else new_english,
            updated,
            caller.user,
            audit_id,
        )
    return {**drafts.shown(drafts.get(ctx.engine, row.id)), "audit_id": audit_id}


def _approve(ctx: AppContext, caller: Caller, row: drafts.OutreachDraftTable, reason: str | None) -> dict[str, Any]:
    stopped = optout.opted_out(ctx.engine, row.patient_id, row.channel)
    if stopped is not None:
        exc = Conflict(
            f"the patient opted out of {row.channel} messages on {stopped['received_at'][:10]}; this draft "
            "cannot be approved"
        )
        _refuse(ctx, caller, row.patient_id, {"draft_id": row.id, "action": "approve"}, exc)
        raise exc
    gates = row.draft["gates"]
    if not gates["minimum_phi"]["passes"] or not gates["opt_out"]["passes"]:
        raise Conflict("a draft that fails the PHI or opt-out gate cannot be approved; edit it first")
    machine = gates.get("translation")
    if machine is not None and not machine["passes"] and not row.edits:
        raise Conflict(
            "the machine translation is untranslated English or dropped the sender, callback number or "
            "first name; edit it (a qualified translator's text) before approving"
        )
    patient = ctx.patients.get_patient(row.patient_id)
    now = datetime.now(UTC)
    shown = {
        **drafts.shown(row),
        "reviewed_by": caller.user,
        "reviewed_at": now.isoformat(),
        "review_status": drafts.APPROVED,
    }
    communication = fhir_output.communication(shown, ctx.settings.outreach_org_name or "")
    payload = fhir_output.gateway_payload(shown, patient, communication["id"])
    audit_id = audit(
        ctx,
        caller,
        "outreach.approve",
        row.patient_id,
        {
            "draft_id": row.id,
            "reason": reason,
            "text": row.text,
            "communication": communication,
            "gateway_payload": {k: v for k, v in payload.items() if k != "recipient"},
        },
    )
    decided = drafts.decide(ctx.engine, row.id, drafts.APPROVED, caller.user, reason)
    return {**drafts.shown(decided), "communication": communication, "gateway_payload": payload, "audit_id": audit_id}


def record_reply(
    ctx: AppContext, caller: Caller, ref: str, text: str, channel: str = "sms", received_at: datetime | None = None
) -> dict[str, Any]:
    """A patient's reply (from the gateway): an opt-out is recorded at once and honoured by every later draft."""
    if channel not in CHANNELS:
        raise BadRequest(f"channel must be one of {', '.join(CHANNELS)}, not {channel[:20]!r}")
    if not text.strip():
        raise BadRequest("the reply text is empty")
    row = open_patient(ctx, caller, ref, Action.OUTREACH_DRAFT)
    found = optout.recognize(text)
    when = received_at or datetime.now(UTC)
    result: dict[str, Any] = {
        "schema": "caretrail.outreach_reply/1",
        "patient_id": row.id,
        "channel": channel,
        "opt_out": found is not None,
        "keyword": found.keyword if found else None,
        "whole_reply": found.whole_reply if found else None,
        "fcc_keyword": found.fcc_keyword if found else None,
        "received_at": when.isoformat(),
    }
    if found is not None:
        result["honour_by"] = add_business_days(when.date(), OPT_OUT_DAYS).isoformat()
        result["citation"] = knowledge_span(ctx.engine, *REPLY_SOURCE)
    result["audit_id"] = audit(ctx, caller, "outreach.reply", row.id, {**result, "reply": text[:500]})
    if found is not None:
        optout.record(ctx.engine, row.id, channel, found, text[:2000], caller.user, result["audit_id"], when)
    return result


def approve_template(ctx: AppContext, caller: Caller, purpose: str, language: str, by: str) -> dict[str, Any]:
    """Record that a qualified translator (or, for English, a plain-language reviewer) approved a template file."""
    require(ctx, caller, Action.OUTREACH_TEMPLATES)
    if not by.strip():
        raise BadRequest("name who approved the template (--by)")
    template = load_template(ctx.settings.prompts_dir / "outreach", purpose, language)
    if template is None:
        raise BadRequest(f"no template prompts/outreach/{purpose}/{language}.md")
    if drafts.template_approval(ctx.engine, template) is not None:
        raise Conflict(f"{template.ref} (sha256 {template.sha256[:12]}) is already approved")
    audit_id = audit(ctx, caller, "outreach.template_approval", None, {**template.describe(), "approved_by": by})
    drafts.approve_template(ctx.engine, template, by, caller.user, audit_id)
    return {"template": template.describe(), "approved_by": by, "audit_id": audit_id}


def list_templates(ctx: AppContext, caller: Caller) -> list[dict[str, Any]]:
    require(ctx, caller, Action.OUTREACH_DRAFT)
    from assistant.outreach.templates import all_templates

    return [
        {**t.describe(), "approval": drafts.template_approval(ctx.engine, t)}
        for t in all_templates(ctx.settings.prompts_dir / "outreach")
    ]


def letter_pdf(ctx: AppContext, caller: Caller, draft_id: str) -> tuple[bytes, str]:
    """The draft as a letter in the patient's script (any review status; the PDF says nothing about review)."""
    row = _open_draft(ctx, caller, draft_id, Action.OUTREACH_DRAFT)
    pdf = letters.render_pdf(
        row.text,
        row.language,
        ctx.settings.outreach_org_name or "",
        ctx.settings.outreach_callback_number or "",
        row.created_at.date(),
    )
    audit_id = audit(
        ctx,
        caller,
        "outreach.letter",
        row.patient_id,
        {"draft_id": row.id, "bytes": len(pdf), "review_status": row.review_status},
    )
    return pdf, audit_id
