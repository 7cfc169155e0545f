"""What an approved draft becomes: a FHIR R4 Communication, and a JSON payload for an SMS, mail or portal gateway.

No gateway is called. The Communication's status is ``preparation`` (approved, not yet sent): the gateway that sends
it owns ``completed`` and ``sent``. Both carry the minimum the sender needs: the text, the language, the channel, the
patient's internal reference, and for a text message the phone number it goes to (the TCPA healthcare exemption
allows only the number the patient gave) and the hours it may go in (8am to 9pm, the recipient's local time).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.communication import Communication

from assistant.outreach.purposes import PURPOSES
from assistant.records.store import PatientRow

PAYLOAD_SCHEMA = "caretrail.outreach_message/1"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/communication-category"
MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
MEDIUM = {
    "sms": ("WRITTEN", "written", "SMS text message"),
    "letter": ("MAILWRIT", "mail", "printed letter"),
    "portal": ("ONLINEWRIT", "online written", "patient portal message"),
}
IDENTIFIER_SYSTEM = "urn:caretrail:outreach-draft"


def communication(draft: dict[str, Any], org_name: str) -> dict[str, Any]:
    """A Communication that ``fhir.resources`` (R4B, the same as R4 for this resource) parses."""
    code, display, text = MEDIUM[draft["channel"]]
    reference = f"Patient/{draft['patient_id']}"
    resource = {
        "resourceType": "Communication", "id": draft["draft_id"].replace("_", "-"),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": draft["draft_id"]}],
        "status": "preparation",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": PURPOSES[draft["purpose"]].category}],
                      "text": draft["purpose"]}],
        "medium": [{"coding": [{"system": MODE_SYSTEM, "code": code, "display": display}], "text": text}],
        "subject": {"reference": reference}, "recipient": [{"reference": reference}],
        "sender": {"display": org_name},
        "topic": {"text": PURPOSES[draft["purpose"]].about},
        "payload": [{"contentString": draft["text"]}],
        "note": [{"text": f"Language {draft['language']} ({draft['direction']}); translation "
                          f"{draft['translation_source']}; template {draft['template']['purpose']}/"
                          f"{draft['template']['language']} v{draft['template_version']}; approved by "
                          f"{draft['reviewed_by']} at {draft['reviewed_at']}"}],
    }  # fmt: skip
    Communication.model_validate(resource)  # raises if we ever emit something FHIR does not accept
    return resource


def gateway_payload(draft: dict[str, Any], patient: PatientRow, communication_id: str) -> dict[str, Any]:
    recipient: dict[str, Any] = {"patient_id": draft["patient_id"]}
    if draft["channel"] == "sms":
        recipient["phone"] = patient.phone
    elif draft["channel"] == "letter":
        recipient["mailing_address"] = patient.address
    return {
        "schema": PAYLOAD_SCHEMA, "draft_id": draft["draft_id"], "communication_id": communication_id,
        "channel": draft["channel"], "recipient": recipient, "language": draft["language"],
        "direction": draft["direction"], "text": draft["text"], "encoding": draft["encoding"],
        "segments": draft["segments"], "opt_out_keyword": "STOP" if draft["channel"] == "sms" else None,
        "send_window": "08:00-21:00 recipient local time" if draft["channel"] == "sms" else None,
        "approved_by": draft["reviewed_by"], "approved_at": draft["reviewed_at"],
        "gateway_called": False,
    }  # fmt: skip
