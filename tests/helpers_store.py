"""Shared builders and store tests, run against SQLite (test_store.py) and PostgreSQL (test_store_postgres.py).

The test functions below take a ``store_factory`` fixture (a callable returning a fresh, empty
``PatientStore``) that each importing module defines for its database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.records.model import (
    Address,
    Claim,
    Code,
    Condition,
    Coverage,
    DocumentSection,
    Encounter,
    Identifier,
    Medication,
    Observation,
    ParsedDocument,
    Patient,
    Provenance,
)
from assistant.records.mpi import patient_id_for_key
from assistant.records.store import PatientStore
from assistant.records.tables import (
    DocumentTable,
    MpiLinkTable,
    PanelTable,
    PatientIdentifierTable,
    PatientTable,
    RecordTable,
)

StoreFactory = Callable[[], PatientStore]

# Valid per the CMS MBI format (LEAD_FACTS.md section 6); asserted in test_mbis_are_valid.
MBI_ONEIL = "1EG4TE5MK73"
MBI_ONEIL_OLD = "2AC3DE4FG56"
MBI_SMITH = "3HJ5KM6NP78"
MBI_SMITH_OTHER = "4QR7TU8VW90"
MBI_GARCIA = "5XY2AC3DE45"
MBI_NGUYEN = "6EF8GH9JK12"
MBI_WONG = "7MN1PQ2RT34"
MBI_LEE = "8UV3WX4YA56"
MBI_PETROV = "9CD6EF7GH89"
ALL_MBIS = [
    MBI_ONEIL,
    MBI_ONEIL_OLD,
    MBI_SMITH,
    MBI_SMITH_OTHER,
    MBI_GARCIA,
    MBI_NGUYEN,
    MBI_WONG,
    MBI_LEE,
    MBI_PETROV,
]

FHIR_SHA = "a" * 64
CCLF8_SHA = "b" * 64
DEVICE_SHA = "c" * 64
HL7_SHA = "d" * 64


def prov(path: str, sha: str, fmt: str, locator: str, start: int | None = None, end: int | None = None) -> Provenance:
    return Provenance(source_path=path, source_sha256=sha, format=fmt, locator=locator, start=start, end=end)


def fhir_oneil(sha: str = FHIR_SHA) -> ParsedDocument:
    """A FHIR bundle for one Medicare beneficiary with an inpatient stay, as the FHIR connector would emit it."""
    path = "exports/oneil_bundle.json"

    def p(loc: str) -> Provenance:
        return prov(path, sha, "fhir", loc)

    patient = Patient(
        identifiers=[
            Identifier(system="fhir", value="8f2a3c1e-oneil"),
            Identifier(system="mrn", value="100234", assigner="HOSP-A"),
            Identifier(system="mbi", value="1EG4-TE5-MK73"),
        ],
        given=["Robert", "J."],
        family="O'Neil",
        birth_date=date(1941, 3, 4),
        sex="male",
        language="en",
        phone="(617) 555-0142",
        address=Address(lines=["12 Elm St"], city="Worcester", state="MA", postal_code="01602"),
        provenance=p("Bundle.entry[0] Patient/8f2a3c1e-oneil"),
    )
    key = "fhir|8f2a3c1e-oneil"
    records = [
        Coverage(
            patient_key=key,
            payer="medicare",
            member_id=MBI_ONEIL,
            start=date(2006, 3, 1),
            provenance=p("Bundle.entry[1]"),
        ),
        Encounter(
            id="enc-1",
            patient_key=key,
            encounter_class="inpatient",
            type=Code(system="snomed", code="32485007", display="Hospital admission"),
            start=datetime(2026, 10, 20, 14, 5, tzinfo=UTC),
            end=datetime(2026, 10, 24, 11, 0, tzinfo=UTC),
            discharge_disposition="home-health",
            provenance=p("Bundle.entry[2] Encounter/enc-1"),
        ),
        Condition(
            id="cond-1",
            patient_key=key,
            code=Code(system="snomed", code="84114007", display="Heart failure"),
            clinical_status="active",
            onset=date(2019, 5, 2),
            provenance=p("Bundle.entry[3] Condition/cond-1"),
        ),
        Observation(
            id="obs-1",
            patient_key=key,
            code=Code(system="loinc", code="29463-7", display="Body weight"),
            value=81.2,
            unit="kg",
            effective=datetime(2026, 10, 24, 8, 0, tzinfo=UTC),
            provenance=p("Bundle.entry[4] Observation/obs-1"),
        ),
        Medication(
            id="med-1",
            patient_key=key,
            code=Code(system="rxnorm", code="310429", display="furosemide 20 MG Oral Tablet"),
            dose="40 mg by mouth daily",
            status="changed",
            start=date(2026, 10, 24),
            provenance=p("Bundle.entry[5] MedicationRequest/med-1"),
        ),
        DocumentSection(
            id="doc-1#0",
            patient_key=key,
            document_id="doc-1",
            document_title="Discharge Summary",
            document_type="discharge_summary",
            document_date=datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
            title="Hospital Course",
            loinc="8648-8",
            text="Admitted with acute on chronic heart failure; diuresed 4 kg.",
            provenance=p("DocumentReference/doc-1#content[0]"),
        ),
    ]
    return ParsedDocument(source_path=path, source_sha256=sha, format="fhir", patients=[patient], records=records)


def cclf8_row(
    mbi: str, given: str, family: str, born: date, sex: str, line: int, sha: str, path: str, deceased: bool = False
) -> tuple[Patient, Coverage]:
    p = prov(path, sha, "cclf", f"line {line}")
    patient = Patient(
        identifiers=[Identifier(system="mbi", value=mbi)],
        given=[given],
        family=family,
        birth_date=born,
        sex=sex,
        deceased=deceased,
        provenance=p,
    )
    coverage = Coverage(patient_key=f"mbi|{mbi}", payer="medicare", member_id=mbi, dual_status_code="NA", provenance=p)
    return patient, coverage


def cclf8(
    rows: list[tuple[str, str, str, date, str, bool]],
    sha: str = CCLF8_SHA,
    path: str = "cclf/P.A1234.ACO.ZC8Y26.D261101.T0100000",
) -> ParsedDocument:
    patients, records = [], []
    for n, (mbi, given, family, born, sex, deceased) in enumerate(rows, start=1):
        patient, coverage = cclf8_row(mbi, given, family, born, sex, n, sha, path, deceased)
        patients.append(patient)
        records.append(coverage)
    return ParsedDocument(source_path=path, source_sha256=sha, format="cclf", patients=patients, records=records)


def cclf9(
    pairs: list[tuple[str, str]], sha: str = "9" * 64, path: str = "cclf/P.A1234.ACO.ZC9Y26.D261101.T0100000"
) -> ParsedDocument:
    patients = [
        Patient(
            identifiers=[Identifier(system="mbi", value=new), Identifier(system="mbi", value=old, assigner="previous")],
            provenance=prov(path, sha, "cclf", f"line {n}"),
        )
        for n, (new, old) in enumerate(pairs, start=1)
    ]
    return ParsedDocument(source_path=path, source_sha256=sha, format="cclf", patients=patients)


def device_readings(patient_key: str, sha: str = DEVICE_SHA) -> ParsedDocument:
    """Home scale readings that name the patient only by key, before any document describes the patient."""
    path = "devices/scale_export.csv"
    records = [
        Observation(
            id=f"scale-{day}",
            patient_key=patient_key,
            code=Code(system="loinc", code="29463-7", display="Body weight"),
            value=80.0 + day / 10,
            unit="kg",
            effective=datetime(2026, 11, day, 7, 30, tzinfo=UTC),
            device="Withings Body+",
            provenance=prov(path, sha, "device-csv", f"line {day + 1}"),
        )
        for day in (1, 2, 3)
    ]
    return ParsedDocument(source_path=path, source_sha256=sha, format="device-csv", records=records)


def claims(patient_key: str, sha: str, from_date: date) -> ParsedDocument:
    path = "cclf/P.A1234.ACO.ZC5Y26.D261101.T0100000"
    claim = Claim(
        id="clm-55501",
        patient_key=patient_key,
        claim_type="71",
        file_type="CCLF5",
        from_date=from_date,
        thru_date=from_date,
        provider_npi="1234567893",
        diagnoses=[Code(system="icd10", code="I50.9")],
        procedures=[Code(system="hcpcs", code="99214")],
        provenance=prov(path, sha, "cclf", "line 1"),
    )
    return ParsedDocument(source_path=path, source_sha256=sha, format="cclf", records=[claim])


def snapshot(store: PatientStore, volatile: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the store's tables, in key order; timestamps dropped unless ``volatile``."""
    drop = set() if volatile else {"created_at", "updated_at", "ingested_at"}
    out: dict[str, list[tuple[Any, ...]]] = {}
    tables = [PatientTable, PatientIdentifierTable, DocumentTable, RecordTable, PanelTable, MpiLinkTable]
    with store.transaction() as session:
        for table in tables:
            columns = [c for c in table.__table__.columns if c.name not in drop]
            order = list(table.__table__.primary_key.columns)
            if table is PatientIdentifierTable:
                order = [table.system, table.assigner, table.value]
            if table is MpiLinkTable:
                order = [table.document_id, table.source_key]
            rows = session.execute(select(*columns).order_by(*order)).all()
            skip_id = table in (PatientIdentifierTable, MpiLinkTable) and not volatile
            out[table.__tablename__] = [
                tuple(v for c, v in zip(columns, row, strict=True) if not (skip_id and c.name == "id")) for row in rows
            ]
    return out


def save(store: PatientStore, doc: ParsedDocument) -> dict[str, str]:
    with store.transaction() as session:
        return store.save_document(session, doc, doc.source_sha256)


# --------------------------------------------------------------------------------------------------
# Shared tests (collected in each module that imports them)
# --------------------------------------------------------------------------------------------------


def test_save_and_read_back(store_factory: StoreFactory) -> None:
    store = store_factory()
    doc = fhir_oneil()
    keys = save(store, doc)
    patient_id = keys["fhir|8f2a3c1e-oneil"]
    assert patient_id == patient_id_for_key("fhir|8f2a3c1e-oneil")
    assert keys["mbi|1EG4-TE5-MK73"] == keys["mbi|1EG4TE5MK73"] == keys["mrn|HOSP-A|100234"] == patient_id
    assert store.counts()["patients"] == 1
    assert store.counts()["records"] == len(doc.records)
    assert store.is_ingested(FHIR_SHA)
    assert not store.is_ingested("f" * 64)

    records = store.patient_records(patient_id)
    assert sorted(r.model_dump_json() for r in records) == sorted(r.model_dump_json() for r in doc.records)
    dated = [r.kind for r in records]
    # oldest first: coverage 2006, condition 2019, encounter 2026-10-20, then the 10-24 records
    assert dated[:3] == ["coverage", "condition", "encounter"]
    only = store.patient_records(patient_id, kinds={"medication", "section"})
    assert [r.kind for r in only] == ["medication", "section"]
    assert only[1].text.startswith("Admitted with acute on chronic heart failure")  # type: ignore[union-attr]

    row = store.get_patient(patient_id)
    assert row is not None
    assert row.name == "Robert J. O'Neil"
    assert row.mbi == MBI_ONEIL
    assert row.birth_date == date(1941, 3, 4)
    assert "mrn|HOSP-A|100234" in row.identifiers
    sources = store.patient_sources(patient_id)
    assert [d for d, _p in sources] == [FHIR_SHA]
    assert store.document_patient_ids(FHIR_SHA) == {patient_id}


def test_transactional_failure_leaves_nothing(store_factory: StoreFactory) -> None:
    store = store_factory()
    good = fhir_oneil()
    # The third record names its patient with a malformed key: the save fails after the patient,
    # its identifiers, an MPI link and two records were already written in the transaction.
    bad_record = good.records[2].model_copy(update={"patient_key": "no-system-here"})
    bad = good.model_copy(update={"records": [*good.records[:2], bad_record, *good.records[3:]]})
    with pytest.raises(ValueError, match="not a patient key"):
        save(store, bad)
    assert store.counts() == {"patients": 0, "documents": 0, "records": 0, "identifiers": 0}
    assert not store.is_ingested(FHIR_SHA)
    assert all(not rows for rows in snapshot(store).values())

    # an exception raised by the caller after a successful save also rolls the document back
    with pytest.raises(RuntimeError):
        with store.transaction() as session:
            store.save_document(session, good, FHIR_SHA)
            raise RuntimeError("chunk embedding failed")
    assert all(not rows for rows in snapshot(store).values())

    save(store, good)
    assert store.counts()["records"] == len(good.records)


def test_saving_twice_gives_identical_rows(store_factory: StoreFactory) -> None:
    store = store_factory()
    docs = [fhir_oneil(), cclf8([(MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False)])]
    for doc in docs:
        save(store, doc)
    first = snapshot(store)
    for doc in docs:
        save(store, doc)
    assert snapshot(store) == first


def test_stub_then_enrich(store_factory: StoreFactory) -> None:
    store = store_factory()
    keys = save(store, device_readings("mbi|1eg4-te5-mk73"))
    stub_id = keys["mbi|1eg4-te5-mk73"]
    stub = store.get_patient(stub_id)
    assert stub is not None and stub.stub and stub.family is None
    assert stub.identifiers == (f"mbi|{MBI_ONEIL}",)

    keys = save(store, fhir_oneil())
    assert keys["fhir|8f2a3c1e-oneil"] == stub_id
    enriched = store.get_patient(stub_id)
    assert enriched is not None and not enriched.stub
    assert enriched.family == "O'Neil" and enriched.birth_date == date(1941, 3, 4) and enriched.phone
    assert {"fhir|8f2a3c1e-oneil", "mrn|HOSP-A|100234", f"mbi|{MBI_ONEIL}"} <= set(enriched.identifiers)
    kinds = [r.kind for r in store.patient_records(stub_id, kinds={"observation"})]
    assert kinds == ["observation"] * 4  # three scale readings and the bundle's weight
    assert store.counts()["patients"] == 1


def test_resolve_by_every_id_kind(store_factory: StoreFactory) -> None:
    store = store_factory()
    keys = save(store, fhir_oneil())
    pid = keys["fhir|8f2a3c1e-oneil"]
    for ref in [
        pid,
        "8f2a3c1e-oneil",
        "fhir|8f2a3c1e-oneil",
        MBI_ONEIL,
        "1eg4-te5-mk73",
        " 1EG4 TE5 MK73 ",
        f"mbi|{MBI_ONEIL}",
        "mrn|HOSP-A|100234",
        "100234",
    ]:
        row = store.resolve_patient(ref)
        assert row is not None and row.id == pid, ref
    assert store.resolve_patient("mrn|HOSP-B|100234") is None
    assert store.resolve_patient("nobody") is None
    assert store.resolve_patient("") is None

    # a second source whose FHIR Patient.id equals the first patient's MRN value: the bare id is ambiguous
    other = Patient(
        identifiers=[Identifier(system="fhir", value="100234"), Identifier(system="mbi", value=MBI_GARCIA)],
        given=["Maria"],
        family="Garcia",
        birth_date=date(1950, 7, 9),
        sex="female",
        language="es",
        provenance=prov("exports/garcia.json", "e" * 64, "fhir", "Patient/100234"),
    )
    keys2 = save(
        store,
        ParsedDocument(source_path="exports/garcia.json", source_sha256="e" * 64, format="fhir", patients=[other]),
    )
    garcia = keys2["fhir|100234"]
    assert sorted(store.find_patient_ids("100234")) == sorted([pid, garcia])
    assert store.resolve_patient("100234") is None
    got = store.resolve_patient("fhir|100234")
    assert got is not None and got.id == garcia and got.language == "es"


def test_panels_and_access(store_factory: StoreFactory) -> None:
    store = store_factory()
    oneil = save(store, fhir_oneil())["fhir|8f2a3c1e-oneil"]
    others = save(
        store,
        cclf8(
            [
                (MBI_GARCIA, "MARIA", "GARCIA", date(1950, 7, 9), "female", False),
                (MBI_NGUYEN, "LAN", "NGUYEN", date(1944, 2, 1), "female", False),
            ]
        ),
    )
    garcia, nguyen = others[f"mbi|{MBI_GARCIA}"], others[f"mbi|{MBI_NGUYEN}"]

    assert store.assign_panel("rn.alvarez", [oneil, garcia]) == 2
    assert store.assign_panel("rn.alvarez", [oneil]) == 0
    assert store.assigned_patient_ids("rn.alvarez") == {oneil, garcia}
    assert store.in_panel("rn.alvarez", oneil)
    assert not store.in_panel("rn.alvarez", nguyen)
    assert not store.in_panel("chw.kim", oneil)
    assert not store.in_panel("rn.alvarez", "pt-does-not-exist")
    with pytest.raises(KeyError):
        store.assign_panel("rn.alvarez", ["pt-does-not-exist"])

    panel = store.list_patients(limit=10, user_id="rn.alvarez")
    assert [p.id for p in panel] == [garcia, oneil]  # ordered by family name
    assert len(store.list_patients(limit=10)) == 3
    assert [p.id for p in store.list_patients(limit=1, offset=1)] == [nguyen]
    store.unassign_panel("rn.alvarez", [garcia])
    assert store.assigned_patient_ids("rn.alvarez") == {oneil}


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from tests.helpers_store import crash_documents
    from assistant.records.store import PatientStore
    store = PatientStore(sys.argv[1])
    for n, doc in enumerate(crash_documents()):
        if store.is_ingested(doc.source_sha256):
            continue
        with store.transaction() as session:
            store.save_document(session, doc, doc.source_sha256)
            if n == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)
    """
)


def crash_documents() -> list[ParsedDocument]:
    return [
        device_readings("mbi|1EG4TE5MK73"),
        cclf8(
            [
                (MBI_GARCIA, "MARIA", "GARCIA", date(1950, 7, 9), "female", False),
                (MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False),
            ]
        ),
        fhir_oneil(),
        cclf9([(MBI_LEE, MBI_GARCIA)]),
    ]


def ingest_all(store: PatientStore) -> int:
    done = 0
    for doc in crash_documents():
        if store.is_ingested(doc.source_sha256):
            continue
        save(store, doc)
        done += 1
    return done


def test_kill_9_mid_document_then_rerun_equals_clean_run(store_factory: StoreFactory) -> None:
    crashed, clean = store_factory(), store_factory()
    repo_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo_root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, crashed.url, "2"], env=env, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    # documents 0 and 1 committed; document 2 was mid-transaction when the process died
    assert crashed.is_ingested(DEVICE_SHA) and crashed.is_ingested(CCLF8_SHA)
    assert not crashed.is_ingested(FHIR_SHA)
    assert crashed.counts()["documents"] == 2

    assert ingest_all(crashed) == 2
    assert ingest_all(crashed) == 0  # idempotent: everything is skipped now
    assert ingest_all(clean) == 4
    assert snapshot(crashed, volatile=False) == snapshot(clean, volatile=False)
