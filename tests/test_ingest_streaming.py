"""CCLF and Bulk FHIR NDJSON files are read line by line in parts, yet land whole or not at all, whatever their
size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.demo.cclf_writer import write_cclf5
from assistant.ingest.pipeline import ingest_paths
from assistant.records.tables import DocumentTable, RecordTable
from assistant.settings import Settings
from connectors import cclf, fhir
from tests.helpers import postgres_schema

LINES = 2 * cclf.PART_LINES + 1  # three parts


def _line(i: int) -> dict[str, str]:
    return {"CUR_CLM_UNIQ_ID": str(10**12 + i), "CLM_LINE_NUM": "1", "BENE_MBI_ID": f"1EG4TE5MK{i % 40:02d}",
            "CLM_TYPE_CD": "71", "CLM_FROM_DT": "2026-03-09", "CLM_THRU_DT": "2026-03-09",
            "CLM_LINE_FROM_DT": "2026-03-09", "CLM_LINE_THRU_DT": "2026-03-09", "CLM_LINE_HCPCS_CD": "99496",
            "CLM_LINE_CVRD_PD_AMT": "250.10", "CLM_LINE_DGNS_CD": "I5023", "CLM_DGNS_1_CD": "I5023",
            "RNDRG_PRVDR_NPI_NUM": "1234567893", "DGNS_PRCDR_ICD_IND": "0", "CLM_POS_CD": "11"}  # fmt: skip


def _claims_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_cclf5(folder / "P.A1234.ACO.ZC5Y26.D260301.T0000001", [_line(i) for i in range(LINES)])


def _counts(ctx) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(ctx.engine) as session:
        documents = session.scalar(select(func.count()).select_from(DocumentTable)) or 0
        records = session.scalar(select(func.count()).select_from(RecordTable)) or 0
    return documents, records


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Both stores: on PostgreSQL foreign keys are checked per statement, so the ledger row must come first."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema("stream") as (url, _admin):
        yield url


def test_a_claim_file_over_the_whole_file_limit_is_read_in_parts(tmp_path: Path, database_url: str | None) -> None:
    path = _claims_file(tmp_path / "in")
    assert path.stat().st_size > 1_000_000
    ctx = open_context(Settings(data_dir=tmp_path / "data", max_file_bytes=1_000_000, database_url=database_url))
    progress: list[tuple[str, int]] = []
    summary = ingest_paths(ctx.ingest_deps, [path], on_part=lambda p, records: progress.append((p.name, records)))
    assert summary.errors == [] and summary.documents == 1
    assert summary.records == LINES and summary.patients == 40  # stub patients, one per MBI, across parts
    assert progress == [(path.name, cclf.PART_LINES), (path.name, 2 * cclf.PART_LINES), (path.name, LINES)]
    patient_id = ctx.patients.resolve_patient("1EG4TE5MK07")
    assert patient_id is not None
    claims = ctx.patients.patient_records(patient_id.id, {"claim"})
    assert len(claims) == len(range(7, LINES, 40))
    last = max(claims, key=lambda c: int(c.id.split("-")[0]))
    assert last.provenance.locator == f"line {max(range(7, LINES, 40)) + 1}"  # claim i is on line i + 1
    assert last.place_of_service == "11"
    # Unchanged on a re-run; the ledger has the whole file's counts.
    assert ingest_paths(ctx.ingest_deps, [path]).skipped_unchanged == 1
    with Session(ctx.engine) as session:
        ledger = session.scalars(select(DocumentTable)).one()
    assert (ledger.status, ledger.record_count) == ("ingested", LINES)


def test_a_bad_line_in_the_last_part_keeps_nothing_of_the_file(tmp_path: Path, database_url: str | None) -> None:
    path = _claims_file(tmp_path / "in")
    lines = path.read_bytes().split(b"\n")
    bad = LINES - 1  # 0-based index of the last record, in the third part
    lines[bad] = lines[bad][:47] + b"2026-13-45" + lines[bad][57:]  # CLM_FROM_DT, columns 48-57
    path.write_bytes(b"\n".join(lines))
    ctx = open_context(Settings(data_dir=tmp_path / "data", database_url=database_url))
    summary = ingest_paths(ctx.ingest_deps, [path])
    assert summary.documents == 0 and len(summary.errors) == 1
    error = summary.errors[0]["error"]
    assert path.name in error and f"line {LINES}" in error and "columns 48-57" in error and "CLM_FROM_DT" in error
    assert "nothing of the file was kept" in error
    assert _counts(ctx) == (0, 0)  # the first two parts were written, then rolled back with the rest
    # Fixed and re-run: the whole file lands.
    path.write_bytes(b"\n".join(lines[:bad] + lines[bad + 1 :]))
    again = ingest_paths(ctx.ingest_deps, [path])
    assert again.errors == [] and again.records == LINES - 1
    assert _counts(ctx) == (1, LINES - 1)


def test_over_the_stream_limit_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    path = _claims_file(tmp_path / "in")
    ctx = open_context(Settings(data_dir=tmp_path / "data", max_stream_file_bytes=1_000_000))
    summary = ingest_paths(ctx.ingest_deps, [path])
    assert summary.documents == 0
    assert "CARETRAIL_MAX_STREAM_FILE_BYTES" in summary.errors[0]["error"]


def test_streamed_and_whole_file_parses_agree(tmp_path: Path) -> None:
    path = _claims_file(tmp_path / "in")
    sha = cclf.sha256_bytes(path.read_bytes())
    whole = cclf.parse(path, path.read_bytes())
    parts = list(cclf.parse_parts(path, sha))
    assert len(parts) == 3
    assert [r.model_dump() for part in parts for r in part.records] == [r.model_dump() for r in whole.records]


# -- Bulk FHIR NDJSON ---------------------------------------------------------------------------------------

BULK = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "synthea_fhir_r4"
        / "smart-on-fhir_sample-bulk-fhir-datasets_10-patients_subset")  # fmt: skip


@pytest.mark.skipif(not BULK.is_dir(), reason="shared sample data not present")
def test_bulk_ndjson_in_parts_reads_the_same_records_as_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    path = BULK / "Condition.000.ndjson"
    data = path.read_bytes()
    whole = fhir.parse(path, data)
    monkeypatch.setattr(fhir, "NDJSON_PART_LINES", 40)  # several parts from a small real file
    parts = list(fhir.parse_parts(path, fhir.sha256_bytes(data)))
    assert len(parts) > 3
    assert [r.model_dump() for part in parts for r in part.records] == [r.model_dump() for r in whole.records]


@pytest.mark.slow  # ingests a real BCDA bulk export
@pytest.mark.skipif(not BULK.is_dir(), reason="shared sample data not present")
def test_a_bulk_export_folder_ingests_cleanly(tmp_path: Path) -> None:
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    summary = ingest_paths(ctx.ingest_deps, [BULK])
    assert summary.errors == []  # the export's log.ndjson and LICENSE are bookkeeping, not records
    assert summary.documents == len(list(BULK.glob("*.000.ndjson"))) and summary.patients >= 10
    assert summary.chunks > 0  # DocumentReference notes become cited text


def _ndjson(folder: Path, count: int, last_line: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"resourceType": "Patient", "id": "p1", "identifier": [
        {"system": "http://hl7.org/fhir/sid/us-mbi", "value": "1EG4TE5MK73"}], "birthDate": "1941-03-02"})]
    lines += [json.dumps({"resourceType": "Observation", "id": f"o{i}", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                          "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-01",
                          "valueQuantity": {"value": 80 + i % 5, "unit": "kg"}}) for i in range(count)]
    if last_line is not None:
        lines.append(last_line)
    path = folder / "Observation.000.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ndjson_over_the_whole_file_limit_lands_as_one_document(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir, "NDJSON_PART_LINES", 100)
    path = _ndjson(tmp_path / "in", 450)
    ctx = open_context(Settings(data_dir=tmp_path / "data", max_file_bytes=20_000))
    summary = ingest_paths(ctx.ingest_deps, [path])
    assert summary.errors == [] and summary.documents == 1 and summary.records == 450
    patient = ctx.patients.resolve_patient("1EG4TE5MK73")
    assert patient is not None
    weights = ctx.patients.patient_records(patient.id, {"observation"})
    assert len(weights) == 450 and weights[-1].provenance.locator.startswith("Observation/o449")


def test_ndjson_bad_last_line_names_it_and_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir, "NDJSON_PART_LINES", 100)
    path = _ndjson(tmp_path / "in", 450, last_line='{"resourceType": "Observation", "id": ')
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    summary = ingest_paths(ctx.ingest_deps, [path])
    assert summary.documents == 0
    assert "line 452" in summary.errors[0]["error"] and "invalid JSON" in summary.errors[0]["error"]
    assert _counts(ctx) == (0, 0)


def test_a_new_version_of_a_claim_file_replaces_the_old_one(tmp_path: Path) -> None:
    path = _claims_file(tmp_path / "in")
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    assert ingest_paths(ctx.ingest_deps, [path]).records == LINES
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[: cclf.PART_LINES]) + b"\n")  # CMS re-issued the file, shorter
    again = ingest_paths(ctx.ingest_deps, [path])
    assert again.errors == [] and again.documents == 1 and again.records == cclf.PART_LINES
    assert _counts(ctx) == (1, cclf.PART_LINES)  # the old version's ledger row and records are gone
