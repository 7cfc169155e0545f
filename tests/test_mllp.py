"""MLLP listener: a real asyncio server on a loopback port, real TCP clients, a real spool directory."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.intake.mllp import FS_CR, VT, MLLPServer, frame

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hl7v2"


class Running:
    def __init__(self, server: MLLPServer, loop: asyncio.AbstractEventLoop, stored: list[Path]) -> None:
        self.server, self.loop, self.stored = server, loop, stored

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=5)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    stored: list[Path] = []
    server = MLLPServer(tmp_path / "inbox" / "adt", port=0, max_message_bytes=4096, on_stored=stored.append)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield Running(server, loop, stored)
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _read_frame(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(FS_CR):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    assert data.startswith(VT)
    return data[1:-2].decode("utf-8")


def _segments(ack: str) -> dict[str, list[str]]:
    return {line[:3]: line.split("|") for line in ack.split("\r") if line}


def _message(name: str) -> bytes:
    """Fixture files use \\r\\n or \\n; on the wire HL7 uses \\r."""
    text = (FIXTURES / name).read_text()
    return "\r".join(line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line).encode()


def test_valid_a01_is_stored_before_aa(listener: Running) -> None:
    body = _message("a01_crlf.hl7")
    with listener.connect() as sock:
        sock.sendall(frame(body))
        ack = _segments(_read_frame(sock))
        # By the time the ACK arrived the file must already be on disk, whole.
        files = sorted((listener.server.spool.directory).glob("*.hl7"))
    assert ack["MSA"][1:3] == ["AA", "CT0001"]
    assert ack["MSH"][8] == "ACK^A01^ACK" and ack["MSH"][2] == "CARETRAIL"
    assert len(files) == 1 and files[0].name.endswith("-CT0001.hl7")
    assert files[0].read_bytes() == body
    assert not list(listener.server.spool.directory.glob(".incoming-*"))
    deadline = time.monotonic() + 5
    while not listener.stored and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.stored == files


def test_missing_pid_gets_ae_with_err_and_nothing_is_stored(listener: Running) -> None:
    with listener.connect() as sock:
        sock.sendall(frame(_message("missing_pid.hl7")))
        ack = _segments(_read_frame(sock))
    assert ack["MSA"][1:3] == ["AE", "CT0003"]
    assert "no PID segment" in ack["MSA"][3]
    assert ack["ERR"][3].startswith("100^") and ack["ERR"][4] == "E"
    assert not list(listener.server.spool.directory.glob("*.hl7"))


def test_bad_date_is_named_in_the_ack(listener: Running) -> None:
    with listener.connect() as sock:
        sock.sendall(frame(_message("bad_pv1_44.hl7")))
        ack = _segments(_read_frame(sock))
    assert ack["MSA"][1] == "AE"
    assert ack["ERR"][2] == "PV1^1^44" and ack["ERR"][3].startswith("102^")
    assert "PV1-44" in ack["ERR"][8]


def test_garbage_oversized_and_disconnects_leave_the_server_up(listener: Running) -> None:
    with listener.connect() as sock:
        sock.sendall(b"random noise outside any frame\r\n")
        sock.sendall(frame(b"this is not hl7 at all"))
        ack = _segments(_read_frame(sock))
        assert ack["MSA"][1] == "AR" and "MSH" in ack["MSA"][3]
        sock.sendall(frame(b"MSH|^~\\&|A|B|C|D|20260101||ORU^R01|X9|P|2.5\rPID|||1^^^H^MR"))
        ack = _segments(_read_frame(sock))
        assert ack["MSA"][1:3] == ["AR", "X9"] and ack["ERR"][3].startswith("200^")
        sock.sendall(VT + b"MSH|" + b"x" * 10_000 + FS_CR)  # over the 4096-byte limit
        ack = _segments(_read_frame(sock))
        assert ack["MSA"][1] == "AR" and "4096-byte limit" in ack["MSA"][3]
        sock.sendall(frame(_message("a01_crlf.hl7")))  # the same connection still works
        assert _segments(_read_frame(sock))["MSA"][1] == "AA"
    with listener.connect() as sock:
        sock.sendall(VT + b"MSH|^~\\&|half a message")  # then drop the connection mid-frame
    with listener.connect() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.sendall(VT + b"MSH")
    with listener.connect() as sock:  # a reset connection did not take the listener down
        sock.sendall(frame(_message("a01_crlf.hl7")))
        assert _segments(_read_frame(sock))["MSA"][1] == "AA"
    assert listener.server.counts["AA"] == 2


def test_two_messages_in_one_write_and_one_message_split_across_writes(listener: Running) -> None:
    first = _message("a01_a03_cr.hl7").split(b"\rMSH")
    one, two = first[0], b"MSH" + first[1]
    with listener.connect() as sock:
        sock.sendall(frame(one) + frame(two))
        acks = [_segments(_read_frame(sock)), _segments(_read_frame(sock))]
        assert [a["MSA"][2] for a in acks] == ["CT0001", "CT0002"]
        wire = frame(_message("a01_crlf.hl7"))
        for index in range(0, len(wire), 7):
            sock.sendall(wire[index : index + 7])
        assert _segments(_read_frame(sock))["MSA"][1] == "AA"
    assert len(list(listener.server.spool.directory.glob("*.hl7"))) == 3


def test_latin1_message_without_charset_is_rejected(listener: Running) -> None:
    body = _message("a01_crlf.hl7").replace(b"Rosa", "Jos\u00e9".encode("latin-1"))
    with listener.connect() as sock:
        sock.sendall(frame(body))
        ack = _segments(_read_frame(sock))
    assert ack["MSA"][1] == "AR" and "UTF-8" in ack["MSA"][3]
    declared = body.replace(b"|2.5.1", b"|2.5.1||||||8859/1", 1)
    with listener.connect() as sock:
        sock.sendall(frame(declared))
        assert _segments(_read_frame(sock))["MSA"][1] == "AA"
