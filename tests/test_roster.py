"""Roster audit on a small panel with planted problems, through the library, the CLI and the HTTP API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.context import AppContext, open_context
from assistant.demo.generator import generate
from assistant.records.model import Code, Coverage, Encounter, Identifier, ParsedDocument, Patient
from assistant.records.roster import RosterReport, audit, one_year_before
from assistant.records.store import PatientStore
from assistant.settings import REPO_ROOT, Settings
from connectors import cclf, registry
from connectors.text import sha256_bytes
from tests.helpers_auth import bearer
from tests.helpers_store import (
    MBI_GARCIA,
    MBI_LEE,
    MBI_ONEIL,
    MBI_PETROV,
    MBI_SMITH,
    MBI_SMITH_OTHER,
    cclf8,
    cclf9,
    fhir_oneil,
    prov,
    save,
)

AS_OF = date(2026, 11, 15)
MBI_GARCIA_OLD = "2MN5PQ6RT78"
MBI_BROWN = "3CD4EF5GH67"
MBI_CARTER = "4JK6MN7PQ89"


def clinical(
    sha: str,
    given: list[str],
    family: str,
    born: date,
    sex: str,
    idents: list[Identifier],
    seen: date,
    *,
    medicare: bool = False,
    phone: str | None = None,
    fmt: str = "hl7v2",
) -> ParsedDocument:
    """One clinical source describing a patient with one encounter (an ADT message or a FHIR bundle)."""
    path = f"{fmt}/{family.lower()}_{sha[:4]}.{'hl7' if fmt == 'hl7v2' else 'json'}"
    patient = Patient(
        identifiers=idents,
        given=given,
        family=family,
        birth_date=born,
        sex=sex,
        phone=phone,
        provenance=prov(path, sha, fmt, "PID (line 2)" if fmt == "hl7v2" else "Bundle.entry[0]"),
    )
    key = patient.key
    records: list = [
        Encounter(
            id=f"enc-{sha[:4]}",
            patient_key=key,
            encounter_class="office",
            type=Code(system="cpt", code="99214", display="Office visit"),
            start=datetime(seen.year, seen.month, seen.day, 9, 30, tzinfo=UTC),
            provenance=prov(path, sha, fmt, f"Encounter/enc-{sha[:4]}" if fmt == "fhir" else "PV1 (line 3)"),
        )
    ]
    if medicare:
        records.append(
            Coverage(
                patient_key=key, payer="medicare", start=date(2010, 1, 1), provenance=prov(path, sha, fmt, "Coverage/1")
            )
        )
    return ParsedDocument(source_path=path, source_sha256=sha, format=fmt, patients=[patient], records=records)


def mrn(value: str, assigner: str) -> Identifier:
    return Identifier(system="mrn", value=value, assigner=assigner)


def mbi(value: str) -> Identifier:
    return Identifier(system="mbi", value=value)


def load_panel(store: PatientStore) -> dict[str, str]:
    """Plant one clean patient and one example of every roster problem; return name -> patient id."""
    ids: dict[str, str] = {}
    ids["oneil"] = save(store, fhir_oneil())["fhir|8f2a3c1e-oneil"]
    fhir_id = Identifier(system="fhir", value="garcia-1")
    people = [
        # name, sha, given, family, born, sex, identifiers, last seen, extra
        ("garcia", "a1", ["Maria"], "Garcia", date(1950, 7, 9), "female", [fhir_id, mbi(MBI_GARCIA_OLD)],
         date(2026, 8, 2), {"medicare": True, "fmt": "fhir"}),
        ("smith_a", "a2", ["Margaret"], "Smith", date(1938, 5, 6), "female", [mrn("11", "HOSP-A"), mbi(MBI_SMITH)],
         date(2026, 9, 1), {}),
        ("smith_b", "a3", ["Peggy"], "Smith", date(1938, 5, 6), "female", [mrn("22", "HOSP-B"), mbi(MBI_SMITH_OTHER)],
         date(2026, 9, 3), {}),
        ("nguyen_a", "a4", ["Lan"], "Nguyen", date(1944, 2, 1), "female", [mrn("31", "HOSP-A")],
         date(2026, 10, 1), {"phone": "508-555-0199"}),
        ("nguyen_b", "a5", ["Thi", "Lan"], "Tran", date(1944, 2, 1), "female", [mrn("7781", "HOSP-B")],
         date(2026, 10, 5), {"phone": "+1 (508) 555-0199"}),
        ("wong_a", "a6", ["Anne"], "Wong", date(1948, 8, 3), "female", [mrn("41", "HOSP-A")], date(2026, 7, 1), {}),
        ("wong_b", "a7", ["Anne"], "Wong", date(1948, 3, 8), "female", [mrn("42", "HOSP-B")], date(2026, 7, 9), {}),
        ("petrov", "a8", ["Ivan"], "Petrov", date(1936, 11, 30), "male",
         [Identifier(system="fhir", value="petrov-1"), mbi(MBI_PETROV)], date(2025, 6, 1),
         {"medicare": True, "fmt": "fhir"}),
        ("carter", "a9", ["James"], "Carter", date(1947, 4, 12), "male",
         [Identifier(system="fhir", value="carter-1"), mbi(MBI_CARTER)], date(2026, 10, 30),
         {"medicare": True, "fmt": "fhir"}),
    ]  # fmt: skip
    for name, sha, given, family, born, sex, idents, seen, extra in people:
        doc = clinical(sha * 32, given, family, born, sex, idents, seen, **extra)
        ids[name] = save(store, doc)[doc.patients[0].key]
    roster = cclf8(
        [
            (MBI_ONEIL, "ROBERT", "ONEIL", date(1941, 3, 4), "male", False),
            (MBI_GARCIA, "MARIA", "GARCIA", date(1950, 7, 9), "female", False),
            (MBI_PETROV, "IVAN", "PETROV", date(1936, 11, 30), "male", False),
            (MBI_LEE, "DOROTHY", "LEE", date(1933, 1, 20), "female", False),
            (MBI_BROWN, "HAROLD", "BROWN", date(1930, 6, 14), "male", True),
        ]
    )
    keys = save(store, cclf9([(MBI_GARCIA, MBI_GARCIA_OLD)]))
    assert keys[f"mbi|{MBI_GARCIA}"] == ids["garcia"]
    keys = save(store, roster)
    assert keys[f"mbi|{MBI_ONEIL}"] == ids["oneil"] and keys[f"mbi|{MBI_GARCIA}"] == ids["garcia"]
    ids["lee"] = keys[f"mbi|{MBI_LEE}"]
    ids["brown"] = keys[f"mbi|{MBI_BROWN}"]
    return ids


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PatientStore, dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("roster-data")
    store = PatientStore(Settings(data_dir=data_dir).resolved_database_url)
    return data_dir, store, load_panel(store)


@pytest.fixture(scope="module")
def report(panel: tuple[Path, PatientStore, dict[str, str]]) -> RosterReport:
    return audit(panel[1], AS_OF)


def pairs(report: RosterReport, kind: str) -> dict[frozenset[str], list]:
    found: dict[frozenset[str], list] = {}
    for finding in report.by_kind(kind):
        found.setdefault(frozenset(finding.patients), []).append(finding)
    return found


def test_likely_duplicates(report: RosterReport, panel) -> None:  # type: ignore[no-untyped-def]
    ids = panel[2]
    dups = pairs(report, "likely_duplicate")
    assert set(dups) == {
        frozenset({ids["smith_a"], ids["smith_b"]}),
        frozenset({ids["nguyen_a"], ids["nguyen_b"]}),
        frozenset({ids["wong_a"], ids["wong_b"]}),
    }
    (smith,) = dups[frozenset({ids["smith_a"], ids["smith_b"]})]
    assert "nickname" in smith.summary and "conflicting MBIs" in smith.summary
    assert smith.score == pytest.approx(0.6)
    assert {(e.source_path, e.locator) for e in smith.evidence} == {
        ("hl7v2/smith_a2a2.hl7", "PID (line 2)"),
        ("hl7v2/smith_a3a3.hl7", "PID (line 2)"),
    }
    (phone,) = dups[frozenset({ids["nguyen_a"], ids["nguyen_b"]})]
    assert "same phone number and birth date" in phone.summary and phone.score == pytest.approx(0.7)
    (wong,) = dups[frozenset({ids["wong_a"], ids["wong_b"]})]
    assert "transposition" in wong.summary and wong.score == pytest.approx(0.6)
    assert all(
        e.document_id and len(e.document_id) == 64 for f in report.by_kind("likely_duplicate") for e in f.evidence
    )


def test_inactive_members(report: RosterReport, panel) -> None:  # type: ignore[no-untyped-def]
    ids = panel[2]
    inactive = {f.patients[0]: f for f in report.by_kind("inactive_12m")}
    # Brown is deceased (reported as an attribution problem instead); everyone else was seen this year
    assert set(inactive) == {ids["petrov"], ids["lee"]}
    petrov = inactive[ids["petrov"]]
    assert "last activity 2025-06-01 (encounter)" in petrov.summary
    (ev,) = petrov.evidence
    assert ev.locator == "Encounter/enc-a8a8" and ev.source_path == "fhir/petrov_a8a8.json" and ev.kind == "encounter"
    lee = inactive[ids["lee"]]
    assert "no dated encounter" in lee.summary
    assert [(e.locator, e.format) for e in lee.evidence] == [("line 4", "cclf")]
    # the window is exactly 12 months: a visit on the cut-off day counts as activity
    assert one_year_before(AS_OF) == date(2025, 11, 15)
    assert one_year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    later = audit(panel[1], date(2026, 6, 1))
    assert ids["petrov"] not in {f.patients[0] for f in later.by_kind("inactive_12m")}


def test_mbi_changes(report: RosterReport, panel) -> None:  # type: ignore[no-untyped-def]
    ids = panel[2]
    (change,) = report.by_kind("mbi_changed")
    assert change.patients == [ids["garcia"]]
    assert f"from {MBI_GARCIA_OLD} to {MBI_GARCIA}" in change.summary
    assert "still uses the previous MBI" in change.summary
    details = {(e.source_path, e.locator, e.detail) for e in change.evidence}
    assert ("cclf/P.A1234.ACO.ZC9Y26.D261101.T0100000", "line 1", "MBI crosswalk entry") in details
    assert ("fhir/garcia_a1a1.json", "Bundle.entry[0]", "this source still uses the previous MBI") in details


def test_attribution_mismatches(report: RosterReport, panel) -> None:  # type: ignore[no-untyped-def]
    ids = panel[2]
    found = {(f.patients[0], f.summary.split(") ", 1)[1]) for f in report.by_kind("attribution_mismatch")}
    assert found == {
        (ids["lee"], "is attributed in CCLF8 but has no clinical data (FHIR, C-CDA, HL7, notes)"),
        (ids["brown"], "is attributed in CCLF8 but has no clinical data (FHIR, C-CDA, HL7, notes)"),
        (ids["brown"], "is deceased but still attributed in CCLF8"),
        (ids["carter"], "has Medicare coverage and clinical data but is not in any loaded CCLF8"),
    }
    carter = next(f for f in report.by_kind("attribution_mismatch") if f.patients == [ids["carter"]])
    assert [(e.kind, e.locator, e.source_path) for e in carter.evidence] == [
        ("coverage", "Coverage/1", "fhir/carter_a9a9.json")
    ]
    deceased = next(f for f in report.by_kind("attribution_mismatch") if "deceased" in f.summary)
    assert {e.detail for e in deceased.evidence} == {"source states deceased", "CCLF8 beneficiary row"}
    assert all(e.locator == "line 5" for e in deceased.evidence)


def test_clean_patient_has_no_findings_and_counts_add_up(report: RosterReport, panel) -> None:  # type: ignore[no-untyped-def]
    ids = panel[2]
    assert all(ids["oneil"] not in f.patients for f in report.findings)
    assert report.counts == {
        "patients": 12,
        "likely_duplicate": 3,
        "attribution_mismatch": 4,
        "mbi_changed": 1,
        "inactive_12m": 2,
    }
    body = report.to_dict()
    assert body["schema"] == "caretrail.roster_audit/1" and body["as_of"] == "2026-11-15"
    assert json.loads(json.dumps(body)) == body


def test_no_cclf8_means_no_attribution_findings(tmp_path: Path) -> None:
    store = PatientStore(f"sqlite:///{tmp_path / 'clinical-only.db'}")
    save(store, fhir_oneil())
    assert audit(store, AS_OF).by_kind("attribution_mismatch") == []


def _cli(args: list[str], data_dir: Path, role: str = "analyst") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(data_dir), "COLUMNS": "240", "CARETRAIL_CLI_ROLE": role}
    env.pop("CARETRAIL_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow  # a CLI subprocess
def test_cli_roster_audit(panel, report: RosterReport) -> None:  # type: ignore[no-untyped-def]
    data_dir = panel[0]
    done = _cli(["roster", "audit", "--as-of", "2026-11-15", "--json"], data_dir)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    expected = report.to_dict()
    body.pop("generated_at"), expected.pop("generated_at")
    assert body.pop("audit_id")  # the CLI's read of the roster is audited like the API's
    assert body == expected

    table = _cli(["roster", "audit", "--as-of", "2026-11-15"], data_dir)
    assert table.returncode == 0, table.stderr
    assert "3 likely duplicates, 4 attribution mismatches, 1 MBI changes, 2 inactive" in table.stdout
    assert "likely_duplicate" in table.stdout and "P.A1234.ACO.ZC9Y26" in table.stdout

    bad = _cli(["roster", "audit", "--as-of", "15/11/2026"], data_dir)
    assert bad.returncode == 2 and "--as-of must be a date" in bad.stderr

    # The CLI's default operator is a care manager: the roster lists every beneficiary, so it is refused.
    refused = _cli(["roster", "audit", "--json"], data_dir, role="care_manager")
    assert refused.returncode == 2 and "care_manager role may not use roster.audit" in refused.stderr


@pytest.fixture(scope="module")
def client(panel):  # type: ignore[no-untyped-def]
    ctx: AppContext = open_context(Settings(data_dir=panel[0]))
    app = create_app(ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: ctx
    with TestClient(app) as test_client:
        test_client.ctx = ctx  # type: ignore[attr-defined]
        yield test_client


def test_api_patient_lookup_by_any_id_and_panel_rules(client: TestClient, panel) -> None:  # type: ignore[no-untyped-def]
    store, ids = panel[1], panel[2]
    admin = bearer(client.ctx, "admin", "steward")  # type: ignore[attr-defined]
    for ref in [ids["oneil"], "8f2a3c1e-oneil", "1eg4-te5-mk73", "mrn|HOSP-A|100234"]:
        got = client.get(f"/v1/patients/{ref}", headers=admin)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["patient"]["id"] == ids["oneil"] and body["patient"]["mbi"] == MBI_ONEIL
        assert body["record_counts"]["encounter"] == 1 and body["audit_id"]
        assert {s["format"] for s in body["sources"]} == {"fhir", "cclf"}
    missing = client.get("/v1/patients/nobody-here", headers=admin)
    assert missing.status_code == 404 and "no patient matches" in missing.json()["detail"]

    nurse = bearer(client.ctx, "care_manager", "rn.alvarez")  # type: ignore[attr-defined]
    refused = client.get(f"/v1/patients/{MBI_PETROV}", headers=nurse)
    assert refused.status_code == 403 and "not on your panel" in refused.json()["detail"]
    store.assign_panel("rn.alvarez", [ids["petrov"]])
    assert client.get(f"/v1/patients/{MBI_PETROV}", headers=nurse).status_code == 200
    assert client.get(f"/v1/patients/{MBI_ONEIL}", headers=nurse).status_code == 403


def test_api_ambiguous_reference(client: TestClient, panel) -> None:  # type: ignore[no-untyped-def]
    store = panel[1]
    # an ADT feed whose MRN value equals another source's FHIR Patient.id
    save(store, clinical("b9" * 32, ["Rosa"], "Diaz", date(1952, 1, 1), "female", [mrn("garcia-1", "HOSP-C")],
                         date(2026, 11, 1)))  # fmt: skip
    admin = bearer(client.ctx, "admin", "steward")  # type: ignore[attr-defined]
    got = client.get("/v1/patients/garcia-1", headers=admin)
    assert got.status_code == 409 and "fhir|garcia-1" in got.json()["detail"]
    assert client.get("/v1/patients/fhir|garcia-1", headers=admin).json()["patient"]["family"] == "Garcia"


def test_api_roster_audit_needs_roster_role(client: TestClient) -> None:
    ctx = client.ctx  # type: ignore[attr-defined]
    denied = client.get("/v1/roster/audit", headers=bearer(ctx, "care_manager", "cm"))
    assert denied.status_code == 403
    got = client.get("/v1/roster/audit", params={"as_of": "2026-11-15"}, headers=bearer(ctx, "analyst", "qa"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["schema"] == "caretrail.roster_audit/1" and body["audit_id"]
    assert body["counts"]["likely_duplicate"] >= 3
    steward = bearer(ctx, "admin", "steward")
    assert client.get("/v1/roster/audit", params={"as_of": "1900-01-01"}, headers=steward).status_code == 200
    # A reference day outside 1900-2199 is refused by the one service check every as_of goes through.
    assert client.get("/v1/roster/audit", params={"as_of": "0001-01-01"}, headers=steward).status_code == 400


@pytest.mark.slow  # generates and stores a 60-person demo panel
def test_demo_population_end_to_end(tmp_path: Path) -> None:
    """The deterministic demo panel through the real connectors: planted problems come out of the audit."""
    out = tmp_path / "demo"
    generate(60, 7, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    store = PatientStore(f"sqlite:///{tmp_path / 'demo.db'}")
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    files = [p for p in files if not p.name.endswith(".meta.json")]
    for path in files:
        data = path.read_bytes()
        connector = registry.detect(path, data[:8192])
        assert connector is not None, path
        with store.transaction() as session:
            store.save_document(session, connector.parse(path, data), sha256_bytes(data))

    people = manifest["patients"]
    by_key = {p["key"]: p for p in people}
    ids = {p["key"]: store.resolve_patient(p["key"]).id for p in people}  # type: ignore[union-attr]
    # Planted duplicates: one registered with a mistyped MBI (the MPI must NOT join it: the MBIs conflict),
    # one with no MBI (joined on name + birth date). The roster audit must surface both for a person to confirm.
    duplicates = [p for p in people if p.get("duplicate_of")]
    assert duplicates
    keyed_wrong = [d for d in duplicates if d.get("mbi_keyed_wrong")]
    no_mbi = [d for d in duplicates if not d.get("mbi_keyed_wrong")]
    for dup in keyed_wrong:
        assert ids[dup["key"]] != ids[dup["duplicate_of"]]
    for dup in no_mbi:
        assert ids[dup["key"]] == ids[dup["duplicate_of"]]
    assert len(set(ids.values())) == len(people) - len(no_mbi)

    report = audit(store, date.fromisoformat(manifest["reference_date"]))
    reported = [set(f.patients) for f in report.by_kind("likely_duplicate")]
    for dup in keyed_wrong:
        assert {ids[dup["key"]], ids[dup["duplicate_of"]]} in reported, dup
    for dup in no_mbi:
        assert {ids[dup["key"]]} in reported, dup
    inactive = {f.patients[0] for f in report.by_kind("inactive_12m")}
    planted = {ids[k] for k, p in by_key.items() if p.get("inactive")}
    assert planted and planted <= inactive

    # the demo's CCLF8/CCLF9 files, always written, with planted attribution problems
    orphans = manifest["cclf"]["attributed_without_clinical_data"]
    assert store.counts()["patients"] == len(people) - len(no_mbi) + len(orphans)
    assert inactive == planted | {store.resolve_patient(o["mbi"]).id for o in orphans}  # type: ignore[union-attr]
    mismatched = {f.patients[0] for f in report.by_kind("attribution_mismatch") if "no clinical data" in f.summary}
    assert mismatched == {store.resolve_patient(o["mbi"]).id for o in orphans}  # type: ignore[union-attr]
    changed = {f.patients[0] for f in report.by_kind("mbi_changed")}
    assert changed == {ids[c["patient_key"]] for c in manifest["cclf"]["mbi_changes"]}
    for change in manifest["cclf"]["mbi_changes"]:
        assert store.resolve_patient(change["current_mbi"]).id == ids[change["patient_key"]]  # type: ignore[union-attr]
    for finding in report.by_kind("inactive_12m"):
        assert all(e.source_path and e.locator for e in finding.evidence)


def test_real_bcda_cclf_sample(tmp_path: Path) -> None:
    """CMS's BCDA test CCLF8/CCLF9 files: every beneficiary lacks clinical data; crosswalk chains are surfaced."""
    folder = (
        Path(__file__).resolve().parents[1].parent
        / "shared" / "data" / "cms_cclf_bcda" / "CMSgov_bcda-app" / "cclf_archive_valid_A0001_extracted"
    )  # fmt: skip
    if not folder.is_dir():
        pytest.skip("../shared/data is not present beside the checkout")
    store = PatientStore(f"sqlite:///{tmp_path / 'bcda.db'}")
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        with store.transaction() as session:
            store.save_document(session, cclf.parse(path, data), sha256_bytes(data))
    report = audit(store, date(2018, 11, 20))

    no_clinical = [f for f in report.by_kind("attribution_mismatch") if "no clinical data" in f.summary]
    assert len(no_clinical) == 6  # six distinct MBIs in ZC8 (LnameSix appears on two lines)
    six = next(f for f in no_clinical if "LnameSix" in f.summary)
    assert [e.locator for e in six.evidence] == ["line 6", "line 7"]

    four = store.resolve_patient("mbi|1A69B98CD33")
    assert four is None  # CD33 is Four's current MBI and, per the crosswalk, Five's previous one: ambiguous
    changed = {f.summary.split(": ", 1)[1] for f in report.by_kind("mbi_changed")}
    assert "MBI changed from 1A69B98CD33 to 1A69B98CD34" in changed
    assert "HICN changed from 203031401A to 203031401M" in changed
    for finding in report.by_kind("mbi_changed"):
        assert any(e.detail == "MBI crosswalk entry" and "ZC9" in (e.source_path or "") for e in finding.evidence)
    chains = [f for f in report.by_kind("likely_duplicate") if "crosswalk lists" in f.summary]
    # the crosswalk chains CD32 -> CD33 -> CD34 -> CD35 across four CCLF8 rows: each link is a likely duplicate
    assert {f.summary.split("crosswalk lists ")[1].split()[0] for f in chains} == {
        "1A69B98CD32",
        "1A69B98CD33",
        "1A69B98CD34",
    }
    assert all(f.score == pytest.approx(0.9) for f in chains)
