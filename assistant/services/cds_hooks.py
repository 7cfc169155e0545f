"""CDS Hooks 2.0 services: discovery, the patient-view and encounter-discharge services, and feedback.

Who is calling: an EHR whose signed JWT verified (``assistant/ehr/hook_jwt.py``) acts for its user in the hook's
``context.userId``, who must be a Caretrail user with a role (``assistant/ehr/trust.py``); or one of our API keys,
which acts as its own user. Then as everywhere: ``patient.read`` for the role, the records in (only those the
caller may see, ``services/ehr_records.py``), the panel check, and an audit row before anything is returned.

- ``caretrail-guidance`` (patient-view): the top guidance items the user's role owns, one card each.
- ``caretrail-discharge`` (encounter-discharge): the transition checklist of that encounter's discharge as one
  card whose suggestions create the open items' FHIR Tasks. An encounter with no discharge in the records gives
  no card (``{"cards": []}``), never another stay's checklist.
- Feedback: each entry names a card this service returned; it is checked against the card's patient, stored and
  audited, and accepting a guidance card's step (or overriding it with a reason) is recorded on the guidance item
  as ``accepted`` (or ``dismissed`` with that reason), as the side panel would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from assistant.audit.log import audit_log_for
from assistant.context import AppContext
from assistant.ehr import cards as card_builder
from assistant.ehr.hook_jwt import HookClient
from assistant.ehr.prefetch import ENCOUNTER_DISCHARGE, PATIENT_VIEW, gather
from assistant.ehr.tables import CdsCardTable, CdsFeedbackTable
from assistant.ehr.trust import (
    FHIR_ID,
    base,
    caretrail_user,
    check_url,
    relative_reference,
    role_of,
    system_for_fhir_server,
)
from assistant.errors import BadRequest, NotFound, PermissionDenied
from assistant.services import guidance as guidance_service
from assistant.services import transitions as transitions_service
from assistant.services.access import audit, check_patient, require
from assistant.services.caller import Caller
from assistant.services.ehr_records import bring_in
from assistant.services.policy import Action
from assistant.settings import EhrSystem
from assistant.transitions import fhir_plan

API_KEY_SOURCE = "api"  # the records file of a call made with an API key rather than by a trusted EHR


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]
    context: tuple[str, ...]  # context fields the call needs


SERVICES = {
    "caretrail-guidance": Service(
        "caretrail-guidance",
        "patient-view",
        "Caretrail next steps",
        "The top next steps for the user's role on this patient (care gaps, transitions, follow-up), each cited "
        "to the protocol sentence it rests on.",
        PATIENT_VIEW,
        ("patientId",),
    ),
    "caretrail-discharge": Service(
        "caretrail-discharge",
        "encounter-discharge",
        "Caretrail transition checklist",
        "The transition-of-care checklist for this discharge, with a suggestion per open item that creates its "
        "FHIR Task.",
        ENCOUNTER_DISCHARGE,
        ("patientId", "encounterId"),
    ),
}


@dataclass(frozen=True)
class HookCredential:
    """Who sent a hook call or feedback: a verified EHR (``client``) or one of our API keys (``caller``)."""

    client: HookClient | None = None
    caller: Caller | None = None
    address: str | None = None


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {"hook": s.hook, "title": s.title, "description": s.description, "id": s.id, "prefetch": dict(s.prefetch)}
            for s in SERVICES.values()
        ]
    }


def _service(service_id: str) -> Service:
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service {service_id[:80]!r}; GET /cds-services lists them")
    return service


def _ehr_caller(
    ctx: AppContext, client: HookClient, user_id: Any, user_resource: dict[str, Any] | None, address: str | None
) -> Caller:
    """The Caretrail user and role the EHR's user is; refused (and audited) when the settings do not say."""
    system = client.system
    reference = relative_reference(user_id, system) if isinstance(user_id, str) else None
    user = caretrail_user(ctx.engine, system, reference, user_resource) if reference else None
    role = role_of(system, user) if user else None
    if user is None or role is None:
        shown = str(user_id)[:80]
        reason = (
            f"the {system.name} user {shown!r} is not a Caretrail user with a role: map it in "
            "CARETRAIL_EHR_SYSTEMS (users, roles) or link the user's NPI"
        )
        audit_log_for(ctx).append(
            "access.denied",
            f"ehr:{system.name}:{shown}",
            None,
            None,
            {
                "action": str(Action.READ_PATIENT),
                "reason": reason,
                "caller": {"auth": "ehr", "credential": system.name, "client": address, "token": client.audit_fields()},
            },
        )
        raise PermissionDenied(reason)
    return Caller(user=user, role=role, auth="ehr", credential=f"cds-hooks:{system.name}", client=address)


def _system_for_call(ctx: AppContext, credential: HookCredential, server: str | None) -> EhrSystem | None:
    """The EHR whose FHIR server the call names (it must be the calling EHR's own, or for an API key a trusted
    one); the server is checked before any request goes there."""
    if server is None:
        return credential.client.system if credential.client else None
    check_url(server, ctx.settings, "fhirServer")
    if credential.client is not None:
        if base(server) != base(credential.client.system.fhir_base_url):
            raise BadRequest("fhirServer is not the FHIR server configured for this EHR")
        return credential.client.system
    system = system_for_fhir_server(ctx.settings, server)
    if system is None:
        raise BadRequest("fhirServer is not the FHIR server of a trusted EHR (CARETRAIL_EHR_SYSTEMS)")
    return system


def call(
    ctx: AppContext, credential: HookCredential, service_id: str, request: dict[str, Any], public: str
) -> dict[str, Any]:
    """``{"cards": [...]}`` for one hook call; ``request`` is the CDS Hooks request body."""
    service = _service(service_id)
    if request.get("hook") != service.hook:
        raise BadRequest(f"{service.id} answers the {service.hook} hook, not {str(request.get('hook'))[:40]!r}")
    context = request.get("context") or {}
    for name in service.context:
        if not isinstance(context.get(name), str) or not FHIR_ID.match(context[name]):
            raise BadRequest(f"context.{name} must be a FHIR id")
    if credential.client is not None and not isinstance(context.get("userId"), str):
        raise BadRequest("context.userId is required: it names the EHR's user")
    server = request.get("fhirServer")
    authorization = request.get("fhirAuthorization") or {}
    if authorization and not server:
        raise BadRequest("fhirAuthorization needs fhirServer")
    system = _system_for_call(ctx, credential, server)
    token = authorization.get("access_token") if server else None
    caller = credential.caller
    client = credential.client
    if client is not None and relative_reference(context["userId"], client.system) in client.system.users:
        caller = _ehr_caller(ctx, client, context["userId"], None, credential.address)
    if caller is not None:  # refused before anything is fetched when who is asking is already known
        require(ctx, caller, Action.READ_PATIENT)
    data = gather(service.prefetch, context, request.get("prefetch"), server, token)
    if caller is None:  # a user known by the NPI on their own resource, which the EHR sent or let us fetch
        assert client is not None
        caller = _ehr_caller(ctx, client, context.get("userId"), data.user, credential.address)
        require(ctx, caller, Action.READ_PATIENT)
    ehr = system.name if system else API_KEY_SOURCE
    brought = bring_in(ctx, caller, ehr, context["patientId"], data)
    today = date.today()
    built = _cards(ctx, caller, service, brought.patient.id, context, today, public, brought)
    payload = {
        "service": service.id,
        "hook": service.hook,
        "hook_instance": str(request.get("hookInstance"))[:200],
        "ehr": ehr,
        "ehr_patient": context["patientId"],
        "user_id": context.get("userId"),
        "data": data.sources,
        "fhir_requests": data.requests,
        "dropped_resources": data.dropped,
        "records_ingested": brought.stored.ingested,
        "document_id": brought.stored.document_id,
        "cards": [[b.card["uuid"], b.kind, b.item_id] for b in built],
    }
    if credential.client is not None:
        payload["token"] = credential.client.audit_fields()
    audit_id = audit(ctx, caller, "cds_hooks.call", brought.patient.id, payload)
    _remember(ctx, built, service, request, ehr if credential.client else None, caller, brought.patient.id, audit_id)
    return {"cards": [b.card for b in built]}


def _cards(
    ctx: AppContext,
    caller: Caller,
    service: Service,
    patient_id: str,
    context: dict[str, Any],
    today: date,
    public: str,
    brought: Any,
) -> list[card_builder.Built]:
    if service.hook == "patient-view":
        result = guidance_service.patient_guidance(ctx, caller, patient_id, as_of=today)
        mine = [i for i in result["items"] if i["owner_role"] == caller.role and i["status"] in ("open", "accepted")]
        top = mine[: ctx.settings.cds_max_cards]
        return [card_builder.guidance_card(item, today, public, context["patientId"]) for item in top]
    try:
        result = transitions_service.checklist(ctx, caller, patient_id, encounter=context["encounterId"], as_of=today)
    except NotFound:
        return []
    bundle = fhir_plan.to_bundle(result, brought.patient)
    return [
        card_builder.checklist_card(result, bundle, today, public, context["patientId"], context.get("encounterId"))
    ]


def _remember(
    ctx: AppContext,
    built: list[card_builder.Built],
    service: Service,
    request: dict[str, Any],
    ehr: str | None,
    caller: Caller,
    patient_id: str,
    audit_id: str,
) -> None:
    now = datetime.now(UTC)
    with Session(ctx.engine) as session, session.begin():
        for b in built:
            session.add(
                CdsCardTable(
                    card_uuid=b.card["uuid"],
                    service_id=service.id,
                    hook_instance=str(request.get("hookInstance"))[:200],
                    ehr=ehr,
                    user_id=caller.user,
                    role=caller.role,
                    patient_id=patient_id,
                    kind=b.kind,
                    item_id=b.item_id,
                    suggestions=b.suggestions,
                    audit_id=audit_id,
                    created_at=now,
                )
            )


def _override_text(reason: dict[str, Any] | None) -> str | None:
    if not reason:
        return None
    coding = reason.get("reason") or {}
    parts = [
        str(coding.get("display") or coding.get("code") or "").strip(),
        str(reason.get("userComment") or "").strip(),
    ]
    text = ": ".join(p for p in parts if p)
    return text[:1000] or None


def feedback(ctx: AppContext, credential: HookCredential, service_id: str, entries: list[dict[str, Any]]) -> dict:
    """Record each entry (a card accepted or overridden) and apply it to the guidance item it was about."""
    service = _service(service_id)
    if not entries:
        raise BadRequest("feedback must list at least one entry")
    if credential.caller is not None:
        require(ctx, credential.caller, Action.READ_PATIENT)
    results = []
    for index, entry in enumerate(entries):
        with Session(ctx.engine) as session:
            card = session.get(CdsCardTable, str(entry.get("card") or ""))
        if card is None or card.service_id != service.id:
            raise NotFound(f"feedback[{index}]: {service.id} returned no card {str(entry.get('card'))[:40]!r}")
        caller = _feedback_caller(ctx, credential, card)
        check_patient(ctx, caller, card.patient_id, Action.READ_PATIENT)
        results.append(_one_feedback(ctx, caller, card, entry, index))
    return {"feedback": results}


def _feedback_caller(ctx: AppContext, credential: HookCredential, card: CdsCardTable) -> Caller:
    """An EHR reports what its user did with a card it was given: it acts as that user. A key acts as itself."""
    if credential.caller is not None:
        return credential.caller
    assert credential.client is not None
    system = credential.client.system
    if card.ehr != system.name:
        raise PermissionDenied("this card was not returned to this EHR")
    return Caller(
        user=card.user_id, role=card.role, auth="ehr", credential=f"cds-hooks:{system.name}", client=credential.address
    )


def _one_feedback(ctx: AppContext, caller: Caller, card: CdsCardTable, entry: dict[str, Any], index: int) -> dict:
    outcome = entry.get("outcome")
    accepted = [str(s.get("id")) for s in entry.get("acceptedSuggestions") or [] if isinstance(s, dict)]
    if outcome not in ("accepted", "overridden"):
        raise BadRequest(f"feedback[{index}].outcome must be accepted or overridden")
    if outcome == "accepted" and not accepted:
        raise BadRequest(f"feedback[{index}]: an accepted outcome lists acceptedSuggestions")
    unknown = [s for s in accepted if s not in card.suggestions]
    if unknown:
        raise BadRequest(f"feedback[{index}]: card {card.card_uuid} has no suggestion {unknown[0][:40]!r}")
    reason = entry.get("overrideReason") if isinstance(entry.get("overrideReason"), dict) else None
    timestamp = str(entry.get("outcomeTimestamp") or "")[:40]
    if not timestamp:
        raise BadRequest(f"feedback[{index}].outcomeTimestamp is required")
    audit_id = audit(
        ctx,
        caller,
        "cds_hooks.feedback",
        card.patient_id,
        {
            "card": card.card_uuid,
            "service": card.service_id,
            "kind": card.kind,
            "item_id": card.item_id,
            "outcome": outcome,
            "accepted_suggestions": [card.suggestions[s] for s in accepted],
            "override_reason": reason,
            "outcome_timestamp": timestamp,
            "card_audit_id": card.audit_id,
        },
    )
    with Session(ctx.engine) as session, session.begin():
        session.add(
            CdsFeedbackTable(
                id=str(uuid.uuid4()),
                card_uuid=card.card_uuid,
                outcome=outcome,
                accepted_suggestions=accepted,
                override_reason=reason,
                outcome_timestamp=timestamp,
                user_id=caller.user,
                audit_id=audit_id,
                received_at=datetime.now(UTC),
            )
        )
    applied = None
    if card.kind == "guidance" and card.item_id:
        status, text = ("accepted", None) if outcome == "accepted" else ("dismissed", _override_text(reason))
        if status == "accepted" or text:
            try:
                guidance_service.decide(ctx, caller, card.item_id, card.patient_id, status, text)
                applied = f"guidance item {status}"
            except NotFound:
                applied = "the guidance item is no longer open"
    return {"card": card.card_uuid, "outcome": outcome, "audit_id": audit_id, "applied": applied}
