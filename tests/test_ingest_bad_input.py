"""Bad input gets a one-line error naming the file and the place, and never stops the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.context import open_context
from assistant.ingest.pipeline import ingest_paths
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
    summary = ingest_paths(ctx, [bad_folder])
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
    again = ingest_paths(ctx, [bad_folder])
    assert again.skipped_unchanged == 1 and len(again.errors) == 10


def test_cli_exit_code_and_json_summary(bad_folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(tmp_path / "data"), "CARETRAIL_MAX_FILE_BYTES": "64000"}
    done = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(bad_folder), "--json"], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) >= {"files", "documents", "patients", "records", "chunks", "skipped_unchanged", "errors"}
    assert summary["files"] == 11 and summary["documents"] == 1 and len(summary["errors"]) == 10
    assert all(set(e) == {"path", "error"} for e in summary["errors"])


SUFFIXES = [".json", ".ndjson", ".xml", ".hl7", ".txt", ".csv", ".md", ".html", ".pdf", ".docx"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_connectors_raise_only_parse_errors_on_random_bytes(data: bytes, suffix: str, tmp_path: Path) -> None:
    _parse_or_name_the_file(tmp_path / f"fuzz{suffix}", data)


def _parse_or_name_the_file(path: Path, data: bytes) -> None:
    """Either a parsed document or a ParseError that names the file; any other exception fails the test."""
    module = registry.detect(path, data[:8192])
    if module is None:
        return
    try:
        module.parse(path, data)
    except ParseError as error:
        assert str(path) in str(error)


PREFIXES = [b'{"resourceType": "Bundle", "entry": [', b"MSH|^~\\&|", b'<?xml version="1.0"?><ClinicalDocument ',
            b'{"resourceType": "Patient", "id": "x"}\n', b"patient_id,device,type,timestamp,value,unit\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=1024),
       suffix=st.sampled_from([".json", ".hl7", ".xml", ".ndjson", ".csv"]))
def test_connectors_survive_corrupted_real_prefixes(prefix: bytes, tail: bytes, suffix: str, tmp_path: Path) -> None:
    _parse_or_name_the_file(tmp_path / f"fuzz{suffix}", prefix + tail)
