"""`caretrail listen-adt` as an operator runs it: real TCP, ACK only after the message is on disk, then ingested."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.context import open_context
from assistant.intake.mllp import FS_CR, VT, frame
from assistant.settings import REPO_ROOT, Settings
from tests.helpers import free_port

pytestmark = pytest.mark.slow  # runs `caretrail listen-adt` as a subprocess and ingests what it receives

A01 = "\r".join([
    "MSH|^~\\&|EPICADT|GOODHOSP|CARETRAIL|ACO|20261110083000||ADT^A01^ADT_A01|INTAKE01|P|2.5.1",
    "EVN|A01|20261110083000",
    "PID|1||MRN-7788^^^GOODHOSP^MR||Quillfeather^Mabel||19440704|F",
    "PV1|1|I|4W^412^B^GOODHOSP||||||||||||||||V-7788^^^GOODHOSP^VN|||||||||||||||||||||||||20261110083000",
]) + "\r"


def _exchange(port: int, payload: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(payload)
        reply = b""
        while not reply.endswith(FS_CR):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply.removeprefix(VT).removesuffix(FS_CR).decode("utf-8")


def test_listener_acks_stored_messages_and_ingests_them(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CARETRAIL_DATA_DIR": str(tmp_path)}
    # The listener's output goes to a file, not a pipe: a pipe nobody reads fills up and would stall the
    # listener mid-ingest once it has logged 64 KiB.
    log_path = tmp_path / "listener.log"
    log_file = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "assistant", "listen-adt", "--port", str(port)], env=env,
                               cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log_path.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "listener did not start"
                time.sleep(0.2)

        ack = _exchange(port, frame(A01))
        assert "MSA|AA|INTAKE01" in ack
        spooled = list((tmp_path / "inbox" / "adt").glob("*.hl7"))
        assert len(spooled) == 1 and "Quillfeather" in spooled[0].read_text(encoding="utf-8")

        garbage = _exchange(port, frame("this is not HL7"))
        assert "MSA|AR" in garbage or "MSA|AE" in garbage
        assert len(list((tmp_path / "inbox" / "adt").glob("*.hl7"))) == 1

        # Ingest runs after the ACK and opens the store and index on first use; on a loaded two-core CI machine
        # the wait left over from a shared two-minute deadline once ran out, so ingest gets its own.
        ctx = open_context(Settings(data_dir=tmp_path))
        patient = None
        ingest_deadline = time.monotonic() + 300
        while patient is None and time.monotonic() < ingest_deadline and process.poll() is None:
            time.sleep(0.5)
            patient = ctx.patients.resolve_patient("mrn|GOODHOSP|MRN-7788")
        if patient is None:
            pytest.fail(f"the listener did not ingest the stored message; its output:\n{log_path.read_text('utf-8')}")
        assert patient.name.startswith("Mabel")
        encounters = ctx.patients.patient_records(patient.id, kinds={"encounter"})
        assert [e.encounter_class for e in encounters] == ["inpatient"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        log_file.close()
