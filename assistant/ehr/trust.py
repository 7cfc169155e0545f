"""Which EHRs Caretrail trusts, which addresses it talks to, and who an EHR's user is here.

Deny by default: an EHR that is not in ``CARETRAIL_EHR_SYSTEMS`` cannot call a CDS service or launch the app, a
``fhirServer`` or ``iss`` that is not one of their FHIR base URLs is never contacted (the access token would go
to whoever named it), and every address must be https. Plain http is allowed only on a loopback address and
only with ``CARETRAIL_EHR_ALLOW_LOOPBACK_HTTP`` (the tests' fake EHR on 127.0.0.1).

An EHR user (``Practitioner/123``, or the absolute ``fhirUser`` URL) is a Caretrail user when the EHR's entry maps
it in ``users``, or else when the user's Practitioner resource carries an NPI that exactly one Caretrail user is
linked to (``caretrail panel link-npi``). The role comes from the entry's ``roles`` (or ``default_role``), never
from the EHR's request: an unknown user or a user with no role is refused.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.errors import BadRequest
from assistant.records.tables import UserNpiTable
from assistant.roles import normalize_role
from assistant.settings import EhrSystem, Settings
from connectors.fhir import NPI_SYSTEM

REFERENCE = re.compile(r"^([A-Z][A-Za-z]{1,40})/([A-Za-z0-9\-.]{1,64})$")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, settings: Settings, what: str) -> str:
    """``url`` if Caretrail may send a request (and perhaps a token) there: https, or http on loopback when the
    settings allow it for tests. Raises BadRequest naming ``what`` otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and settings.ehr_allow_loopback_http and _is_loopback(parts.hostname):
        return url
    shown = (url or "")[:120]
    raise BadRequest(f"{what} {shown!r} is not an https:// address")


def base(url: str) -> str:
    """A FHIR base URL without its trailing slash, for comparisons."""
    return url.strip().rstrip("/")


def system_for_fhir_server(settings: Settings, url: str) -> EhrSystem | None:
    """The trusted EHR whose FHIR base URL this is (the SMART ``iss``, a CDS Hooks ``fhirServer``)."""
    wanted = base(url)
    return next((s for s in settings.ehr_systems if base(s.fhir_base_url) == wanted), None)


def system_for_issuer(settings: Settings, issuer: str) -> EhrSystem | None:
    """The trusted EHR that signs CDS Hooks JWTs as ``issuer``."""
    return next((s for s in settings.ehr_systems if s.cds_issuer and s.cds_issuer == issuer), None)


def system_named(settings: Settings, name: str) -> EhrSystem | None:
    return next((s for s in settings.ehr_systems if s.name == name), None)


def relative_reference(reference: str, system: EhrSystem) -> str | None:
    """``Practitioner/123`` from ``Practitioner/123`` or ``<the EHR's FHIR base>/Practitioner/123``; None for
    anything else (another server's URL, a malformed reference)."""
    value = (reference or "").strip()
    prefix = base(system.fhir_base_url) + "/"
    if value.startswith(prefix):
        value = value[len(prefix) :]
    return value if REFERENCE.match(value) else None


def npis(resource: dict[str, Any] | None) -> set[str]:
    """The NPIs a Practitioner (or PractitionerRole) resource carries."""
    found = set()
    for identifier in (resource or {}).get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == NPI_SYSTEM and identifier.get("value"):
            found.add(str(identifier["value"]).strip())
    return found


def caretrail_user(engine: Engine, system: EhrSystem, reference: str, resource: dict[str, Any] | None) -> str | None:
    """The Caretrail user the EHR's user is: mapped in the settings, or linked to the NPI their resource carries
    (only when exactly one user is linked to it). None when neither says."""
    mapped = system.users.get(reference)
    if mapped:
        return mapped
    if resource is None or f"{resource.get('resourceType')}/{resource.get('id')}" != reference:
        return None  # another resource than the user's own says nothing about who the user is
    numbers = npis(resource)
    if not numbers:
        return None
    with Session(engine) as session:
        users = set(session.scalars(select(UserNpiTable.user_id).where(UserNpiTable.npi.in_(sorted(numbers)))))
    return users.pop() if len(users) == 1 else None


def role_of(system: EhrSystem, user: str) -> str | None:
    """The role the settings give this user for this EHR, or None (refused)."""
    raw = system.roles.get(user) or system.default_role
    if not raw:
        return None
    try:
        return normalize_role(raw)
    except ValueError:
        return None


def public_base(settings: Settings, request_base: str) -> str:
    """Where EHRs reach Caretrail: ``CARETRAIL_PUBLIC_URL``, else the address this request came to."""
    return (settings.public_url or request_base).rstrip("/")
