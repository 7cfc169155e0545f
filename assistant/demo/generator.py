"""A deterministic, LEAD-like demo panel written as FHIR R4 bundles.

Why synthetic and why deterministic: demos, tests and the roster audit need older adults with the
conditions, transitions and language needs a LEAD ACO manages (diabetes, hypertension, heart
failure, COPD, CKD, falls; duals and homebound members; recent discharges with medication changes)
without real PHI. The same ``(n, seed)`` must give the same bytes so tests can pin facts and a
reviewer can reproduce a screenshot. Everything is drawn from ``random.Random``; dates are relative
to the fixed :data:`REFERENCE_DATE`, never to today.

Layout of ``out``: ``patient-0001.json`` ... (one ``collection`` Bundle each) and ``manifest.json``
listing every bundle with its planted flags (``duplicate_of``, ``inactive``, ``dual``,
``homebound``, ``language``, ``recent_discharge``, ``rpm``). Person ``i`` is drawn from its own
``Random(f"{seed}:{i}")`` so adding patients does not change earlier ones; the panel-level plan
(who is dual, homebound, inactive or duplicated, and the language mix) comes from
``Random(f"{seed}:panel")``.

Flags use the conventions of :mod:`connectors.fhir`: dual status as the Blue Button ``dual_12``
extension on the Medicare Coverage, homebound as :data:`connectors.fhir.HOMEBOUND_EXTENSION` on
the Medicare Coverage plus an active "Housebound" Condition (SNOMED 160685001).
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from assistant.demo import catalog
from assistant.demo.catalog import CONDITIONS, DRUGS, Language

REFERENCE_DATE = date(2026, 11, 15)
TZ = "-05:00"
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
HOMEBOUND_EXTENSION = "urn:caretrail:fhir:extension:homebound"  # == connectors.fhir.HOMEBOUND_EXTENSION
DUAL_EXTENSION = "https://bluebutton.cms.gov/resources/variables/dual_12"
SOPT = "https://nahdo.org/sopt"
MEDICAID_ID_SYSTEM = "https://medicaid.example.org/member-id"
MANIFEST_SCHEMA = "caretrail.demo-manifest/1"
DUAL_CODES = {
    "01": "QMB only",
    "02": "QMB and full Medicaid",
    "03": "SLMB only",
    "04": "SLMB and full Medicaid",
    "08": "Other full dual",
}
SOCIAL_BARRIERS = (
    "No reliable transportation to appointments.",
    "Lives alone; daughter visits weekly.",
    "Limited health literacy; prefers pictures and teach-back.",
    "Cost of medicines is a concern.",
)
ADMISSION_TYPE = ("32485007", "Hospital admission (procedure)")
ED_TYPE = ("50849002", "Emergency room admission (procedure)")
EGFR_DISPLAY = (
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood "
    "by Creatinine-based formula (CKD-EPI)"
)


@dataclass
class DemoSummary:
    out: str
    bundles: int
    people: int
    duplicates: int
    inactive: int
    dual: int
    homebound: int
    recent_discharges: int
    languages: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        non_english = sum(v for k, v in self.languages.items() if k != "en")
        return (
            f"wrote {self.bundles} bundles ({self.people} people, {self.duplicates} planted duplicates, "
            f"{self.inactive} inactive, {self.dual} dual, {self.homebound} homebound, "
            f"{self.recent_discharges} recent discharges, {non_english} non-English) to {self.out}"
        )


# ----------------------------------------------------------------------------------- identifiers


def make_mbi(rng: random.Random) -> str:
    """An MBI in the CMS format (LEAD_FACTS §6): C A AN N A AN N A A N N, no S L O I B Z."""
    alnum = MBI_LETTERS + "0123456789"
    return "".join(
        [
            rng.choice("123456789"),
            rng.choice(MBI_LETTERS),
            rng.choice(alnum),
            rng.choice("0123456789"),
            rng.choice(MBI_LETTERS),
            rng.choice(alnum),
            rng.choice("0123456789"),
            rng.choice(MBI_LETTERS),
            rng.choice(MBI_LETTERS),
            rng.choice("0123456789"),
            rng.choice("0123456789"),
        ]
    )


def mistyped_mbi(mbi: str) -> str:
    """The same MBI with its two final digits swapped (or the last one changed when they are equal):
    the keying error that most often splits one beneficiary into two registrations."""
    if mbi[9] != mbi[10]:
        return mbi[:9] + mbi[10] + mbi[9]
    return mbi[:10] + str((int(mbi[10]) + 1) % 10)


def luhn_check_digit(payload: str) -> int:
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(rng: random.Random) -> str:
    """A 10-digit NPI whose check digit is the Luhn digit computed with the 80840 prefix."""
    base = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
    return base + str(luhn_check_digit("80840" + base))


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _dt(day: date, hour: int = 9, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute)).isoformat() + TZ


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


# ------------------------------------------------------------------------------------ the panel


@dataclass
class _Plan:
    """Panel-level decisions for one person (index into the people list)."""

    language: str
    dual: bool = False
    homebound: bool = False
    inactive: bool = False


@dataclass
class _Practitioner:
    id: str
    npi: str
    given: str
    family: str
    practice: str


def _allocate(total: int, weights: dict[str, float], required: tuple[str, ...]) -> list[str]:
    """Largest-remainder quota so a panel's language mix matches the weights, with required minimums."""
    counts = {k: int(total * w / 100) for k, w in weights.items()}
    remainders = sorted(weights, key=lambda k: (-(total * weights[k] / 100 - counts[k]), k))
    for key in remainders[: total - sum(counts.values())]:
        counts[key] += 1
    if total >= 50:
        for key in required:
            while counts[key] == 0:
                donor = max(counts, key=lambda k: counts[k])
                counts[donor] -= 1
                counts[key] += 1
    return [k for k in weights for _ in range(counts[k])]


def _plan_panel(people: int, panel: random.Random) -> list[_Plan]:
    languages = _allocate(people, {lang.code: lang.weight for lang in catalog.LANGUAGES}, catalog.REQUIRED_LANGUAGES)
    panel.shuffle(languages)
    plans = [_Plan(language=code) for code in languages]
    indices = list(range(people))
    for index in panel.sample(indices, round(people * 0.20)):
        plans[index].dual = True
    for index in panel.sample(indices, round(people * 0.08)):
        plans[index].homebound = True
    inactive = max(1, round(people * 0.05)) if people >= 5 else 0
    for index in panel.sample(indices, inactive):
        plans[index].inactive = True
    return plans


# ----------------------------------------------------------------------------------- one person


@dataclass
class _Person:
    index: int
    id: str
    sex: str
    given: str
    middle: str
    family: str
    birth: date
    language: Language
    mbi: str
    hospital: int
    mrn: str
    city: tuple[str, str, str, str]
    street: str
    phone: str
    pcp: _Practitioner
    conditions: list[str]
    plan: _Plan
    medicaid_id: str | None


def _draw_person(rng: random.Random, index: int, plan: _Plan, pcps: list[_Practitioner]) -> _Person:
    language = next(lang for lang in catalog.LANGUAGES if lang.code == plan.language)
    sex = "female" if rng.random() < 0.55 else "male"
    names = language.female if sex == "female" else language.male
    family_index = rng.randrange(len(language.families))
    family = language.families[family_index]
    if sex == "female" and language.female_families:
        family = language.female_families[family_index]
    # Older members are fewer: ages 66-96 on the reference date, weighted towards the 70s.
    year = 1960 - min(30, int(rng.triangular(0, 30, 6)))
    birth = date(year, rng.randint(1, 12), rng.randint(1, 28))
    age = REFERENCE_DATE.year - birth.year
    hospital = 0 if rng.random() < 0.6 else 1
    city = rng.choice(catalog.PLACES)
    has = set()

    def maybe(key: str, probability: float) -> None:
        if rng.random() < min(0.95, probability):
            has.add(key)

    maybe("hypertension", 0.68)
    maybe("diabetes", 0.38 if "hypertension" in has else 0.2)
    maybe("hyperlipidemia", 0.6 if "diabetes" in has else 0.45)
    maybe("heart_failure", (0.2 if "hypertension" in has else 0.08) + (0.15 if plan.homebound else 0))
    maybe("afib", 0.35 if "heart_failure" in has else 0.08)
    maybe("copd", 0.13 + (0.12 if plan.homebound else 0))
    maybe("ckd", 0.12 + 0.12 * ("diabetes" in has) + 0.08 * ("hypertension" in has))
    maybe("falls", 0.08 + 0.01 * max(0, age - 75) + (0.25 if plan.homebound else 0))
    maybe("depression", 0.15)
    maybe("dementia", 0.03 + 0.008 * max(0, age - 75) + (0.15 if plan.homebound else 0))
    if not has & {"hypertension", "diabetes", "heart_failure", "copd", "ckd"}:
        has.add(rng.choice(["hypertension", "diabetes", "copd"]))
    order = [k for k in CONDITIONS if k in has]
    if plan.homebound:
        order.append("housebound")
    mrn_prefix = catalog.HOSPITALS[hospital][3]
    return _Person(
        index=index,
        id=_uuid(rng),
        sex=sex,
        given=rng.choice(names),
        middle=rng.choice("ABCDEFGHJKLMNPRSTW"),
        family=family,
        birth=birth,
        language=language,
        mbi=make_mbi(rng),
        hospital=hospital,
        mrn=f"{mrn_prefix}{rng.randint(1000000, 9999999)}",
        city=city,
        street=f"{rng.randint(2, 998)} {rng.choice(catalog.STREETS)}",
        phone=f"({city[3]}) 555-01{rng.randint(0, 99):02d}",
        pcp=rng.choice(pcps),
        conditions=order,
        plan=plan,
        medicaid_id=f"MA{rng.randint(100000000, 999999999)}" if plan.dual else None,
    )


class _Bundle:
    """Collects resources with urn:uuid fullUrls; ids come from the person's own rng."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.entries: list[dict[str, Any]] = []

    def add(self, resource: dict[str, Any], rid: str | None = None) -> str:
        rid = rid or _uuid(self.rng)
        kind = resource.pop("resourceType")
        resource = {"resourceType": kind, "id": rid, **_profile_meta(kind, resource), **resource}
        self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return rid

    def to_json(self, bundle_id: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "id": bundle_id,
            "type": "collection",
            "timestamp": _dt(REFERENCE_DATE, 6),
            "entry": self.entries,
        }


def _profile_meta(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """``meta.profile`` for a resource: its QI-Core profile, or FHIR's ``bp`` for a blood-pressure panel.

    Why: the stewards' reference engine reads QI-Core data by profile (fqm-execution's trustMetaProfile), so an
    untagged resource is invisible to it, and CMS165 finds blood pressures by the ``bp`` profile alone.
    """
    if "meta" in resource:
        return {}
    profile = catalog.QICORE_PROFILES.get(kind)
    if kind == "Observation":
        codings = (resource.get("code") or {}).get("coding") or []
        if any(c.get("system") == LOINC and c.get("code") == catalog.BP_PANEL for c in codings):
            profile = catalog.BP_PROFILE
    return {"meta": {"profile": [profile]}} if profile else {}


def _ref(rid: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{rid}"}


def _patient_resource(p: _Person, given: list[str], mrn_system: str, mrn: str, with_mbi: bool) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [
        {
            "use": "usual",
            "type": {
                "coding": [_coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number")]
            },
            "system": mrn_system,
            "value": mrn,
        }
    ]
    if with_mbi:
        identifiers.append(
            {
                "type": {
                    "coding": [
                        _coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MC", "Patient's Medicare number")
                    ]
                },
                "system": "http://hl7.org/fhir/sid/us-mbi",
                "value": p.mbi,
            }
        )
    if p.medicaid_id:
        identifiers.append(
            {
                "type": {
                    "coding": [
                        _coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MA", "Patient Medicaid number")
                    ]
                },
                "system": MEDICAID_ID_SYSTEM,
                "value": p.medicaid_id,
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "family": p.family, "given": given}],
        "telecom": [{"system": "phone", "value": p.phone, "use": "home"}],
        "gender": p.sex,
        "birthDate": p.birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [p.street],
                "city": p.city[0],
                "state": p.city[1],
                "postalCode": p.city[2],
                "country": "US",
            }
        ],
        "communication": [
            {
                "language": {
                    "coding": [_coding("urn:ietf:bcp:47", p.language.code, p.language.display)],
                    "text": p.language.display,
                },
                "preferred": True,
            }
        ],
        "generalPractitioner": [_ref(p.pcp.id)],
    }
    if p.plan.homebound:
        resource["extension"] = [{"url": HOMEBOUND_EXTENSION, "valueBoolean": True}]
    return resource


def _practitioner_resource(pcp: _Practitioner) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": pcp.npi}],
        "active": True,
        "name": [{"family": pcp.family, "given": [pcp.given], "prefix": ["Dr."]}],
    }


@dataclass
class _Med:
    drug: str
    request_id: str
    status: str = "active"
    dose_text: str | None = None


class _PersonWriter:
    """Builds one person's bundle; keeps what the manifest needs."""

    def __init__(
        self, p: _Person, rng: random.Random, org_ids: dict[str, str], measure_rng: random.Random | None = None
    ) -> None:
        self.p = p
        self.rng = rng
        # Draws for the quality-measure story only, so that adding it changed none of the person's other draws.
        self.measure_rng = measure_rng
        self.visits: list[tuple[str, datetime]] = []  # (encounter id, start) of each outpatient visit
        self.b = _Bundle(rng)
        self.org_ids = org_ids
        self.meds: dict[str, _Med] = {}
        self.flags: dict[str, Any] = {"recent_discharge": None, "rpm": False, "weight_gain": False}

    # --- small builders ---
    def encounter(
        self, klass: str, display: str, start: datetime, end: datetime, type_code: tuple[str, str],
        reason: tuple[str, str, str] | None = None, disposition: tuple[str, str] | None = None, hospital: bool = False,
    ) -> str:  # fmt: skip
        resource: dict[str, Any] = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass, "display": display},
            "type": [{"coding": [_coding(SNOMED, *type_code)], "text": type_code[1]}],
            "subject": _ref(self.p.id),
            "participant": [{"individual": _ref(self.p.pcp.id)}] if not hospital else [],
            "period": {"start": start.isoformat() + TZ, "end": end.isoformat() + TZ},
            "serviceProvider": _ref(
                self.org_ids[catalog.HOSPITALS[self.p.hospital][0]] if hospital else self.org_ids[self.p.pcp.practice]
            ),
        }
        if not resource["participant"]:
            del resource["participant"]
        billed = catalog.OUTPATIENT_VISIT_CODES.get(klass)
        if billed and not hospital:  # the code CMS165/CMS122 recognise a qualifying outpatient visit by
            resource["type"][0]["coding"].append(_coding(*billed))
        if reason:
            resource["reasonCode"] = [{"coding": [_coding(SNOMED, reason[0], reason[2])], "text": reason[2]}]
        if disposition:
            resource["hospitalization"] = {
                "dischargeDisposition": {
                    "coding": [_coding("https://www.nubc.org/CodeSystem/PatDischargeStatus", *disposition)]
                }
            }
        return self.b.add(resource)

    def condition(
        self, key: str, onset: date, encounter: str | None = None, category: str = "problem-list-item"
    ) -> str:
        c = CONDITIONS[key]
        return self.condition_codes(c.snomed, c.icd10, c.display, onset, encounter, category)

    def condition_codes(
        self, snomed: str, icd10: str, display: str, onset: date, encounter: str | None, category: str
    ) -> str:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": {
                "coding": [_coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")]
            },
            "verificationStatus": {
                "coding": [
                    _coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")
                ]
            },
            "category": [
                {"coding": [_coding("http://terminology.hl7.org/CodeSystem/condition-category", category, category)]}
            ],
            "code": {"coding": [_coding(SNOMED, snomed, display), _coding(ICD10, icd10, display)], "text": display},
            "subject": _ref(self.p.id),
            "onsetDateTime": onset.isoformat(),
            "recordedDate": onset.isoformat(),
        }
        if encounter:
            resource["encounter"] = _ref(encounter)
        return self.b.add(resource)

    def observation(
        self, code: str, display: str, when: datetime, value: float | None, unit: str | None,
        encounter: str | None = None, components: list[tuple[str, str, float, str]] | None = None,
        category: str = "vital-signs", device: str | None = None,
    ) -> str:  # fmt: skip
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {"coding": [_coding("http://terminology.hl7.org/CodeSystem/observation-category", category, category)]}
            ],
            "code": {"coding": [_coding(LOINC, code, display)], "text": display},
            "subject": _ref(self.p.id),
            "effectiveDateTime": when.isoformat() + TZ,
        }
        if encounter:
            resource["encounter"] = _ref(encounter)
        if device:
            resource["device"] = _ref(device)
        if value is not None:
            resource["valueQuantity"] = {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            }
        if components:
            resource["component"] = [
                {
                    "code": {"coding": [_coding(LOINC, c_code, c_display)], "text": c_display},
                    "valueQuantity": {
                        "value": c_value,
                        "unit": c_unit,
                        "system": "http://unitsofmeasure.org",
                        "code": c_unit,
                    },
                }
                for c_code, c_display, c_value, c_unit in components
            ]
        return self.b.add(resource)

    def medication(self, drug_key: str, authored: date, status: str = "active", encounter: str | None = None,
                   dose_text: str | None = None) -> str:  # fmt: skip
        drug = DRUGS[drug_key]
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"coding": [_coding(RXNORM, drug.rxnorm, drug.display)], "text": drug.display},
            "subject": _ref(self.p.id),
            "authoredOn": authored.isoformat(),
            "requester": _ref(self.p.pcp.id),
            "dosageInstruction": [{"text": dose_text or drug.sig}],
        }
        if encounter:
            resource["encounter"] = _ref(encounter)
        rid = self.b.add(resource)
        self.meds[drug_key] = _Med(drug_key, rid, status, dose_text or drug.sig)
        return rid

    def note(self, loinc: tuple[str, str], title: str, text: str, when: datetime, encounter: str | None) -> str:
        resource: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [_coding(LOINC, *loinc)], "text": loinc[1]},
            "category": [
                {
                    "coding": [
                        _coding(
                            "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                            "clinical-note",
                            "Clinical Note",
                        )
                    ]
                }
            ],
            "subject": _ref(self.p.id),
            "date": when.isoformat() + TZ,
            "author": [_ref(self.p.pcp.id)],
            "description": title,
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "title": title,
                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                    }
                }
            ],
        }
        if encounter:
            resource["context"] = {"encounter": [_ref(encounter)]}
        return self.b.add(resource)

    # --- the story ---
    def write(self) -> dict[str, Any]:
        p, rng = self.p, self.rng
        self.b.add(_patient_resource(p, [p.given, p.middle], catalog.HOSPITALS[p.hospital][2], p.mrn, True), p.id)
        self.b.add(_practitioner_resource(p.pcp), p.pcp.id)
        _organizations(self.b, self.org_ids)
        self._coverage()
        onset_years = {k: rng.randint(1, 15) for k in p.conditions}
        for key in p.conditions:
            self.condition(key, REFERENCE_DATE - timedelta(days=365 * onset_years[key] + rng.randint(0, 300)))
        self._baseline_meds()
        self._visits()
        if not p.plan.inactive:
            self._recent_events()
            if "heart_failure" in p.conditions and rng.random() < 0.5:
                self._rpm()
            if p.plan.homebound or p.plan.dual or rng.random() < 0.2:
                self._care_manager_note()
            if self.measure_rng is not None:
                self._measure_story(self.measure_rng)
        return self.b.to_json(f"demo-{p.id}")

    def _coverage(self) -> None:
        p = self.p
        sixty_five = date(p.birth.year + 65, p.birth.month, 1)
        extensions: list[dict[str, Any]] = []
        if p.plan.dual:
            code = self.rng.choice(["02", "02", "02", "04", "08", "01", "03"])
            display = DUAL_CODES[code]
            extensions.append(
                {"url": DUAL_EXTENSION, "valueCoding": {"system": DUAL_EXTENSION, "code": code, "display": display}}
            )
            self.flags["dual_status_code"] = code
        if p.plan.homebound:
            extensions.append({"url": HOMEBOUND_EXTENSION, "valueBoolean": True})
        medicare: dict[str, Any] = {
            "resourceType": "Coverage",
            "status": "active",
            "type": {"coding": [_coding(SOPT, "1", "MEDICARE")], "text": "Medicare Part A and Part B"},
            "subscriberId": p.mbi,
            "beneficiary": _ref(p.id),
            "relationship": {
                "coding": [_coding("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self")]
            },
            "period": {"start": sixty_five.isoformat()},
            "payor": [{"display": "Centers for Medicare & Medicaid Services"}],
        }
        if extensions:
            medicare = {
                "resourceType": "Coverage",
                "extension": extensions,
                **{k: v for k, v in medicare.items() if k != "resourceType"},
            }
        self.b.add(medicare)
        if p.plan.dual:
            self.b.add(
                {
                    "resourceType": "Coverage",
                    "status": "active",
                    "type": {"coding": [_coding(SOPT, "2", "MEDICAID")], "text": "Medicaid"},
                    "subscriberId": p.medicaid_id,
                    "beneficiary": _ref(p.id),
                    "period": {"start": date(REFERENCE_DATE.year - self.rng.randint(1, 8), 1, 1).isoformat()},
                    "payor": [{"display": f"{p.city[1]} Medicaid"}],
                }
            )

    def _baseline_meds(self) -> None:
        p, rng = self.p, self.rng
        wanted: list[str] = []
        has = set(p.conditions)
        if "diabetes" in has:
            wanted.append("metformin")
            if rng.random() < 0.35:
                wanted.append("glargine")
        if "hypertension" in has or "heart_failure" in has:
            if rng.random() < 0.75:
                wanted.append("lisinopril")
            if "heart_failure" not in has and rng.random() < 0.5:
                wanted.append("amlodipine")
        if "heart_failure" in has:
            wanted += ["furosemide", "carvedilol"]
            if rng.random() < 0.3:
                wanted.append("amlodipine")  # planted: a drug the discharge team will stop
        if "afib" in has:
            wanted.append("apixaban")
        if "hyperlipidemia" in has or "diabetes" in has:
            wanted.append("atorvastatin")
        if "copd" in has:
            wanted.append("albuterol")
        if "depression" in has:
            wanted.append("sertraline")
        if "dementia" in has:
            wanted.append("donepezil")
        for key in dict.fromkeys(wanted):
            self.medication(key, REFERENCE_DATE - timedelta(days=rng.randint(200, 2000)))

    def _visits(self) -> None:
        p, rng = self.p, self.rng
        if p.plan.inactive:
            days = sorted({rng.randint(400, 900) for _ in range(rng.randint(2, 4))}, reverse=True)
        else:
            days = sorted(
                {rng.randint(100, 540) for _ in range(rng.randint(2, 5))} | {rng.randint(7, 90)}, reverse=True
            )
        hypertensive = "hypertension" in p.conditions
        weight = rng.uniform(55, 80) if p.sex == "female" else rng.uniform(68, 100)
        for ago in days:
            day = REFERENCE_DATE - timedelta(days=ago)
            start = datetime.combine(day, time(rng.randint(8, 15), rng.choice([0, 15, 30, 45])))
            virtual = not p.plan.homebound and rng.random() < 0.1
            klass, label = (
                ("VR", "virtual") if virtual else (("HH", "home health") if p.plan.homebound else ("AMB", "ambulatory"))
            )
            enc = self.encounter(
                klass, label, start, start + timedelta(minutes=30), ("185349003", "Encounter for check up (procedure)")
            )
            self.visits.append((enc, start))
            sbp = round(rng.gauss(142 if hypertensive else 124, 14))
            dbp = round(rng.gauss(84 if hypertensive else 76, 9))
            self.observation(
                "85354-9", "Blood pressure panel with all children optional", start, None, None, enc,
                components=[("8480-6", "Systolic blood pressure", sbp, "mm[Hg]"),
                            ("8462-4", "Diastolic blood pressure", dbp, "mm[Hg]")],
            )  # fmt: skip
            weight += rng.gauss(0, 0.8)
            self.observation("29463-7", "Body weight", start, round(weight, 1), "kg", enc)
            if "diabetes" in p.conditions and (ago == days[-1] or rng.random() < 0.6):
                a1c = round(min(13.5, max(5.6, rng.gauss(7.9, 1.4))), 1)
                self.observation(
                    "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", start, a1c, "%", enc, category="laboratory"
                )
            if (p.conditions and {"diabetes", "ckd", "hypertension"} & set(p.conditions)) and (
                ago == days[0] or rng.random() < 0.3
            ):
                egfr = round(rng.uniform(32, 58) if "ckd" in p.conditions else rng.uniform(62, 95))
                self.observation(
                    "62238-1", EGFR_DISPLAY,
                    start, egfr, "mL/min/{1.73_m2}", enc, category="laboratory",
                )  # fmt: skip

    def _recent_events(self) -> None:
        p, rng = self.p, self.rng
        chronic = set(p.conditions)
        likely = [a for a in catalog.ADMISSIONS if a[4] in chronic]
        chance = 0.1 + 0.1 * bool(chronic & {"heart_failure", "copd"}) + 0.08 * p.plan.homebound
        if rng.random() < chance:
            reason = (
                rng.choice(likely)
                if likely and rng.random() < 0.8
                else rng.choice([a for a in catalog.ADMISSIONS if a[4] is None])
            )
            discharge_day = REFERENCE_DATE - timedelta(days=rng.randint(2, 25))
            stay = rng.randint(2, 7)
            disposition = rng.choices(catalog.DISPOSITIONS, weights=[d[2] for d in catalog.DISPOSITIONS])[0]
            self._discharge("IMP", reason, discharge_day, stay, (disposition[0], disposition[1]))
        elif rng.random() < 0.08:
            reason = rng.choice(catalog.ADMISSIONS[2:])
            self._discharge(
                "EMER",
                reason,
                REFERENCE_DATE - timedelta(days=rng.randint(1, 20)),
                0,
                ("01", "Discharged to home or self care"),
            )

    def _discharge(self, klass: str, reason: tuple[str, str, str, str, str | None], day: date, stay: int,
                   disposition: tuple[str, str]) -> None:  # fmt: skip
        rng = self.rng
        key, snomed, icd10, display, _ = reason
        admit = datetime.combine(day - timedelta(days=stay), time(rng.randint(0, 23), rng.choice([5, 20, 35, 50])))
        end = datetime.combine(day, time(rng.randint(10, 17), rng.choice([0, 30])))
        if klass == "EMER":
            end = admit + timedelta(hours=rng.randint(3, 9))
        enc = self.encounter(
            klass, "inpatient encounter" if klass == "IMP" else "emergency", admit, end,
            ADMISSION_TYPE if klass == "IMP" else ED_TYPE,
            reason=(snomed, icd10, display), disposition=disposition, hospital=True,
        )  # fmt: skip
        self.condition_codes(snomed, icd10, display, admit.date(), enc, "encounter-diagnosis")
        changes = self._med_changes(key, end.date(), enc)
        pending = rng.random() < 0.4
        text = self._discharge_text(klass, display, admit, end, disposition, changes, pending, key)
        title = "Discharge summary" if klass == "IMP" else "Emergency department discharge summary"
        note_id = self.note(("18842-5", "Discharge summary"), title, text, end, enc)
        self.flags["recent_discharge"] = {
            "encounter_id": enc,
            "class": "inpatient" if klass == "IMP" else "emergency",
            "reason": display,
            "admit": admit.isoformat(),
            "discharge": end.isoformat(),
            "disposition": disposition[0],
            "document_id": note_id,
            "medication_changes": [{"drug": d, "change": c} for d, c, _ in changes],
            "pending_results": pending,
        }

    def _med_changes(self, key: str, day: date, enc: str) -> list[tuple[str, str, str]]:
        """(drug key, NEW|CHANGED|STOPPED|CONTINUE, note text) and matching MedicationRequests."""
        changes: list[tuple[str, str, str]] = []

        def new(drug: str, why: str) -> None:
            self.medication(drug, day, encounter=enc)
            changes.append((drug, "NEW", why))

        def stop(drug: str, why: str) -> None:
            if drug in self.meds and self.meds[drug].status == "active":
                self.medication(drug, day, status="stopped", encounter=enc, dose_text=f"STOPPED: {why}")
                changes.append((drug, "STOPPED", why))

        def change(drug: str, dose: str, why: str) -> None:
            if drug in self.meds:
                self.medication(drug, day, encounter=enc, dose_text=dose)
                changes.append((drug, "CHANGED", f"{dose} ({why})"))
            else:
                self.medication(drug, day, encounter=enc, dose_text=dose)
                changes.append((drug, "NEW", dose))

        if key == "hf_exacerbation":
            change(
                "furosemide",
                "Take 1 tablet (40 mg) by mouth twice daily",
                "increased from once daily for volume overload",
            )
            if "spironolactone" not in self.meds:
                new("spironolactone", "added for heart failure with reduced ejection fraction")
            stop("amlodipine", "not recommended in heart failure with reduced ejection fraction")
        elif key == "copd_exacerbation":
            new("prednisone", "5-day course for COPD exacerbation")
            new("azithromycin", "complete 5-day course")
        elif key == "pneumonia":
            new("amox_clav", "complete 5-day course for pneumonia")
        elif key == "hyperglycemia":
            change("glargine", "Inject 26 units under the skin at bedtime", "increased from 20 units")
        elif key == "fall_fracture":
            new("acetaminophen", "for hip pain; avoid NSAIDs")
            stop("amlodipine", "orthostatic hypotension contributed to the fall")
        elif key == "aki":
            stop("lisinopril", "held for acute kidney injury; PCP to decide on restart")
            stop("metformin", "held while kidney function recovers")
        elif key == "uti":
            new("cephalexin", "7-day course for urinary tract infection")
        for drug, med in self.meds.items():
            if med.status == "active" and drug not in {c[0] for c in changes}:
                changes.append((drug, "CONTINUE", med.dose_text or DRUGS[drug].sig))
        return changes

    def _discharge_text(self, klass: str, reason: str, admit: datetime, end: datetime, disposition: tuple[str, str],
                        changes: list[tuple[str, str, str]], pending: bool, key: str) -> str:  # fmt: skip
        p, rng = self.p, self.rng
        hospital = catalog.HOSPITALS[p.hospital][1]
        kind = "DISCHARGE SUMMARY" if klass == "IMP" else "EMERGENCY DEPARTMENT DISCHARGE SUMMARY"
        course = {
            "hf_exacerbation": "Admitted with dyspnea, orthopnea and 4 kg weight gain. Diuresed with IV "
            "furosemide with net negative 3.1 L. Echo showed EF 30%. Transitioned to oral diuretic on day {d}.",
            "copd_exacerbation": "Admitted with increased dyspnea and sputum. Treated with nebulized bronchodilators, "
            "steroids and azithromycin. Weaned to room air; ambulatory saturation 91%.",
            "pneumonia": "Presented with fever, cough and right lower lobe infiltrate. Treated with antibiotics with "
            "clinical improvement. Afebrile for 48 hours before discharge.",
            "hyperglycemia": "Presented with polyuria and glucose 486 mg/dL without ketoacidosis. Insulin adjusted; "
            "diabetes educator visit completed.",
            "fall_fracture": "Mechanical fall at home with left femoral neck fracture. Underwent hemiarthroplasty on "
            "hospital day 2. Orthostatic blood pressure drop noted.",
            "aki": "Creatinine 2.4 mg/dL from baseline 1.3 in the setting of poor oral intake. ACE inhibitor and "
            "metformin held; creatinine improved to 1.6 mg/dL with IV fluids.",
            "uti": "Presented with dysuria and confusion. Urinalysis consistent with infection; started on antibiotics "
            "with improvement in mental status.",
        }[key].format(d=max(1, (end - admit).days - 1))
        lines = [
            kind,
            f"{hospital}",
            f"Admission date: {admit:%m/%d/%Y}    Discharge date: {end:%m/%d/%Y}",
            f"Discharge disposition: {disposition[1]}",
            f"Preferred language: {p.language.display}" + ("; interpreter required" if p.language.code != "en" else ""),
            "",
            "Hospital Course:",
            course,
            "",
            "Discharge Diagnoses:",
            f"1. {reason}",
        ]
        for number, cond in enumerate((c for c in p.conditions if c != "housebound"), start=2):
            lines.append(f"{number}. {CONDITIONS[cond].display}")
        lines += ["", "Discharge Medications:"]
        for drug, change, why in changes:
            label = DRUGS[drug].name
            if change == "CONTINUE":
                lines.append(f"- {label}: {why} (CONTINUE)")
            elif change == "STOPPED":
                lines.append(f"- {label} (STOPPED: {why})")
            else:
                lines.append(
                    f"- {label}: {DRUGS[drug].sig if change == 'NEW' else why.split(' (')[0]} ({change}: {why})"
                )
        lines += ["", "Pending Results:"]
        lines.append(
            rng.choice(["Blood cultures x2 collected on admission: final result pending.",
                        "Thyroid-stimulating hormone sent on day of discharge: result pending.",
                        "Urine culture: final susceptibilities pending."])
            if pending else "None."
        )  # fmt: skip
        follow_days = 7 if klass == "IMP" else 14
        lines += [
            "",
            "Follow-up:",
            f"- Primary care with Dr. {p.pcp.given} {p.pcp.family} ({p.pcp.practice}) within {follow_days} days.",
        ]
        if key == "hf_exacerbation":
            lines.append("- Cardiology clinic in 2 weeks. Basic metabolic panel in 1 week (potassium, creatinine).")
        if key == "fall_fracture":
            lines.append("- Orthopedics in 2 weeks for wound check.")
        lines += ["", "Home Health/DME:"]
        if disposition[0] == "06":
            lines.append("Home health nursing and physical therapy ordered; agency to call within 48 hours.")
        elif key == "fall_fracture":
            lines.append("Rolling walker and shower chair ordered.")
        elif key == "hf_exacerbation":
            lines.append("Home scale provided; enrolled in remote weight monitoring.")
        else:
            lines.append("None ordered.")
        lines += ["", "Patient Education:"]
        lines.append(
            {
                "hf_exacerbation": "Weigh every morning; limit salt to 2 g a day and fluids to 1.5 L a day.",
                "copd_exacerbation": "Inhaler technique reviewed with teach-back. Smoking cessation counselling given.",
                "hyperglycemia": "Check blood sugar before meals and at bedtime; bring the log to follow-up.",
                "fall_fracture": "Fall prevention at home reviewed: remove rugs, use night lights, rise slowly.",
            }.get(key, "Diagnosis, medicines and warning signs reviewed with teach-back.")
        )
        lines += ["", "Red Flags:"]
        lines.append(
            {
                "hf_exacerbation": "Call the doctor for weight gain over 1 kg in a day or 2 kg in a week, or worse "
                "shortness of breath. Call 911 for chest pain.",
                "copd_exacerbation": "Call for fever, worse breathing or needing the rescue inhaler more "
                "than every 4 hours.",
                "hyperglycemia": "Call for blood sugar over 300 mg/dL twice in a row or under 70 mg/dL.",
                "aki": "Call for passing very little urine, dizziness or vomiting.",
            }.get(key, "Call for fever over 38.3 C, confusion, or new or worse pain.")
        )
        return "\n".join(lines) + "\n"

    def _rpm(self) -> None:
        """Home scale and BP cuff readings for the last 14 days; some show a planted weight gain."""
        p, rng = self.p, self.rng
        scale = self.b.add(
            {
                "resourceType": "Device",
                "status": "active",
                "serialNumber": f"SC-{rng.randint(100000, 999999)}",
                "deviceName": [{"name": "Cellular home scale", "type": "user-friendly-name"}],
                "type": {"coding": [_coding(SNOMED, "19892000", "Scale, device (physical object)")], "text": "Scale"},
                "patient": _ref(p.id),
            }
        )
        cuff = self.b.add(
            {
                "resourceType": "Device",
                "status": "active",
                "serialNumber": f"BP-{rng.randint(100000, 999999)}",
                "deviceName": [{"name": "Cellular blood pressure monitor", "type": "user-friendly-name"}],
                "type": {
                    "coding": [_coding(SNOMED, "70665002", "Blood pressure cuff, device (physical object)")],
                    "text": "Blood pressure cuff",
                },
                "patient": _ref(p.id),
            }
        )
        gain = rng.random() < 0.4
        weight = rng.uniform(70, 95)
        for ago in range(14, 0, -1):
            moment = datetime.combine(REFERENCE_DATE - timedelta(days=ago), time(7, rng.randint(0, 40)))
            weight += rng.gauss(0, 0.2) + (0.7 if gain and ago <= 3 else 0)
            self.observation("29463-7", "Body weight", moment, round(weight, 1), "kg", device=scale)
            self.observation(
                "85354-9", "Blood pressure panel with all children optional", moment + timedelta(minutes=5), None, None,
                components=[("8480-6", "Systolic blood pressure", round(rng.gauss(132, 10)), "mm[Hg]"),
                            ("8462-4", "Diastolic blood pressure", round(rng.gauss(78, 7)), "mm[Hg]")],
                device=cuff,
            )  # fmt: skip
        self.flags["rpm"] = True
        self.flags["weight_gain"] = gain

    def _care_manager_note(self) -> None:
        p, rng = self.p, self.rng
        day = REFERENCE_DATE - timedelta(days=rng.randint(3, 60))
        barriers = []
        if p.language.code != "en":
            barriers.append(f"Prefers {p.language.display}; needs a qualified interpreter for all calls and visits.")
        if p.plan.homebound:
            barriers.append(
                "Homebound: leaves home only for medical visits with considerable effort; needs home visits."
            )
        if p.plan.dual:
            barriers.append("Dual eligible (Medicare and Medicaid); coordinate with the Medicaid care manager.")
        barriers.append(rng.choice(SOCIAL_BARRIERS))
        goals = []
        if "diabetes" in p.conditions:
            goals.append("HbA1c below 8% by next quarter.")
        if "hypertension" in p.conditions:
            goals.append("Blood pressure below 140/90 at home and in clinic.")
        if "heart_failure" in p.conditions:
            goals.append("No heart failure readmission; daily weights logged.")
        if "falls" in p.conditions:
            goals.append("No falls; complete STEADI assessment and home safety check.")
        goals = goals or ["Stay well at home; annual wellness visit completed."]
        text = "\n".join(
            [
                "Care Management Note",
                f"Date: {day:%m/%d/%Y}",
                "",
                "Summary:",
                f"{p.given} {p.family}, age {REFERENCE_DATE.year - p.birth.year}, followed by Dr. {p.pcp.family}. "
                f"Conditions: {', '.join(CONDITIONS[c].display for c in p.conditions)}.",
                "",
                "Barriers:",
                *[f"- {b}" for b in barriers],
                "",
                "Goals:",
                *[f"- {g}" for g in goals],
                "",
                "Interventions:",
                "- Medication list reconciled by phone.",
                "- Reviewed warning signs and whom to call after hours.",
                "",
                "Plan:",
                "- Follow-up call in 2 weeks.",
                "",
            ]
        )
        self.note(("11506-3", "Progress note"), "Care management note", text, datetime.combine(day, time(11, 0)), None)

    def _measure_story(self, rng: random.Random) -> None:
        """What CMS165 and CMS122 turn on, beyond the visits: same-day repeat blood pressures, a coded HbA1c, and
        the denominator exclusions (hospice, palliative care, frailty, nursing home), all in the measurement year.

        Why: a panel where every patient falls the same way tests nothing; these spread the populations so that
        the two measure engines are compared on both sides of each definition. Drawn from the measure rng (ids
        too), after everything else, so the rest of the bundle is what it was before.
        """
        p = self.p
        self.b.rng = rng
        year_start = datetime(REFERENCE_DATE.year, 1, 1)
        this_year = [visit for visit in self.visits if visit[1] >= year_start]
        if "hypertension" in p.conditions and this_year and rng.random() < 0.35:
            # A repeat reading at the latest visit: CMS165 takes the lowest systolic and diastolic of the day.
            enc, start = max(this_year, key=lambda visit: visit[1])
            self.observation(
                "85354-9", "Blood pressure panel with all children optional", start + timedelta(minutes=12), None,
                None, enc,
                components=[("8480-6", "Systolic blood pressure", round(rng.gauss(136, 12)), "mm[Hg]"),
                            ("8462-4", "Diastolic blood pressure", round(rng.gauss(82, 8)), "mm[Hg]")],
            )  # fmt: skip
        if "diabetes" in p.conditions and rng.random() < 0.04:
            # The most recent HbA1c sent as a concept, not a number (see catalog.CODED_RESULT).
            when = datetime.combine(REFERENCE_DATE - timedelta(days=rng.randint(1, 5)), time(10, 0))
            rid = self.observation(
                "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", when, None, None, category="laboratory"
            )
            coded = self.b.entries[-1]["resource"]
            assert coded["id"] == rid
            coded["valueCodeableConcept"] = {"coding": [_coding(*catalog.CODED_RESULT)]}

        def some_day() -> date:
            return REFERENCE_DATE - timedelta(days=rng.randint(10, 280))

        if rng.random() < 0.02:  # Hospice: a hospice encounter
            start = datetime.combine(some_day(), time(13, 0))
            resource = {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH",
                          "display": "home health"},
                "type": [{"coding": [_coding(*catalog.HOSPICE_ENCOUNTER)], "text": "Hospice care"}],
                "subject": _ref(p.id),
                "period": {"start": start.isoformat() + TZ, "end": (start + timedelta(hours=1)).isoformat() + TZ},
            }  # fmt: skip
            self.b.add(resource)
        if rng.random() < 0.02:  # Hospice: hospice care as a completed procedure
            self.b.add(
                {
                    "resourceType": "Procedure",
                    "status": "completed",
                    "code": {"coding": [_coding(*catalog.HOSPICE_CARE)], "text": "Hospice care"},
                    "subject": _ref(p.id),
                    "performedDateTime": _dt(some_day(), 11),
                }
            )
        if rng.random() < 0.03:  # PalliativeCare: an encounter, or the diagnosis
            if rng.random() < 0.5:
                start = datetime.combine(some_day(), time(14, 0))
                resource = {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                              "display": "ambulatory"},
                    "type": [{"coding": [_coding(*catalog.PALLIATIVE_ENCOUNTER)], "text": "Palliative care visit"}],
                    "subject": _ref(p.id),
                    "period": {"start": start.isoformat() + TZ,
                               "end": (start + timedelta(minutes=45)).isoformat() + TZ},
                }  # fmt: skip
                self.b.add(resource)
            else:
                code, display = catalog.PALLIATIVE_DIAGNOSIS
                self.b.add(
                    {
                        "resourceType": "Condition",
                        "clinicalStatus": {"coding": [_coding(CONDITION_CLINICAL, "active", "Active")]},
                        "category": [{"coding": [_coding(CONDITION_CATEGORY, "encounter-diagnosis", "Diagnosis")]}],
                        "code": {"coding": [_coding(ICD10, code, display)], "text": display},
                        "subject": _ref(p.id),
                        "onsetDateTime": some_day().isoformat(),
                    }
                )  # fmt: skip
        if rng.random() < 0.04:  # AdvancedIllnessandFrailty: a frailty device ordered this year
            self.b.add(
                {
                    "resourceType": "DeviceRequest",
                    "status": "active",
                    "intent": "order",
                    "codeCodeableConcept": {"coding": [_coding(*catalog.FRAILTY_DEVICE)]},
                    "subject": _ref(p.id),
                    "authoredOn": some_day().isoformat(),
                    "requester": _ref(p.pcp.id),
                }
            )
        if rng.random() < 0.02:  # AdvancedIllnessandFrailty: lives long term in a nursing home
            when = datetime.combine(some_day(), time(10, 30))
            rid = self.observation(*catalog.HOUSING_STATUS, when, None, None, category="survey")
            housing = self.b.entries[-1]["resource"]
            assert housing["id"] == rid
            housing["valueCodeableConcept"] = {"coding": [_coding(*catalog.LIVES_IN_NURSING_HOME)]}


def _duplicate_bundle(
    p: _Person, rng: random.Random, org_ids: dict[str, str], with_mbi: bool
) -> tuple[dict[str, Any], str, str]:
    """The same person registered again at the other hospital: new MRN system, name variant, same DOB."""
    other = 1 - p.hospital
    prefix = catalog.HOSPITALS[other][3]
    mrn = f"{prefix}{rng.randint(1000000, 9999999)}"
    nickname = catalog.NICKNAMES.get(p.given)
    given = [nickname] if nickname else [p.given]  # a nickname, or the middle initial left out
    variant = f"{given[0]} {p.family}" if nickname else f"{p.given} {p.family} (no middle initial)"
    b = _Bundle(rng)
    dup_id = _uuid(rng)
    if with_mbi:  # registered with the MBI keyed in wrong: the MPI cannot join it, the roster audit must
        p = _Person(**{**asdict_shallow(p), "mbi": mistyped_mbi(p.mbi)})
    patient = _patient_resource(p, given, catalog.HOSPITALS[other][2], mrn, with_mbi)
    patient["identifier"] = [i for i in patient["identifier"] if i["type"]["coding"][0]["code"] != "MA"]
    patient.pop("extension", None)
    patient["generalPractitioner"] = [_ref(p.pcp.id)]
    b.add(patient, dup_id)
    b.add(_practitioner_resource(p.pcp), p.pcp.id)
    _organizations(b, org_ids)
    writer = _PersonWriter(p, rng, org_ids)
    writer.b = b
    writer.p = _Person(**{**asdict_shallow(p), "id": dup_id, "hospital": other})
    day = REFERENCE_DATE - timedelta(days=rng.randint(30, 200))
    start = datetime.combine(day, time(rng.randint(8, 15), 0))
    enc = writer.encounter(
        "AMB", "ambulatory", start, start + timedelta(minutes=20), ("185349003", "Encounter for check up (procedure)")
    )
    for key in p.conditions[:2]:
        writer.condition(key, day - timedelta(days=365 * rng.randint(1, 8)))
    writer.observation("29463-7", "Body weight", start, round(rng.uniform(60, 95), 1), "kg", enc)
    return b.to_json(f"demo-{dup_id}"), dup_id, variant


def asdict_shallow(p: _Person) -> dict[str, Any]:
    return {name: getattr(p, name) for name in p.__dataclass_fields__}


def _organizations(b: _Bundle, org_ids: dict[str, str]) -> None:
    for key, name, *_ in catalog.HOSPITALS:
        b.add({"resourceType": "Organization", "active": True, "name": name}, org_ids[key])
    for practice in catalog.PRACTICES:
        b.add({"resourceType": "Organization", "active": True, "name": practice}, org_ids[practice])


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def generate(n: int, seed: int, out: Path) -> DemoSummary:
    """Write ``n`` bundles (about 2% of them planted duplicates) and ``manifest.json`` into ``out``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("patient-*.json"):
        stale.unlink()
    panel = random.Random(f"{seed}:panel")
    duplicates = max(1, round(n * 0.02)) if n >= 10 else 0
    people = n - duplicates
    plans = _plan_panel(people, panel)
    org_ids = {key: _uuid(panel) for key, *_ in catalog.HOSPITALS}
    org_ids.update({practice: _uuid(panel) for practice in catalog.PRACTICES})
    pcps = [
        _Practitioner(
            _uuid(panel), make_npi(panel), catalog.PCP_GIVEN[i], catalog.PCP_FAMILIES[i], catalog.PRACTICES[i % 3]
        )
        for i in range(len(catalog.PCP_FAMILIES))
    ]
    manifest_rows: list[dict[str, Any]] = []
    persons: list[_Person] = []
    for index, plan in enumerate(plans):
        rng = random.Random(f"{seed}:{index}")
        person = _draw_person(rng, index, plan, pcps)
        writer = _PersonWriter(person, rng, org_ids, random.Random(f"{seed}:{index}:measures"))
        bundle = writer.write()
        name = f"patient-{index + 1:04d}.json"
        (out / name).write_bytes(_dump(bundle))
        persons.append(person)
        manifest_rows.append(
            {
                "file": name,
                "patient_id": person.id,
                "key": f"fhir|{person.id}",
                "mbi": person.mbi,
                "mrn": {"system": catalog.HOSPITALS[person.hospital][2], "value": person.mrn},
                "name": f"{person.given} {person.middle}. {person.family}",
                "birth_date": person.birth.isoformat(),
                "sex": person.sex,
                "language": person.language.code,
                "conditions": person.conditions,
                "pcp_npi": person.pcp.npi,
                "dual": plan.dual,
                "dual_status_code": writer.flags.get("dual_status_code"),
                "homebound": plan.homebound,
                "inactive": plan.inactive,
                "duplicate_of": None,
                "recent_discharge": writer.flags["recent_discharge"],
                "rpm": writer.flags["rpm"],
                "weight_gain": writer.flags["weight_gain"],
            }
        )
    candidates = [p for p in persons if not p.plan.inactive]
    for number, original in enumerate(panel.sample(candidates, min(duplicates, len(candidates)))):
        rng = random.Random(f"{seed}:duplicate:{number}")
        bundle, dup_id, variant = _duplicate_bundle(original, rng, org_ids, with_mbi=number % 2 == 0)
        name = f"patient-{people + number + 1:04d}.json"
        (out / name).write_bytes(_dump(bundle))
        manifest_rows.append(
            {
                "file": name,
                "patient_id": dup_id,
                "key": f"fhir|{dup_id}",
                "mbi": mistyped_mbi(original.mbi) if number % 2 == 0 else None,
                "mbi_keyed_wrong": number % 2 == 0,
                "name": variant,
                "birth_date": original.birth.isoformat(),
                "sex": original.sex,
                "language": original.language.code,
                "duplicate_of": f"fhir|{original.id}",
                "dual": False,
                "homebound": False,
                "inactive": False,
                "recent_discharge": None,
                "rpm": False,
                "weight_gain": False,
            }
        )
    languages: dict[str, int] = {}
    for p in persons:
        languages[p.language.code] = languages.get(p.language.code, 0) + 1
    summary = DemoSummary(
        out=str(out),
        bundles=len(manifest_rows),
        people=people,
        duplicates=len(manifest_rows) - people,
        inactive=sum(p.plan.inactive for p in persons),
        dual=sum(p.plan.dual for p in persons),
        homebound=sum(p.plan.homebound for p in persons),
        recent_discharges=sum(1 for row in manifest_rows if row["recent_discharge"]),
        languages=dict(sorted(languages.items())),
    )
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "seed": seed,
        "patients_requested": n,
        "reference_date": REFERENCE_DATE.isoformat(),
        "summary": {k: v for k, v in asdict(summary).items() if k != "out"},
        "patients": manifest_rows,
    }
    dual_codes = {row["patient_id"]: row.get("dual_status_code") for row in manifest_rows}
    manifest["cclf"] = _write_cclf(out / "cclf", persons, dual_codes, random.Random(f"{seed}:cclf"))
    (out / "manifest.json").write_bytes(_dump(manifest))
    return summary


def _write_cclf(
    folder: Path, persons: list[_Person], dual_codes: dict[str, str | None], rng: random.Random
) -> dict[str, Any]:
    """CCLF8 (demographics) and CCLF9 (MBI crosswalk) for the panel, with planted attribution mismatches.

    Planted: beneficiaries in CCLF8 with no clinical data anywhere in the bundles, and members whose
    MBI changed (CCLF8 carries the new MBI, CCLF9 maps the bundle's old MBI to it).
    """
    from assistant.demo.cclf_writer import write_cclf8, write_cclf9

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("P.A9999.ACO.ZC*"):
        stale.unlink()
    changed = rng.sample(persons, min(len(persons), max(1, round(len(persons) * 0.01))))
    changed_ids = {p.id for p in changed}
    new_mbis = {p.id: make_mbi(rng) for p in changed}
    rows: list[dict[str, Any]] = []
    period_start = date(REFERENCE_DATE.year, 1, 1)

    def row(mbi: str, given: str, middle: str, family: str, birth: date, sex: str, place: tuple[str, ...],
            street: str, dual: str | None) -> dict[str, Any]:  # fmt: skip
        return {
            "BENE_MBI_ID": mbi,
            "BENE_ZIP_CD": place[2],
            "BENE_DOB": birth,
            "BENE_SEX_CD": "2" if sex == "female" else "1",
            "BENE_AGE": REFERENCE_DATE.year - birth.year,
            "BENE_MDCR_STUS_CD": "10",
            "BENE_DUAL_STUS_CD": dual or "NA",
            "BENE_RNG_BGN_DT": period_start,
            "BENE_RNG_END_DT": date(REFERENCE_DATE.year, 12, 31),
            "BENE_1ST_NAME": given.upper(),
            "BENE_MIDL_NAME": middle.upper(),
            "BENE_LAST_NAME": family.upper(),
            "BENE_LINE_1_ADR": street.upper(),
            "GEO_ZIP_PLC_NAME": place[0].upper(),
            "GEO_USPS_STATE_CD": place[1],
            "GEO_ZIP5_CD": place[2],
        }

    for p in persons:
        mbi = new_mbis.get(p.id, p.mbi)
        rows.append(row(mbi, p.given, p.middle, p.family, p.birth, p.sex, p.city, p.street, dual_codes.get(p.id)))
    orphans = []
    for _ in range(max(1, round(len(persons) * 0.01))):
        language = catalog.LANGUAGES[0]
        sex = rng.choice(["female", "male"])
        given = rng.choice(language.female if sex == "female" else language.male)
        family = rng.choice(language.families)
        birth = date(rng.randint(1935, 1959), rng.randint(1, 12), rng.randint(1, 28))
        mbi = make_mbi(rng)
        place = rng.choice(catalog.PLACES)
        rows.append(
            row(mbi, given, "", family, birth, sex, place, f"{rng.randint(2, 998)} {rng.choice(catalog.STREETS)}", None)
        )
        orphans.append({"mbi": mbi, "name": f"{given} {family}", "birth_date": birth.isoformat()})
    rows.sort(key=lambda r: r["BENE_MBI_ID"])
    stamp = f"D{REFERENCE_DATE:%y%m%d}.T0800000"
    cclf8 = write_cclf8(folder / f"P.A9999.ACO.ZC8Y{REFERENCE_DATE:%y}.{stamp}", rows)
    crosswalk = [
        {
            "HICN_MBI_XREF_IND": "M",
            "CRNT_NUM": new_mbis[p.id],
            "PRVS_NUM": p.mbi,
            "PRVS_ID_EFCTV_DT": date(REFERENCE_DATE.year - 3, 1, 1),
            "PRVS_ID_OBSLT_DT": REFERENCE_DATE - timedelta(days=rng.randint(30, 120)),
        }
        for p in changed
    ]
    cclf9 = write_cclf9(folder / f"P.A9999.ACO.ZC9Y{REFERENCE_DATE:%y}.{stamp}", crosswalk)
    return {
        "files": [f"cclf/{cclf8.name}", f"cclf/{cclf9.name}"],
        "beneficiaries": len(rows),
        "attributed_without_clinical_data": orphans,
        "mbi_changes": [
            {"patient_key": f"fhir|{p.id}", "previous_mbi": p.mbi, "current_mbi": new_mbis[p.id]}
            for p in persons
            if p.id in changed_ids
        ],
    }
