"""MLLP listener for HL7 v2 ADT feeds: store each message durably, then acknowledge it.

Why this order: an ACK tells the hospital's interface engine it may forget the message. If we
acknowledged first and crashed before writing, an admission or discharge would be lost silently.
So every well-formed message is written to ``<spool>/<timestamp>-<control-id>.hl7`` through a temp
file, ``fsync``, ``os.replace`` and an ``fsync`` of the directory, and only then answered
``MSA|AA``. Messages we cannot use are answered ``AE`` (content error: missing PID, bad date) or
``AR`` (unreadable, not HL7, unsupported message type, oversized) with an ``ERR`` segment and an
``MSA-3`` text naming the problem, so the sender's operators can see what to fix.

Framing (HL7 MLLP release 1): ``<VT=0x0b> message <FS=0x1c><CR=0x0d>``. Bytes outside a frame are
discarded; a frame over ``max_message_bytes`` is drained and rejected without being buffered whole.
A connection that misbehaves or drops never takes the server down.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import re
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors import hl7v2
from connectors.errors import ParseError

log = logging.getLogger(__name__)

VT = b"\x0b"
FS_CR = b"\x1c\x0d"
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024

OnStored = Callable[[Path], Awaitable[None] | None]

# HL7 table 0357 message error condition codes used in ERR-3.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_UNSUPPORTED_TYPE = "200"
ERR_INTERNAL = "207"

_FIELD_POSITION = re.compile(r"\b([A-Z][A-Z0-9]{2})-(\d+)")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Reply:
    """The acknowledgement for one frame, and where the message was stored when it was."""

    code: str  # "AA" | "AE" | "AR"
    text: str
    ack: bytes
    stored: Path | None = None


def escape(text: str) -> str:
    """Escape HL7 delimiters so an error text can sit inside a field (and drop control characters)."""
    text = "".join(ch if ch >= " " else " " for ch in text)
    return (
        text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )  # fmt: skip


def _msh_fields(text: str) -> list[str]:
    """MSH fields by standard number (index 1 = field separator), best effort for replies to bad input."""
    first = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff \t\r\n"), maxsplit=1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return []
    sep = first[3]
    return ["MSH", sep, *first[4:].split(sep)][: 21]


def build_ack(original: str, code: str, text: str = "", error_code: str = "", error_location: str = "") -> str:
    """An ACK for ``original`` (which may be unreadable): MSH + MSA, plus ERR when the code is not AA."""
    fields = _msh_fields(original)

    def msh(n: int) -> str:
        return fields[n] if len(fields) > n else ""

    trigger = msh(9).split("^")[1] if "^" in msh(9) else ""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000")
    control = f"ACK{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
    segments = [
        "|".join([
            "MSH", "^~\\&", msh(5) or "CARETRAIL", msh(6), msh(3), msh(4), now, "",
            f"ACK^{trigger}^ACK" if trigger else "ACK", control, msh(11) or "P", msh(12) or "2.5",
        ]),
        "|".join(["MSA", code, escape(msh(10)), escape(text)[:80]]),
    ]  # fmt: skip
    if code != "AA":
        condition = f"{error_code or ERR_INTERNAL}^{escape(text)[:200]}^HL70357"
        segments.append("|".join(["ERR", "", error_location, condition, "E", "", "", "", escape(text)]))
    return "\r".join(segments) + "\r"


def frame(message: str | bytes) -> bytes:
    body = message.encode("utf-8") if isinstance(message, str) else message
    return VT + body + FS_CR


def _error_location(position: str | None) -> str:
    """``PID-3 (line 2)`` -> ``PID^1^3`` (ERR-2 error location: segment, sequence, field)."""
    match = _FIELD_POSITION.search(position or "")
    return f"{match.group(1)}^1^{match.group(2)}" if match else ""


def _error_code(message: str, position: str | None) -> str:
    lowered = message.lower()
    if "no pid" in lowered or "no pv1" in lowered or "no msh" in lowered or "expected an msh" in lowered:
        return ERR_SEGMENT_SEQUENCE
    if "date/time" in lowered or "not valid" in lowered:
        return ERR_DATA_TYPE
    if "empty" in lowered or "no patient identifier" in lowered:
        return ERR_REQUIRED_FIELD
    return ERR_INTERNAL


class Spool:
    """Durable, crash-safe storage of raw messages in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def store(self, body: bytes, control_id: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe = _SAFE_ID.sub("_", control_id)[:64] or "no-control-id"
        with self._lock:
            target = self.directory / f"{stamp}-{safe}.hl7"
            counter = 1
            while target.exists():
                counter += 1
                target = self.directory / f"{stamp}-{safe}-{counter}.hl7"
            handle, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".incoming-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp_name, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
                raise
            directory_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory_fd)
            finally:
                os.close(directory_fd)
        return target


def _decode(body: bytes) -> str:
    """UTF-8, unless MSH-18 declares ISO 8859-1 (common in US feeds)."""
    head = body[:1024].decode("latin-1")
    fields = _msh_fields(head)
    charset = fields[18].upper() if len(fields) > 18 else ""
    if charset.startswith("8859"):
        return body.decode("latin-1")
    return body.decode("utf-8")


class MLLPServer:
    """asyncio MLLP server. ``await start()`` binds (port 0 picks a free port); ``await close()`` stops."""

    def __init__(
        self,
        spool_dir: Path,
        host: str = "127.0.0.1",
        port: int = 2575,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        on_stored: OnStored | None = None,
        idle_timeout: float = 300.0,
    ) -> None:
        self.spool = Spool(spool_dir)
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self.on_stored = on_stored
        self.idle_timeout = idle_timeout
        self._server: asyncio.base_events.Server | None = None
        self.counts = {"AA": 0, "AE": 0, "AR": 0}

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=64 * 1024)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("MLLP listener on %s:%s, spooling to %s", self.host, self.port, self.spool.directory)
        return self.port

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def process(self, body: bytes) -> Reply:
        """Decide the reply for one de-framed message; stores it first when it is accepted."""
        try:
            text = _decode(body)
        except UnicodeDecodeError as exc:
            reason = f"message is not valid UTF-8 (byte {exc.start}); declare MSH-18 or re-encode"
            return self._reply(body.decode("latin-1"), "AR", reason, ERR_INTERNAL, "")
        try:
            parsed = hl7v2.parse_message(text, source="mllp")
        except ParseError as exc:
            unreadable = not _msh_fields(text) or exc.message.startswith("unreadable")
            code = "AR" if unreadable else "AE"
            where = f" at {exc.position}" if exc.position else ""
            return self._reply(text, code, f"{exc.message}{where}", _error_code(exc.message, exc.position),
                               _error_location(exc.position))  # fmt: skip
        if not parsed.message_type.startswith("ADT"):
            reason = f"message type {parsed.message_type} is not accepted by this ADT listener"
            return self._reply(text, "AR", reason, ERR_UNSUPPORTED_TYPE, "MSH^1^9")
        try:
            stored = await asyncio.to_thread(self.spool.store, body, parsed.control_id)
        except OSError as exc:
            log.error("could not store message %s: %s", parsed.control_id, exc)
            return self._reply(text, "AE", f"could not store message: {exc.strerror or exc}", ERR_INTERNAL, "")
        reply = self._reply(text, "AA", "stored", "", "")
        reply.stored = stored
        return reply

    def _reply(self, original: str, code: str, text: str, error_code: str, location: str) -> Reply:
        self.counts[code] += 1
        if code != "AA":
            log.warning("MLLP %s: %s", code, text)
        return Reply(code, text, frame(build_ack(original, code, text, error_code, location)))

    async def _notify(self, path: Path) -> None:
        if self.on_stored is None:
            return
        try:
            result = self.on_stored(path)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the callback is the caller's; its failure must not cost us the connection
            log.exception("on_stored callback failed for %s", path)

    async def _read(self, reader: asyncio.StreamReader) -> bytes:
        return await asyncio.wait_for(reader.read(64 * 1024), timeout=self.idle_timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        buffer = bytearray()
        in_frame = False
        oversized = False
        try:
            while True:
                chunk = await self._read(reader)
                if not chunk:
                    break
                buffer.extend(chunk)
                while True:
                    if not in_frame:
                        start = buffer.find(VT)
                        if start < 0:
                            buffer.clear()  # bytes outside a frame: noise, keep-alives, garbage
                            break
                        del buffer[: start + 1]
                        in_frame, oversized = True, False
                    end = buffer.find(FS_CR)
                    if end < 0:
                        if len(buffer) > self.max_message_bytes:
                            oversized = True
                            del buffer[:-1]  # keep a possible FS waiting for its CR
                        break
                    body = bytes(buffer[:end])
                    del buffer[: end + 2]
                    in_frame = False
                    if oversized or len(body) > self.max_message_bytes:
                        reply = self._reply(body[:2048].decode("latin-1"), "AR",
                                            f"message exceeds the {self.max_message_bytes}-byte limit",
                                            ERR_INTERNAL, "")  # fmt: skip
                    else:
                        reply = await self.process(body)
                    writer.write(reply.ack)
                    await writer.drain()
                    if reply.stored is not None:
                        await self._notify(reply.stored)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("MLLP connection %s closed: %s", peer, type(exc).__name__)
        except Exception:
            log.exception("MLLP connection %s failed", peer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def serve(spool_dir: Path, host: str = "127.0.0.1", port: int = 2575,
                max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, on_stored: OnStored | None = None) -> None:
    """Run a listener until cancelled (what ``caretrail listen-adt`` does)."""
    server = MLLPServer(spool_dir, host, port, max_message_bytes, on_stored)
    await server.start()
    try:
        await server.serve_forever()
    finally:
        await server.close()
