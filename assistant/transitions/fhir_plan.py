"""A checklist as FHIR R4: a Bundle with the Patient, one CarePlan for the checklist and one Task per item, and the
reader that turns such a Bundle back into the checklist's items.

Mapping of an item to a Task: ``identifier`` the item id; ``status`` from the item's status (open, overdue ->
requested; needs_input -> on-hold; done, late, present -> completed; waived, not_applicable -> cancelled; missing ->
requested) with the exact status in ``businessStatus``; ``code`` the category; ``description`` the text; ``owner``
the role (an identifier in ``urn:caretrail:role``); the due date as ``restriction.period.end``; the evidence as
``note``; ``required`` and each citation (as JSON) as ``input``. The CarePlan lists the Tasks as activities and
carries the episode id, the kind and the audit id of the read. Every resource validates with ``fhir.resources``
(R4B models, which match R4 for these types).

The Patient carries the identifiers a receiving system matches on (MBI, MRNs with their assigner, Medicaid id;
never an SSN) so the Bundle reads back through ``connectors.fhir`` to the same patient. That connector maps no
CarePlan or Task into records, so ``read_bundle`` here reads the items back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from assistant.records.store import PatientRow

ITEM_SYSTEM = "urn:caretrail:checklist-item"
STATUS_SYSTEM = "urn:caretrail:item-status"
CATEGORY_SYSTEM = "urn:caretrail:item-category"
ROLE_SYSTEM = "urn:caretrail:role"
EPISODE_SYSTEM = "urn:caretrail:transition-episode"
AUDIT_SYSTEM = "urn:caretrail:audit"
KIND_SYSTEM = "urn:caretrail:checklist-kind"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
TASK_STATUS = {"open": "requested", "overdue": "requested", "needs_input": "on-hold", "done": "completed",
               "late": "completed", "waived": "cancelled", "not_applicable": "cancelled", "present": "completed",
               "missing": "requested"}  # fmt: skip
CAREPLAN_STATUS = {"open": "active", "closed": "completed", "cancelled": "revoked"}


def _id(*parts: str) -> str:
    """A FHIR id (at most 64 characters of [A-Za-z0-9-.]) that is the same for the same checklist and item."""
    return "ct-" + hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def _identifiers(patient: PatientRow | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in patient.identifiers if patient else ():
        parts = key.split("|")
        if parts[0] == "mbi" and len(parts) == 2:
            found.append({"system": MBI_SYSTEM, "value": parts[1]})
        elif parts[0] == "mrn" and len(parts) == 3:
            found.append({"system": parts[1], "value": parts[2],
                          "type": {"coding": [{"system": V2_0203, "code": "MR"}]}})  # fmt: skip
        elif parts[0] == "medicaid" and len(parts) == 2:
            found.append({"value": parts[1], "type": {"coding": [{"system": V2_0203, "code": "MA"}]}})
    return found


def _task(result: dict[str, Any], item: dict[str, Any], patient_ref: str, plan_ref: str) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task", "id": _id(result.get("episode_id") or result["patient_id"], result["kind"], item["id"]),
        "identifier": [{"system": ITEM_SYSTEM, "value": item["id"]}],
        "basedOn": [{"reference": plan_ref}], "status": TASK_STATUS.get(item["status"], "requested"),
        "businessStatus": {"coding": [{"system": STATUS_SYSTEM, "code": item["status"]}], "text": item["status"]},
        "intent": "plan", "code": {"coding": [{"system": CATEGORY_SYSTEM, "code": item["category"]}],
                                   "text": item["category"]},
        "description": item["text"], "for": {"reference": patient_ref},
        "owner": {"identifier": {"system": ROLE_SYSTEM, "value": item["owner_role"]},
                  "display": item["owner_role"].replace("_", " ")},
        "input": [{"type": {"text": "required"}, "valueBoolean": bool(item["required"])}]
        + [{"type": {"text": "citation"}, "valueString": json.dumps(c, sort_keys=True)} for c in item["citations"]],
    }  # fmt: skip
    if result.get("as_of"):
        task["authoredOn"] = result["as_of"]
    if item["due"]:
        task["restriction"] = {"period": {"end": item["due"]}}
    if item["evidence"]:
        task["note"] = [{"text": line} for line in item["evidence"]]
    if item["status"] in ("waived", "not_applicable", "needs_input") and item["evidence"]:
        task["statusReason"] = {"text": item["evidence"][-1]}
    return task


def to_bundle(result: dict[str, Any], patient: PatientRow | None = None) -> dict[str, Any]:
    patient_id = result["patient_id"]
    patient_ref = f"Patient/{patient_id}"
    plan_id = _id(result.get("episode_id") or patient_id, result["kind"], "careplan")
    plan_ref = f"CarePlan/{plan_id}"
    tasks = [_task(result, item, patient_ref, plan_ref) for item in result["items"]]
    person: dict[str, Any] = {"resourceType": "Patient", "id": patient_id, "identifier": _identifiers(patient)}
    if patient is not None and (patient.family or patient.given):
        person["name"] = [{k: v for k, v in (("family", patient.family), ("given", list(patient.given))) if v}]
    state = result.get("episode_status") or ("closed" if result.get("complete") else "open")
    identifiers = [{"system": KIND_SYSTEM, "value": result["kind"]}]
    if result.get("episode_id"):
        identifiers.append({"system": EPISODE_SYSTEM, "value": result["episode_id"]})
    if result.get("audit_id"):
        identifiers.append({"system": AUDIT_SYSTEM, "value": result["audit_id"]})
    plan: dict[str, Any] = {
        "resourceType": "CarePlan", "id": plan_id, "identifier": identifiers,
        "status": CAREPLAN_STATUS.get(state, "active"), "intent": "plan",
        "category": [{"text": "transition of care" if result["kind"] == "transition" else "documentation"}],
        "title": f"{result['kind'].replace('_', ' ')} checklist", "subject": {"reference": patient_ref},
        "activity": [{"reference": {"reference": f"Task/{t['id']}"}} for t in tasks],
    }  # fmt: skip
    if result.get("discharge_date"):
        plan["period"] = {"start": result["discharge_date"]}
        plan["description"] = f"After the discharge of {result['discharge_date']}"
    entries = [person, plan, *tasks]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{_uuid(r)}", "resource": r} for r in entries]}  # fmt: skip
    Bundle.model_validate(bundle)  # a Bundle that does not validate is a bug here, never sent
    return bundle


def _uuid(resource: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{resource['resourceType']}/{resource['id']}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def read_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """The checklist a Bundle written by ``to_bundle`` holds: patient, kind, episode and the items in plan order."""
    parsed = Bundle.model_validate(bundle)
    resources = [entry.resource for entry in parsed.entry or []]
    plan = next(r for r in resources if r.get_resource_type() == "CarePlan")
    tasks = {f"Task/{r.id}": r for r in resources if r.get_resource_type() == "Task"}
    systems = {i.system: i.value for i in plan.identifier or []}
    items = []
    for activity in plan.activity or []:
        task = tasks[activity.reference.reference]
        inputs = task.input or []
        status = task.businessStatus.coding[0].code if task.businessStatus else task.status
        period = task.restriction.period if task.restriction else None
        due = period.end if period is not None else None
        items.append({
            "id": next(i.value for i in task.identifier if i.system == ITEM_SYSTEM),
            "category": task.code.coding[0].code, "text": task.description,
            "due": due.isoformat() if hasattr(due, "isoformat") else due, "owner_role": task.owner.identifier.value,
            "required": next(bool(i.valueBoolean) for i in inputs if i.type.text == "required"), "status": status,
            "evidence": [note.text for note in task.note or []],
            "citations": [json.loads(i.valueString) for i in inputs if i.type.text == "citation"],
        })  # fmt: skip
    return {
        "patient_id": plan.subject.reference.split("/", 1)[1],
        "kind": systems.get(KIND_SYSTEM),
        "episode_id": systems.get(EPISODE_SYSTEM),
        "audit_id": systems.get(AUDIT_SYSTEM),
        "items": items,
    }
