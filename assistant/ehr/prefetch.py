"""The FHIR data a CDS service needs: the prefetch templates it advertises, and the same queries run against the
EHR's FHIR server when the EHR did not prefetch them.

Each template is a FHIR read or search with ``{{context.X}}`` tokens (CDS Hooks 2.0, "Prefetch Template"). For
each key the request's ``prefetch`` either holds the result (a resource, a searchset Bundle, or null for "no
data"), or leaves the key out; then, when the request carries ``fhirServer`` and ``fhirAuthorization``, the
query is run there with httpx and the bearer token the EHR issued for this call, and the token goes nowhere
else: the server must be the trusted EHR's own FHIR base URL (https), redirects are not followed, and a
search's ``next`` pages are followed only on that same base URL. A query that cannot be answered either way
makes the call fail with 412, as the specification says, rather than compute guidance on partial records.

Resources about another patient than the one in context are dropped (counted for the audit): a chart is built
only from what belongs to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from assistant.errors import BadRequest, CaretrailError

TIMEOUT_SECONDS = 10.0
MAX_PAGES = 10
MAX_RESOURCES = 5000
PATIENT_LINKS = ("subject", "patient", "beneficiary", "for")
LOOKUPS = {"Practitioner", "PractitionerRole", "Organization", "Location", "Medication", "Device"}
TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")

# What guidance and the transition checklist read: the patient with their primary care practitioner (whose NPI
# puts the patient on that practitioner's panel), the user (only to know who they are: it is not stored with the
# chart, so the same chart gives the same records whoever opens it), the recent stays, the problem list,
# observations (blood pressure, HbA1c, weights) and medication orders.
PATIENT_VIEW = {
    "patient": "Patient?_id={{context.patientId}}&_include=Patient:general-practitioner",
    "user": "{{context.userId}}",
    "encounters": "Encounter?patient={{context.patientId}}&_sort=-date&_count=50",
    "conditions": "Condition?patient={{context.patientId}}&_count=100",
    "observations": "Observation?patient={{context.patientId}}&_sort=-date&_count=200",
    "medications": "MedicationRequest?patient={{context.patientId}}&_sort=-authoredon&_count=100",
}
ENCOUNTER_DISCHARGE = {**PATIENT_VIEW, "encounter": "Encounter/{{context.encounterId}}"}
OPTIONAL_KEYS = {"user"}  # only used to know who the user is; its absence never stops a call


class PreconditionFailed(CaretrailError):
    """The data a service needs was neither prefetched nor fetchable (CDS Hooks: 412)."""

    status_code = 412
    exit_code = 2


@dataclass
class EhrData:
    resources: list[dict[str, Any]] = field(default_factory=list)
    user: dict[str, Any] | None = None  # the user's own resource (Practitioner), if the EHR gave it
    sources: dict[str, str] = field(default_factory=dict)  # key -> "prefetch" | "fetched" | "null" | "absent"
    requests: int = 0  # requests made to the FHIR server
    dropped: int = 0  # resources about another patient


def fill(template: str, context: Mapping[str, Any]) -> str | None:
    """The template with its context tokens replaced; None when the context lacks one (the query does not apply)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        raw = context.get(match.group(1))
        if not isinstance(raw, str) or not raw:
            missing = True
            return ""
        return quote(raw, safe="/")

    filled = TOKEN.sub(value, template)
    return None if missing else filled


def _resources(value: Any, key: str) -> list[dict[str, Any]]:
    """The resources in one prefetch value or one FHIR response: a resource, or the entries of a Bundle."""
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise BadRequest(f"prefetch[{key!r}] is not a FHIR resource or Bundle")
    if value["resourceType"] != "Bundle":
        return [value]
    found = []
    for index, entry in enumerate(value.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise BadRequest(f"prefetch[{key!r}].entry[{index}] has no resource")
        if resource["resourceType"] != "OperationOutcome":
            found.append(resource)
    return found


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _fetch(client: httpx.Client, server: str, query: str, key: str, data: EhrData) -> list[dict[str, Any]]:
    url: str | None = f"{server.rstrip('/')}/{query}"
    found: list[dict[str, Any]] = []
    pages = 0
    while url and pages < MAX_PAGES and len(found) < MAX_RESOURCES:
        data.requests += 1
        pages += 1
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise PreconditionFailed(f"{key}: the FHIR server did not answer ({type(exc).__name__})") from None
        if response.status_code == 404 and "?" not in query:
            return []  # a read of something that is not there: no data, as a prefetch of null would say
        if response.status_code != 200:
            raise PreconditionFailed(f"{key}: the FHIR server answered {response.status_code} to {query[:80]}")
        try:
            body = response.json()
        except ValueError:
            raise PreconditionFailed(f"{key}: the FHIR server did not answer with JSON") from None
        found += _resources(body, key)
        following = _next_link(body) if body.get("resourceType") == "Bundle" else None
        url = following if following and following.startswith(server.rstrip("/") + "/") else None
    return found


def _about(resource: dict[str, Any], patient_id: str) -> bool | None:
    """True/False when the resource names its patient (this one or another); None when it names none."""
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id")) == patient_id
    for name in PATIENT_LINKS:
        link = resource.get(name)
        reference = link.get("reference") if isinstance(link, dict) else None
        if isinstance(reference, str) and "Patient/" in reference:
            return reference.rsplit("Patient/", 1)[1] == patient_id
    return None


def gather(
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any] | None,
    server: str | None,
    access_token: str | None,
) -> EhrData:
    """Every template's resources, from the prefetch or from the FHIR server (``server`` already checked to be the
    trusted EHR's). Raises PreconditionFailed when a needed query has neither, BadRequest for malformed input."""
    patient_id = str(context.get("patientId") or "")
    data = EhrData()
    prefetch = prefetch or {}
    collected: dict[str, list[dict[str, Any]]] = {}
    client = None
    try:
        for key, template in templates.items():
            query = fill(template, context)
            if query is None:
                data.sources[key] = "absent"
                continue
            if key in OPTIONAL_KEYS and key in prefetch and not isinstance(prefetch[key], dict | None):
                data.sources[key] = "ignored"  # e.g. the specification's example sends the user as a bare id
            elif key in prefetch:
                value = prefetch[key]
                data.sources[key] = "null" if value is None else "prefetch"
                collected[key] = [] if value is None else _resources(value, key)
            elif server and access_token:
                if client is None:
                    client = httpx.Client(
                        timeout=TIMEOUT_SECONDS,
                        follow_redirects=False,
                        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"},
                    )
                try:
                    collected[key] = _fetch(client, server, query, key, data)
                    data.sources[key] = "fetched"
                except PreconditionFailed:
                    if key not in OPTIONAL_KEYS:
                        raise
                    data.sources[key] = "failed"
            elif key in OPTIONAL_KEYS:
                data.sources[key] = "absent"
            else:
                raise PreconditionFailed(
                    f"{key} was not prefetched and the request has no fhirServer and fhirAuthorization to fetch it"
                )
    finally:
        if client is not None:
            client.close()
    patients = [r for r in collected.get("patient", []) if r.get("resourceType") == "Patient"]
    if not patients:
        raise PreconditionFailed(f"the EHR has no Patient/{patient_id} (prefetch or FHIR server)")
    if str(patients[0].get("id")) != patient_id:
        raise BadRequest(f"prefetch['patient'] is Patient/{patients[0].get('id')}, the context names {patient_id}")
    users = collected.pop("user", [])
    data.user = users[0] if users else None
    seen: set[tuple[str, str]] = set()
    for resources in collected.values():
        for resource in resources:
            if _about(resource, patient_id) is False:
                data.dropped += 1
                continue
            if _about(resource, patient_id) is None and resource["resourceType"] not in LOOKUPS:
                data.dropped += 1
                continue
            identity = (resource["resourceType"], str(resource.get("id") or ""))
            if identity[1] and identity in seen:
                continue
            seen.add(identity)
            data.resources.append(resource)
    return data
