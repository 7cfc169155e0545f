"""Patient ingest end to end on real files: idempotent, transactional, resumable after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.context import open_context
from assistant.index.tables import ChunkRow
from assistant.index.vectors import PATIENT
from assistant.ingest.pipeline import ingest_paths, iter_files
from assistant.settings import REPO_ROOT, Settings

CCDA_DOCS = ["Discharge_Summary", "Progress_Note", "Referral_Note", "Transfer_Summary"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:  # type: ignore[no-untyped-def]
    """A mixed folder: demo FHIR bundles with discharge notes and CCLF files, real C-CDA, real HL7 v2."""
    from assistant.demo.generator import generate

    folder = tmp_path_factory.mktemp("corpus")
    generate(24, 11, folder / "demo")
    for name in CCDA_DOCS:
        source = next((shared_data / "ccda" / "HL7_C-CDA-Examples" / "Documents").glob(f"*/{name}.xml"))
        (folder / f"{name}.xml").write_bytes(source.read_bytes())
    for hl7 in sorted((shared_data / "hl7v2_adt" / "microsoft_FHIR-Converter").glob("ADT-A0*.hl7"))[:4]:
        (folder / hl7.name).write_bytes(hl7.read_bytes())
    return folder


def snapshot(data_dir: Path) -> dict:
    """Everything that defines the store and index, without timestamps."""
    ctx = open_context(Settings(data_dir=data_dir))
    db = sqlite3.connect(data_dir / "caretrail.db")
    state = {
        "patients": db.execute("SELECT id, given, family, birth_date FROM patients ORDER BY id").fetchall(),
        "identifiers": db.execute(
            "SELECT patient_id, system, assigner, value FROM patient_identifiers ORDER BY 1, 2, 3, 4").fetchall(),
        "documents": db.execute("SELECT document_id, format, record_count FROM documents ORDER BY 1").fetchall(),
        "records": db.execute(
            "SELECT document_id, seq, patient_id, kind, payload FROM records ORDER BY 1, 2").fetchall(),
        "chunks": db.execute(
            "SELECT chunk_id, patient_id, sha256, start, end FROM chunks WHERE collection = 'patient' ORDER BY 1"
        ).fetchall(),
    }
    db.close()
    state["vectors"] = sorted(ctx.vectors.collection(PATIENT).get(include=[])["ids"])
    return state


@pytest.mark.slow  # ingests a generated demo panel plus real C-CDA and HL7
def test_ingest_is_idempotent_and_scoped(corpus: Path, tmp_path: Path) -> None:
    ctx = open_context(Settings(data_dir=tmp_path))
    first = ingest_paths(ctx.ingest_deps, [corpus])
    assert first.errors == [], first.errors
    assert first.documents == first.files and first.chunks > 50 and first.patients >= 24
    second = ingest_paths(ctx.ingest_deps, [corpus])
    assert second.documents == 0 and second.skipped_unchanged == first.files and second.errors == []
    with Session(ctx.engine) as session:
        rows = session.scalars(select(ChunkRow).where(ChunkRow.collection == PATIENT)).all()
    assert rows and all(row.patient_id for row in rows)
    # Every Chroma vector carries the same patient id as its SQL row: no patient's text is filed under another.
    stored = ctx.vectors.collection(PATIENT).get(ids=[r.chunk_id for r in rows], include=["metadatas"])
    by_id = {row.chunk_id: row.patient_id for row in rows}
    for chunk_id, metadata in zip(stored["ids"], stored["metadatas"], strict=True):
        assert metadata["patient_id"] == by_id[chunk_id]


def write_note(note: Path, finding: str) -> Path:
    """A care manager's plain-text note about one patient (named by MBI)."""
    note.parent.mkdir(exist_ok=True)
    note.write_text(f"Patient: mbi|1EG4TE5MK73\nCare manager note.\n{finding}\n", encoding="utf-8")
    return note


def test_changed_file_replaces_its_previous_version(tmp_path: Path) -> None:
    note = write_note(tmp_path / "in" / "note.txt", "Patient walks with a cane after a fall.")
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    assert ingest_paths(ctx.ingest_deps, [note.parent]).documents == 1
    write_note(note, "Patient now uses a walker at home.")
    assert ingest_paths(ctx.ingest_deps, [note.parent]).documents == 1
    with Session(ctx.engine) as session:
        texts = [row.text for row in session.scalars(select(ChunkRow).where(ChunkRow.collection == PATIENT))]
    assert any("walker" in text for text in texts) and not any("cane" in text for text in texts)
    assert ctx.vectors.count(PATIENT) == len(texts)
    assert ctx.patients.counts()["documents"] == 1


def _documents_committed(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow  # two CLI ingest processes of the demo corpus: about 40 s
def test_kill_9_mid_ingest_then_rerun_equals_a_clean_run(corpus: Path, tmp_path: Path) -> None:
    clean_dir, crashed_dir = tmp_path / "clean", tmp_path / "crashed"
    command = [sys.executable, "-m", "assistant", "ingest", str(corpus), "--json"]

    def run(data_dir: Path) -> subprocess.CompletedProcess:
        env = {**os.environ, "CARETRAIL_DATA_DIR": str(data_dir)}
        return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)

    clean = run(clean_dir)
    assert clean.returncode == 0, clean.stderr
    total = json.loads(clean.stdout)["documents"]

    # Small batches, so that several commits happen before the kill and several after it.
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(crashed_dir), "CARETRAIL_INGEST_BATCH_DOCUMENTS": "3"}
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _documents_committed(crashed_dir / "caretrail.db") < 5 and time.monotonic() < deadline:
        assert process.poll() is None, "ingest finished before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    committed = _documents_committed(crashed_dir / "caretrail.db")
    assert 5 <= committed < total, committed

    resumed = run(crashed_dir)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped_unchanged"] == committed
    assert summary["documents"] == total - committed
    assert snapshot(crashed_dir) == snapshot(clean_dir)


def test_a_document_the_store_refuses_does_not_take_its_batch_down(tmp_path: Path) -> None:
    """The batch shares one transaction; when it fails, each document is retried alone."""
    from assistant.ingest.pipeline import IngestSummary, flush, prepare
    from assistant.records.model import DocumentSection, Identifier, ParsedDocument, Patient, Provenance

    def document(name: str, identifiers: list[Identifier]) -> ParsedDocument:
        text = f"Care manager note for {name}: daughter visits on Sundays."
        provenance = Provenance(source_path=f"{name}.txt", source_sha256=name * 4, format="document",
                                locator="text", start=0, end=len(text))
        key = identifiers[0].key if identifiers else "mbi|1EG4TE5MK73"
        return ParsedDocument(
            source_path=f"{name}.txt", source_sha256=name * 4, format="document",
            patients=[Patient(identifiers=identifiers, family=name, provenance=provenance)],
            records=[DocumentSection(id=f"{name}-1", patient_key=key, document_id=name, title="Note", text=text,
                                     provenance=provenance)],
        )

    ctx = open_context(Settings(data_dir=tmp_path))
    batch = [
        prepare(document("alpha", [Identifier(system="mbi", value="1EG4TE5MK73")]), "a" * 64),
        prepare(document("broken", []), "b" * 64),  # a Patient with no identifier cannot be stored
        prepare(document("gamma", [Identifier(system="mbi", value="2QW7RT9PK41")]), "c" * 64),
    ]
    summary = IngestSummary()
    flush(ctx.ingest_deps, batch, summary)
    assert summary.documents == 2 and [Path(e["path"]).name for e in summary.errors] == ["broken.txt"]
    assert ctx.patients.is_ingested("a" * 64) and ctx.patients.is_ingested("c" * 64)
    assert not ctx.patients.is_ingested("b" * 64)
    with Session(ctx.engine) as session:
        documents = set(session.scalars(select(ChunkRow.doc_id).where(ChunkRow.collection == PATIENT)))
    assert documents == {"alpha", "gamma"}


def test_a_document_another_run_stored_meanwhile_is_replaced_not_doubled(tmp_path: Path) -> None:
    """Two ingests of the same folder at once: this run read the file before the other committed it."""
    from assistant.ingest.pipeline import IngestSummary, Prepared, flush, read_file
    from assistant.records.tables import RecordTable

    note = write_note(tmp_path / "in" / "note.txt", "Patient walks with a cane after a fall.")
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    prepared = read_file(ctx.ingest_deps, note, IngestSummary(), set())
    assert isinstance(prepared, Prepared) and prepared.chunks
    assert ingest_paths(ctx.ingest_deps, [note]).documents == 1  # the other run commits first

    summary = IngestSummary()
    flush(ctx.ingest_deps, [prepared], summary)
    assert summary.errors == [] and summary.documents == 1
    with Session(ctx.engine) as session:
        chunks = session.scalars(select(ChunkRow.chunk_id).where(ChunkRow.document_key == prepared.document_id)).all()
        records = session.scalars(select(RecordTable.seq).where(RecordTable.document_id == prepared.document_id)).all()
    assert sorted(chunks) == sorted(chunk.chunk_id for chunk in prepared.chunks)
    assert len(records) == len(prepared.parsed.patients) + len(prepared.parsed.records)


def test_licence_readme_and_export_logs_beside_data_are_not_records(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("LICENSE.txt", "readme.txt", "NOTICE", "README.md", "log.ndjson"):
        (folder / name).write_text('{"exportId": "x"}\n' if name.endswith("ndjson") else "Terms of use.\n",
                                   encoding="utf-8")
    note = folder / "care-manager-note.txt"
    note.write_text("Patient: mbi|1EG4TE5MK73\nDaughter helps with the pill box.\n", encoding="utf-8")
    assert iter_files([folder]) == [note]
    ctx = open_context(Settings(data_dir=tmp_path / "data"))
    summary = ingest_paths(ctx.ingest_deps, [folder])
    assert summary.errors == [] and summary.files == 1 and summary.documents == 1
