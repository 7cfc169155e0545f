"""Bad input gets a one-line error naming the file and the place, and never stops the rest."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from assistant.context import AppContext, open_context
from assistant.index.tables import ChunkRow
from assistant.ingest.pipeline import ingest_paths
from assistant.records.tables import DocumentTable, RecordTable
from assistant.settings import REPO_ROOT, Settings
from connectors import registry
from connectors.errors import ParseError

GOOD_NOTE = "Patient: mbi|1EG4TE5MK73\nCare manager note.\nDaughter helps with pill box.\n"
BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
    '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol3;</title></ClinicalDocument>\n'
)


@pytest.fixture()
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good-note.txt").write_text(GOOD_NOTE, encoding="utf-8")
    (folder / "broken.json").write_text('{"resourceType": "Bundle", "entry": [\n  {"resource": }\n]}', encoding="utf-8")
    (folder / "bomb.xml").write_text(BOMB, encoding="utf-8")
    (folder / "truncated.xml").write_text(
        '<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">\n  <title>Discharge', encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (folder / "latin1-note.txt").write_bytes("Patient: mbi|1EG4TE5MK73\nCaf\xe9 visit.\n".encode("latin-1"))
    (folder / "garbage.hl7").write_text("MSH|^~\\&|A|B\rPV1|1|I|||||||||||||||||||||||||||||||||||||||||2024-99\r",
                                        encoding="utf-8")
    (folder / "empty.json").write_bytes(b"")
    (folder / "huge.txt").write_text("Patient: mbi|1EG4TE5MK73\n" + "x" * 70_000, encoding="utf-8")
    (folder / "fragment.xml").write_text(
        '<?xml version="1.0"?>\n<!-- a section snippet from an implementation guide -->\n'
        "<section><title>Hospital Course</title></section>\n", encoding="utf-8")
    (folder / "no-namespace.xml").write_text(
        "<ClinicalDocument>\n  <component><structuredBody/></component>\n</ClinicalDocument>\n", encoding="utf-8")
    return folder


def test_each_bad_file_is_named_with_a_position_and_the_rest_is_ingested(bad_folder: Path, tmp_path: Path) -> None:
    ctx = open_context(Settings(data_dir=tmp_path / "data", max_file_bytes=64_000))
    summary = ingest_paths(ctx.ingest_deps, [bad_folder])
    errors = {Path(e["path"]).name: e["error"] for e in summary.errors}
    assert summary.documents == 1, summary  # the good note, and only it
    assert set(errors) == {"broken.json", "bomb.xml", "truncated.xml", "image.png", "latin1-note.txt",
                           "garbage.hl7", "empty.json", "huge.txt", "fragment.xml", "no-namespace.xml"}
    for name, message in errors.items():
        assert name in message and "\n" not in message, message
    assert "line 2" in errors["broken.json"]
    assert "entit" in errors["bomb.xml"].lower() and "line" in errors["bomb.xml"]
    assert "line" in errors["truncated.xml"]
    assert "line 2" in errors["latin1-note.txt"]
    assert "root element is <section>" in errors["fragment.xml"]
    assert "not in the HL7 v3 namespace" in errors["no-namespace.xml"] and "line 1" in errors["no-namespace.xml"]
    assert "64000" in errors["huge.txt"]
    assert "empty" in errors["empty.json"]
    # Nothing of a failed file reached the store; a re-run retries only the failures.
    assert ctx.patients.counts()["documents"] == 1
    again = ingest_paths(ctx.ingest_deps, [bad_folder])
    assert again.skipped_unchanged == 1 and len(again.errors) == 10


@pytest.mark.slow  # a CLI subprocess that loads the embedder
def test_cli_exit_code_and_json_summary(bad_folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(tmp_path / "data"), "CARETRAIL_MAX_FILE_BYTES": "64000"}
    done = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(bad_folder), "--json"], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) >= {"files", "documents", "patients", "records", "chunks", "skipped_unchanged", "errors"}
    assert summary["files"] == 11 and summary["documents"] == 1 and len(summary["errors"]) == 10
    assert all(set(e) == {"path", "error"} for e in summary["errors"])


FIXTURES = Path(__file__).parent / "fixtures"


def _ndjson(bundle: Path) -> bytes:
    """The bundle's resources one per line: the Bulk FHIR shape, which ingest reads part by part."""
    entries = json.loads(bundle.read_bytes())["entry"]
    return b"".join(json.dumps(entry["resource"]).encode() + b"\n" for entry in entries)


def _after(data: bytes, marker: bytes) -> int:
    return data.index(marker) + len(marker)


# A valid file of each format, the connector that reads it, and how many leading bytes its sniffer needs: the
# corruption happens after those, so every example reaches the connector (random bytes never got past a sniffer).
_BUNDLE = (FIXTURES / "fhir" / "dual_homebound_bundle.json").read_bytes()
_NDJSON = _ndjson(FIXTURES / "fhir" / "dual_homebound_bundle.json")
_CCDA = (FIXTURES / "ccda" / "discharge_summary_small.xml").read_bytes()
_HL7 = (FIXTURES / "hl7v2" / "a01_a03_cr.hl7").read_bytes()
_CCLF_NAME = "T.BCD.A9999.ZC8Y26.D260301.T0000001"
_CCLF = (FIXTURES / "cclf" / _CCLF_NAME).read_bytes()
_DEVICES = (FIXTURES / "devices" / "readings.csv").read_bytes()
REAL_FILES = {
    "fhir-json": ("bundle.json", _BUNDLE, "connectors.fhir", _after(_BUNDLE, b'"resourceType"')),
    "fhir-ndjson": ("Patient.ndjson", _NDJSON, "connectors.fhir", _after(_NDJSON, b'"resourceType"')),
    "ccda": ("discharge.xml", _CCDA, "connectors.ccda", _after(_CCDA, b"<ClinicalDocument")),
    "hl7v2": ("adt.hl7", _HL7, "connectors.hl7v2", _after(_HL7, b"MSH|")),
    "cclf": (_CCLF_NAME, _CCLF, "connectors.cclf", _after(_CCLF, b"\n")),  # the sniffer reads the first record
    "devices": ("readings.csv", _DEVICES, "connectors.devices", _after(_DEVICES, b"\n")),  # and the header
}
# What corruption writes: each format's syntax, line ends of both kinds, bytes that are not UTF-8. Never NUL,
# which reads as binary and would be refused before any connector.
NOISE = [b"<", b">", b"/", b'"', b"{", b"}", b"[", b",", b":", b"|", b"^", b"~", b"&", b"\r", b"\n", b" ", b"a", b"9",
         b"-", b"\xff", b"\xe9"]


@st.composite
def corrupted(draw: st.DrawFn, data: bytes, keep: int) -> bytes:
    """Truncated, or a span replaced by noise (deleting, inserting and overwriting are all this), after ``keep``."""
    start = draw(st.integers(keep, len(data) - 1))
    if draw(st.booleans()):
        return data[:start]
    end = draw(st.integers(start, min(len(data), start + 80)))
    noise = b"".join(draw(st.lists(st.sampled_from(NOISE), min_size=0 if end > start else 1, max_size=12)))
    return data[:start] + noise + data[end:]


@pytest.fixture(scope="module")
def ingest_ctx(tmp_path_factory: pytest.TempPathFactory) -> AppContext:
    """One data dir for every example and format: opening the store and embedder per example would dominate."""
    return open_context(Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data"))


def _landed(ctx: AppContext, document_id: str, path: Path) -> dict[str, int]:
    """Rows the store holds for a document: ledger rows (by content or by path), records and chunk rows."""
    with ctx.engine.connect() as connection:
        def count(table: type, *where: object) -> int:
            return connection.scalar(select(func.count()).select_from(table).where(*where)) or 0

        return {
            "documents": count(DocumentTable, (DocumentTable.document_id == document_id)
                               | (DocumentTable.source_path == str(path))),
            "records": count(RecordTable, RecordTable.document_id == document_id),
            "chunks": count(ChunkRow, ChunkRow.document_key == document_id),
        }


@pytest.mark.slow  # 72 ingest runs: 12 corrupted files for each of 6 formats
@pytest.mark.parametrize("fmt", sorted(REAL_FILES))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_corrupted_real_file_is_named_in_one_line_and_kept_out_while_a_good_file_lands(
    fmt: str, data: st.DataObject, ingest_ctx: AppContext, tmp_path: Path
) -> None:
    """Each corrupted file reaches its connector, and then either lands whole (the damage left it valid) or is
    reported in one line naming it with none of its rows stored; a good note in the same run always lands."""
    name, original, connector, keep = REAL_FILES[fmt]
    broken = data.draw(corrupted(original, keep), label="corrupted")
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    path = folder / name
    path.write_bytes(broken)
    detected = registry.detect(path, broken[:8192])
    assert detected is not None and detected.__name__ == connector, "the corruption did not reach the connector"
    note = folder / "good-note.txt"
    note.write_text(f"{GOOD_NOTE}Visit {uuid.uuid4().hex}.\n", encoding="utf-8")  # new bytes: never skipped

    summary = ingest_paths(ingest_ctx.ingest_deps, [folder])

    errors = {Path(e["path"]).name: e["error"] for e in summary.errors}
    assert "good-note.txt" not in errors
    assert _landed(ingest_ctx, hashlib.sha256(note.read_bytes()).hexdigest(), note)["documents"] == 1
    stored = _landed(ingest_ctx, hashlib.sha256(broken).hexdigest(), path)
    if name in errors:
        message = errors[name]
        assert str(path) in message and "\n" not in message and "\r" not in message, message
        assert stored == {"documents": 0, "records": 0, "chunks": 0}, (message, stored)
    else:  # still valid after the damage (or the same bytes as an earlier example): whole in the store
        assert stored["documents"] >= 1, summary


def test_hl7v2_names_a_truncated_pv1_segment_and_its_line(tmp_path: Path) -> None:
    """A bare segment name used to escape as the hl7 library's KeyError, with no position."""
    path = tmp_path / "adt.hl7"
    data = _HL7[: _HL7.index(b"PV1", _HL7.index(b"ADT^A03")) + 3]  # the second message ends right after "PV1"
    path.write_bytes(data)
    parsed = registry.detect(path, data).parse(path, data)  # type: ignore[union-attr]
    assert parsed.warnings == [f"message at line 5 skipped: {path} at PV1 (line 8): PV1 segment has no fields"]
    alone = tmp_path / "alone.hl7"
    only_bad = data[data.index(b"MSH", 1):]  # the bad message by itself: nothing to keep, so the file is refused
    alone.write_bytes(only_bad)
    with pytest.raises(ParseError) as error:
        registry.detect(alone, only_bad).parse(alone, only_bad)  # type: ignore[union-attr]
    assert "PV1 segment has no fields" in str(error.value) and "(line 4)" in str(error.value)
