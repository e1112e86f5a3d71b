"""Parsing in a resource-limited child process, so that no parser bug, decompression bomb or endless loop can
freeze or kill the process that asked (the web server, `baken ingest`).

One worker process (``python -m ingestion.sandbox``) is started on first use and kept: it parses one file at
a time, sent over a pipe, under limits on CPU seconds (per file), address space and output size, while
the parent holds the wall-clock limit. A worker that breaks a limit, crashes or dies is replaced for the
next file; each failure is a DocumentError with a Dutch reason. The worker's environment holds none of
the parent's settings or secrets, and it runs at a lower priority than the server.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from core.errors import DocumentError, UnsupportedDocument
from ingestion.archive import MB, ZipLimits
from ingestion.document import ParsedDocument, Section
from ingestion.formats.limits import FormatLimits
from ingestion.parsers import ParseLimits, load_libraries, parse

if TYPE_CHECKING:  # the worker process does not import the settings (pydantic): it starts faster
    from ingestion.settings import IngestionSettings

logger = logging.getLogger(__name__)
HEADER = struct.Struct(">Q")
ROOT = Path(__file__).resolve().parents[1]  # the directory that holds the `ingestion` package
READY = b"ready"
START_SECONDS = 60.0  # for the worker to import its libraries, on a busy machine
RECYCLE_AFTER = 500  # files; a fresh worker now and then returns memory a long-lived one would keep
NICE = 5  # below the server (chats stay responsive) without starving a legitimate large file


class Parser(Protocol):
    """Bytes of a file in, a ParsedDocument out (DocumentError with the reason otherwise)."""

    def start(self) -> None:
        """Get ready to parse without waiting (a worker process starts in the background); parsing works
        without it, only the first file then waits for the start."""
        ...

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Parse one file."""
        ...

    def close(self) -> None:
        """Release what the parser holds (a worker process)."""
        ...


@dataclass(frozen=True)
class SandboxLimits:
    """What one file may cost to parse."""

    seconds: float = 60.0
    cpu_seconds: int = 60
    memory_mb: int = 1024
    max_text_mb: int = 50
    zip: ZipLimits = field(default_factory=ZipLimits)
    formats: FormatLimits = field(default_factory=FormatLimits)

    @property
    def parse_limits(self) -> ParseLimits:
        """What the parsers are given."""
        return ParseLimits(self.zip, self.formats)

    def record(self) -> dict[str, Any]:
        """The limits as JSON for the worker's command line."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SandboxLimits:
        """The limits back from `record`."""
        return cls(**{**record, "zip": ZipLimits(**record["zip"]), "formats": FormatLimits(**record["formats"])})

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> SandboxLimits:
        """The limits the ingestion settings give."""
        return cls(seconds=settings.parse_seconds, cpu_seconds=settings.parse_cpu_seconds,
                   memory_mb=settings.parse_memory_mb, max_text_mb=settings.max_text_mb,
                   zip=ZipLimits(max_unpacked_bytes=settings.max_unpacked_mb * MB,
                                 max_ratio=settings.max_zip_ratio, max_members=settings.max_zip_members),
                   formats=FormatLimits(max_sheet_rows=settings.max_sheet_rows, ocr=settings.ocr,
                                        ocr_max_pages=settings.ocr_max_pages,
                                        max_attachment_mb=settings.max_attachment_mb))


class InProcessParser:
    """Parsing in this process, with the same unpacking limits but no protection against a parser that hangs
    or exhausts memory: for tests and for `BAKEN_INGESTION__SANDBOX=false`."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self._limits = limits or SandboxLimits()

    def start(self) -> None:
        """Nothing to start."""

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Parse one file here."""
        document = parse(data, name, self._limits.parse_limits)
        _check_text(document, self._limits)
        return document

    def close(self) -> None:
        """Nothing to release."""


class SandboxedParser:
    """Parsing in a worker process under `SandboxLimits`; one file at a time (callers from several threads
    wait their turn)."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._worker: subprocess.Popen[bytes] | None = None
        self._starting: subprocess.Popen[bytes] | None = None  # spawned by `start`, not yet ready
        self._parsed = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Spawn the worker now, so that its start (about half a second of imports) overlaps the caller's own
        (loading the embedder, serving): the first file then need not wait for it."""
        with self._lock:
            if self._starting is None and (self._worker is None or self._worker.poll() is not None):
                self._starting = self._spawn()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Parse one file in the worker; DocumentError with the reason when it fails or breaks a limit."""
        with self._lock:
            worker = self._running()
            self._parsed += 1
            try:
                reply = self._exchange(worker, data, name)
            except _WorkerFailed as failure:
                self._stop()
                raise DocumentError(failure.reason) from None
            if reply.get("restart") or self._parsed >= RECYCLE_AFTER:
                self._stop()
        return _document(reply)

    def close(self) -> None:
        """Stop the worker (a new one starts if the parser is used again)."""
        with self._lock:
            self._stop()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._worker is not None and self._worker.poll() is None:
            return self._worker
        worker, self._starting = self._starting or self._spawn(), None
        assert worker.stdout is not None
        # The file's time starts once the worker is ready, so that a slow start is not the file's fault.
        if _read_frame(worker.stdout, time.monotonic() + START_SECONDS, len(READY)) != READY:
            worker.kill()
            worker.wait()
            logger.error("sandbox: the parsing worker did not start (status %s)", worker.returncode)
            raise DocumentError("het verwerken kon niet beginnen: het hulpproces voor het lezen van bestanden"
                                " start niet")
        self._worker, self._parsed = worker, 0
        return worker

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "ingestion.sandbox", json.dumps(self.limits.record())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT,
            env=_worker_environment(), close_fds=True)

    def _stop(self) -> None:
        """End the worker, and one started but never used."""
        for worker in (self._worker, self._starting):
            if worker is None:
                continue
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            for stream in (worker.stdin, worker.stdout):
                if stream is not None:
                    stream.close()
        self._worker = self._starting = None

    def _exchange(self, worker: subprocess.Popen[bytes], data: bytes, name: str) -> dict[str, Any]:
        """Send one file, read its reply within the wall-clock and output limits."""
        assert worker.stdin is not None and worker.stdout is not None
        deadline = time.monotonic() + self.limits.seconds
        try:
            _write_frame(worker.stdin, json.dumps({"name": name}).encode())
            _write_frame(worker.stdin, data)
            worker.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerFailed(self._death(worker, deadline)) from None
        # A reply may be longer than its text (JSON escapes, headings); beyond this it is refused unread.
        most = 8 * self.limits.max_text_mb * MB + MB
        raw = _read_frame(worker.stdout, deadline, most)
        if raw is None:
            raise _WorkerFailed(self._death(worker, deadline))
        if raw == b"":
            raise _WorkerFailed(_too_much_text(self.limits))
        reply: dict[str, Any] = json.loads(raw)
        return reply

    def _death(self, worker: subprocess.Popen[bytes], deadline: float) -> str:
        """Why the worker gave no reply: the wall clock, a limit it ran into, or a crash."""
        try:
            code = worker.wait(timeout=max(0.0, deadline - time.monotonic()) if worker.poll() is None else 0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None or time.monotonic() >= deadline:
            logger.warning("sandbox: parsing took longer than %g s; worker stopped", self.limits.seconds)
            return f"verwerken duurde langer dan {self.limits.seconds:g} s"
        if code == -signal.SIGXCPU:
            logger.warning("sandbox: worker stopped at the CPU limit (%d s)", self.limits.cpu_seconds)
            return f"verwerken kostte meer dan {self.limits.cpu_seconds} s rekentijd"
        logger.warning("sandbox: worker ended with status %s while parsing", code)
        return ("het verwerken van dit bestand is afgebroken (geheugen op of een fout in de lezer); het bestand"
                " is mogelijk beschadigd of bewust misvormd")


class _WorkerFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _worker_environment() -> dict[str, str]:
    """Only what Python needs to start: none of the parent's settings, database addresses or tokens."""
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    return keep | {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}


def _check_text(document: ParsedDocument, limits: SandboxLimits) -> None:
    if document.text_length > limits.max_text_mb * MB:
        raise DocumentError(_too_much_text(limits))


def _too_much_text(limits: SandboxLimits) -> str:
    return f"het bestand bevat meer dan {limits.max_text_mb} MB tekst"


def _document(reply: dict[str, Any]) -> ParsedDocument:
    """The parsed document in a worker's reply, or its error raised."""
    error = reply.get("error")
    if error is not None:
        raise (UnsupportedDocument if reply.get("unsupported") else DocumentError)(str(error))
    return ParsedDocument(title=reply["title"], kind=reply["kind"],
                          sections=[Section(text=t, heading=tuple(h), page=p) for t, h, p in reply["sections"]])


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)))
    stream.write(payload)


def _read_frame(stream: IO[bytes], deadline: float, most: int) -> bytes | None:
    """One frame from ``stream`` by ``deadline``: its bytes, b"" when it is longer than ``most``, or None when
    the stream ended or the time is up."""
    fd = stream.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        buffer = bytearray()
        wanted = HEADER.size
        header_read = False
        while len(buffer) < wanted:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            block = os.read(fd, min(wanted - len(buffer), 1024 * 1024))
            if not block:
                return None
            buffer += block
            if not header_read and len(buffer) >= HEADER.size:
                (size,) = HEADER.unpack(buffer[:HEADER.size])
                if size > most:
                    return b""
                del buffer[:HEADER.size]
                wanted, header_read = size, True
        return bytes(buffer)


# --- the worker ------------------------------------------------------------------------------------------

def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def _limit_resources(limits: SandboxLimits) -> None:
    import resource

    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a parser has no business writing files
    os.nice(NICE)


def _allow_cpu(seconds: int) -> None:
    """RLIMIT_CPU counts the process's whole life: allow ``seconds`` more from now (SIGXCPU after)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))


def _parse_one(data: bytes, name: str, limits: SandboxLimits) -> dict[str, Any]:
    try:
        document = parse(data, name, limits.parse_limits)
        _check_text(document, limits)
    except UnsupportedDocument as exc:
        return {"error": str(exc), "unsupported": True}
    except DocumentError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": f"het verwerken vraagt meer dan {limits.memory_mb} MB geheugen", "restart": True}
    except RecursionError:
        return {"error": "het bestand is te diep genest om te lezen", "restart": True}
    except Exception as exc:  # noqa: BLE001 (any library bug must become a reason, not a dead worker)
        return {"error": f"het bestand kon niet worden gelezen ({type(exc).__name__})", "restart": True}
    return {"title": document.title, "kind": document.kind,
            "sections": [[s.text, list(s.heading), s.page] for s in document.sections]}


def serve(limits: SandboxLimits, requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker's loop: a name frame and a data frame in, a JSON reply frame out, until the input ends."""
    while (header := _read_exactly(requests, HEADER.size)) is not None:
        meta = _read_exactly(requests, HEADER.unpack(header)[0])
        size_header = _read_exactly(requests, HEADER.size)
        data = _read_exactly(requests, HEADER.unpack(size_header)[0]) if size_header else None
        if meta is None or data is None:
            return
        _allow_cpu(limits.cpu_seconds)
        reply = _parse_one(data, json.loads(meta)["name"], limits)
        del data
        try:
            payload = json.dumps(reply, ensure_ascii=False).encode()
        except MemoryError:
            payload = json.dumps({"error": f"het verwerken vraagt meer dan {limits.memory_mb} MB geheugen",
                                  "restart": True}).encode()
        _write_frame(replies, payload)
        replies.flush()
        del reply, payload


def main() -> None:
    """Entry point of the worker process."""
    logging.disable(logging.CRITICAL)  # library warnings may quote document content
    limits = SandboxLimits.from_record(json.loads(sys.argv[1]))
    load_libraries()  # before the limits, so that they bound the parsing, not the imports
    _limit_resources(limits)
    _write_frame(sys.stdout.buffer, READY)
    sys.stdout.buffer.flush()
    serve(limits, sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
