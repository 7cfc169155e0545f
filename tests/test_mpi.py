"""Master patient index: rule order, nickname + birth date links, refusals, and a real Synthea bundle."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.records.model import Identifier, ParsedDocument, Patient
from assistant.records.mpi import patient_id_for_key
from assistant.records.names import (
    family_name,
    first_given,
    fold,
    given_names_match,
    normalize_mbi,
    normalize_phone,
)
from assistant.records.store import PatientStore
from assistant.records.tables import MpiLinkTable
from tests.helpers_store import (
    MBI_GARCIA,
    MBI_LEE,
    MBI_ONEIL,
    MBI_ONEIL_OLD,
    MBI_SMITH,
    MBI_SMITH_OTHER,
    cclf8,
    cclf9,
    fhir_oneil,
    prov,
    save,
)

SYNTHEA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "synthea_fhir_r4"


@pytest.fixture
def store(tmp_path: Path) -> PatientStore:
    return PatientStore(f"sqlite:///{tmp_path / 'mpi.db'}")


def links(store: PatientStore) -> dict[tuple[str, str], MpiLinkTable]:
    with store.transaction() as session:
        rows = session.scalars(select(MpiLinkTable)).all()
        for row in rows:
            session.expunge(row)
    return {(row.document_id, row.source_key): row for row in rows}


def hl7_patient(
    given: list[str],
    family: str,
    born: date,
    sex: str,
    mrn: str,
    assigner: str,
    sha: str,
    mbi: str | None = None,
    phone: str | None = None,
) -> ParsedDocument:
    path = f"adt/{sha[:6]}.hl7"
    idents = [Identifier(system="mrn", value=mrn, assigner=assigner)]
    if mbi:
        idents.append(Identifier(system="mbi", value=mbi))
    patient = Patient(
        identifiers=idents,
        given=given,
        family=family,
        birth_date=born,
        sex=sex,
        phone=phone,
        provenance=prov(path, sha, "hl7v2", "PID (line 2)"),
    )
    return ParsedDocument(source_path=path, source_sha256=sha, format="hl7v2", patients=[patient])


# -- names -------------------------------------------------------------------------------------------


def test_name_normalization() -> None:
    assert fold("  José  Núñez-O'Brien ") == "jose nunezobrien"
    assert fold("Yvone889") == "yvone"
    assert family_name("O'Neil") == family_name("ONEIL") == family_name("O\u2019Neil") == "oneil"
    assert family_name("De La Cruz Jr.") == "delacruz"
    assert first_given(["Robert", "J."]) == "robert"
    assert first_given(["Robert J"]) == "robert"
    assert first_given(["J.", "Robert"]) == "robert"
    assert given_names_match("bob", "robert") and given_names_match("peggy", "margaret")
    assert given_names_match("bill", "william") and given_names_match("pat", "patrick")
    assert not given_names_match("robert", "richard")
    assert not given_names_match("bob", "bill")  # two nicknames of different names
    assert normalize_mbi("1eg4-te5-mk73") == MBI_ONEIL
    assert normalize_phone("+1 (617) 555-0142") == normalize_phone("617.555.0142") == "6175550142"
    assert normalize_phone("555-0142") == ""


# -- identifier rules --------------------------------------------------------------------------------


def test_mbi_links_fhir_and_cclf_patients(store: PatientStore) -> None:
    fhir_keys = save(store, fhir_oneil())
    doc = cclf8([(MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False)])
    cclf_keys = save(store, doc)
    pid = fhir_keys["fhir|8f2a3c1e-oneil"]
    assert cclf_keys[f"mbi|{MBI_ONEIL}"] == pid
    assert store.counts()["patients"] == 1

    link = links(store)[(doc.source_sha256, f"mbi|{MBI_ONEIL}")]
    assert link.rule == "mbi" and link.patient_id == pid
    assert link.evidence["matched"] == f"mbi|{MBI_ONEIL}"
    assert link.evidence["locator"] == "line 1"
    first = links(store)[(fhir_oneil().source_sha256, "fhir|8f2a3c1e-oneil")]
    assert first.rule == "new" and first.patient_id == pid == patient_id_for_key("fhir|8f2a3c1e-oneil")
    # the CCLF8 patient entry is kept as its own evidence row; display fields keep the first source's values
    assert [d for d, _p in store.patient_sources(pid)] == sorted([fhir_oneil().source_sha256, doc.source_sha256])
    assert store.get_patient(pid).family == "O'Neil"  # type: ignore[union-attr]


def test_previous_mbi_from_crosswalk_links(store: PatientStore) -> None:
    # a clinical source still carries the beneficiary's old MBI; the CCLF9 crosswalk maps it to the new one
    old_fhir = fhir_oneil().model_copy(deep=True)
    old_fhir.patients[0].identifiers[2] = Identifier(system="mbi", value=MBI_ONEIL_OLD)
    pid = save(store, old_fhir)["fhir|8f2a3c1e-oneil"]
    crosswalk = cclf9([(MBI_ONEIL, MBI_ONEIL_OLD)])
    assert save(store, crosswalk)[f"mbi|{MBI_ONEIL}"] == pid
    link = links(store)[(crosswalk.source_sha256, f"mbi|{MBI_ONEIL}")]
    assert link.rule == "mbi_crosswalk" and link.evidence["matched"] == f"mbi|previous|{MBI_ONEIL_OLD}"
    # both MBIs now resolve, and a later CCLF8 under the new MBI joins the same patient
    assert store.resolve_patient(MBI_ONEIL).id == pid  # type: ignore[union-attr]
    assert store.resolve_patient(MBI_ONEIL_OLD).id == pid  # type: ignore[union-attr]
    assert (
        save(store, cclf8([(MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False)]))[f"mbi|{MBI_ONEIL}"] == pid
    )
    assert store.counts()["patients"] == 1


def test_crosswalk_before_clinical_data(store: PatientStore) -> None:
    pid = save(store, cclf9([(MBI_ONEIL, MBI_ONEIL_OLD)]))[f"mbi|{MBI_ONEIL}"]
    old_fhir = fhir_oneil().model_copy(deep=True)
    old_fhir.patients[0].identifiers[2] = Identifier(system="mbi", value=MBI_ONEIL_OLD)
    assert save(store, old_fhir)["fhir|8f2a3c1e-oneil"] == pid
    assert links(store)[(old_fhir.source_sha256, "fhir|8f2a3c1e-oneil")].rule == "mbi_crosswalk"


def test_mrn_with_assigner_links_and_other_assigner_does_not(store: PatientStore) -> None:
    pid = save(store, fhir_oneil())["fhir|8f2a3c1e-oneil"]
    same = hl7_patient(["ROBERT"], "ONEIL", date(1941, 3, 4), "male", "100234", "HOSP-A", "1" * 64)
    assert save(store, same)["mrn|HOSP-A|100234"] == pid
    assert links(store)[("1" * 64, "mrn|HOSP-A|100234")].rule == "mrn"
    # the same number from another hospital is another patient's MRN; a different birth date keeps them apart
    other = hl7_patient(["Anne"], "Wong", date(1948, 8, 8), "female", "100234", "HOSP-B", "2" * 64)
    assert save(store, other)["mrn|HOSP-B|100234"] != pid
    assert store.counts()["patients"] == 2


# -- name + birth date -------------------------------------------------------------------------------


def test_nickname_and_birth_date_link(store: PatientStore) -> None:
    pid = save(store, fhir_oneil())["fhir|8f2a3c1e-oneil"]
    bob = hl7_patient(["Bob"], "ONEIL", date(1941, 3, 4), "male", "A-77", "HOSP-B", "3" * 64)
    assert save(store, bob)["mrn|HOSP-B|A-77"] == pid
    link = links(store)[("3" * 64, "mrn|HOSP-B|A-77")]
    assert link.rule == "name_dob"
    assert link.evidence["name"] == {"family": "oneil", "given": "bob"}
    assert link.evidence["birth_date"] == "1941-03-04"
    assert "mrn|HOSP-B|A-77" in store.get_patient(pid).identifiers  # type: ignore[union-attr]
    assert store.resolve_patient("mrn|HOSP-B|A-77").id == pid  # type: ignore[union-attr]


def test_accents_and_middle_initial_link(store: PatientStore) -> None:
    first = hl7_patient(["José", "M"], "Núñez", date(1939, 12, 1), "male", "55", "HOSP-A", "4" * 64)
    second = hl7_patient(["JOSE"], "NUNEZ", date(1939, 12, 1), "male", "9001", "HOSP-C", "5" * 64)
    pid = save(store, first)["mrn|HOSP-A|55"]
    assert save(store, second)["mrn|HOSP-C|9001"] == pid


def test_conflicting_mbis_are_not_linked(store: PatientStore) -> None:
    a = hl7_patient(["Margaret"], "Smith", date(1938, 5, 6), "female", "11", "HOSP-A", "6" * 64, mbi=MBI_SMITH)
    b = hl7_patient(["Peggy"], "Smith", date(1938, 5, 6), "female", "22", "HOSP-B", "7" * 64, mbi=MBI_SMITH_OTHER)
    pa = save(store, a)["mrn|HOSP-A|11"]
    pb = save(store, b)["mrn|HOSP-B|22"]
    assert pa != pb
    link = links(store)[("7" * 64, "mrn|HOSP-B|22")]
    assert link.rule == "new"
    assert link.evidence["not_linked"]["candidate"] == pa
    assert "different MBI" in link.evidence["not_linked"]["reasons"][0]


def test_same_hospital_different_mrn_and_different_sex_are_not_linked(store: PatientStore) -> None:
    a = hl7_patient(["Pat"], "Lee", date(1945, 1, 2), "female", "300", "HOSP-A", "8" * 64)
    b = hl7_patient(["Patrick"], "Lee", date(1945, 1, 2), "male", "301", "HOSP-B", "9" * 64)
    c = hl7_patient(["Patricia"], "Lee", date(1945, 1, 2), "female", "302", "HOSP-A", "0" * 64)
    pa, pb, pc = (save(store, d)[d.patients[0].key] for d in (a, b, c))
    assert len({pa, pb, pc}) == 3
    reasons_b = links(store)[("9" * 64, "mrn|HOSP-B|301")].evidence["not_linked"]["reasons"]
    assert any("different sex" in r for r in reasons_b)
    not_linked_c = links(store)[("0" * 64, "mrn|HOSP-A|302")].evidence["not_linked"]
    # Patricia matches Pat by nickname, but HOSP-A gave them different MRNs: a hospital-side duplicate
    # or two people; either way not merged automatically
    assert not_linked_c["candidate"] == pa
    assert any("different MRN from HOSP-A" in r for r in not_linked_c["reasons"])


def test_cclf_beneficiary_with_other_mbi_not_merged_into_name_twin(store: PatientStore) -> None:
    save(store, cclf8([(MBI_GARCIA, "MARIA", "GARCIA", date(1950, 7, 9), "female", False)], sha="b1" * 32))
    keys = save(store, cclf8([(MBI_LEE, "MARIA", "GARCIA", date(1950, 7, 9), "female", False)], sha="b2" * 32))
    assert store.counts()["patients"] == 2
    assert store.resolve_patient(MBI_LEE).id == keys[f"mbi|{MBI_LEE}"]  # type: ignore[union-attr]


def test_ids_are_deterministic_across_stores(tmp_path: Path) -> None:
    one = PatientStore(f"sqlite:///{tmp_path / 'one.db'}")
    two = PatientStore(f"sqlite:///{tmp_path / 'two.db'}")
    docs = [cclf8([(MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False)]), fhir_oneil()]
    ids = [[save(s, d) for d in docs] for s in (one, two)]
    assert ids[0] == ids[1]
    assert ids[0][0][f"mbi|{MBI_ONEIL}"] == patient_id_for_key(f"mbi|{MBI_ONEIL}")


# -- a real Synthea bundle through the FHIR connector ---------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("connectors.fhir") is None, reason="connectors.fhir not written yet")
def test_real_synthea_bundle(store: PatientStore) -> None:
    from connectors import fhir
    from connectors.text import sha256_bytes

    folder = SYNTHEA / "smart-on-fhir_generated-sample-data" / "R4_SYNTHEA"
    if not folder.is_dir():
        pytest.skip("../shared/data is not present beside the checkout")
    path = folder / "Lavelle_Kuvalis_9f0fb46c-c9f5-4c50-a983-9f87bf591ce9.json"
    data = path.read_bytes()
    doc = fhir.parse(path, data)
    sha = sha256_bytes(data)
    keys = save(store, doc)
    pid = keys["fhir|71a8a403-9ec4-4677-96f6-5a1f53c89da0"]
    row = store.resolve_patient("71a8a403-9ec4-4677-96f6-5a1f53c89da0")
    assert row is not None and row.id == pid and row.family == "Kuvalis"
    assert store.resolve_patient("mrn|http://hospital.smarthealthit.org|9f0fb46c-c9f5-4c50-a983-9f87bf591ce9").id == pid  # type: ignore[union-attr]
    records = store.patient_records(pid)
    with_patient = [r for r in doc.records if getattr(r, "patient_key", None)]
    assert len(records) == len(with_patient)
    assert sum(r.kind == "encounter" for r in records) == sum(r.kind == "encounter" for r in doc.records)
    times = [r.start for r in records if r.kind == "encounter"]  # type: ignore[union-attr]
    assert times == sorted(times)
    # directory practitioners without a patient are kept with no patient
    assert store.counts()["records"] == len(doc.records)
    assert store.is_ingested(sha)
    # idempotent on real data too
    with store.transaction() as session:
        assert store.save_document(session, doc, sha) == keys
    assert store.counts()["records"] == len(doc.records)
