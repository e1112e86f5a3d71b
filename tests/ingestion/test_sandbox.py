"""The parsing sandbox: a real worker process under each limit, a Dutch reason per cause, and a worker that
is replaced after every failure so that the next file parses as usual."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import DocumentError, UnsupportedDocument
from ingestion.archive import MB, ZipLimits
from ingestion.sandbox import InProcessParser, SandboxedParser, SandboxLimits
from ingestion.settings import IngestionSettings
from tests.hostile import files


@pytest.fixture
def sandbox() -> Iterator[SandboxedParser]:
    parser = SandboxedParser(SandboxLimits(seconds=20, cpu_seconds=20, memory_mb=300, max_text_mb=2,
                                           zip=ZipLimits(max_unpacked_bytes=20 * MB)))
    yield parser
    parser.close()


@pytest.fixture(params=["in process", "sandboxed"])
def parser(request: pytest.FixtureRequest) -> Iterator[InProcessParser | SandboxedParser]:
    """Each Parser: the contract below holds for both."""
    limits = SandboxLimits(max_text_mb=1, zip=ZipLimits(max_unpacked_bytes=5 * MB))
    made = InProcessParser(limits) if request.param == "in process" else SandboxedParser(limits)
    yield made
    made.close()


@pytest.mark.parametrize(("data", "name", "title", "kind"), [
    (b"# Afval\n\nDe groene bak.", "afval.md", "Afval", "markdown"),
    (b"<title>Parkeren</title><h1>Kop</h1><p>Tekst</p>", "p.html", "Parkeren", "html"),
    (files.docx(), "w.docx", "w", "docx"),
    (files.text_pdf(2), "twee.pdf", "Beleid over thuiswerken 0", "pdf"),
])
def test_parser_contract_documents(parser: InProcessParser | SandboxedParser, data: bytes, name: str, title: str,
                                   kind: str) -> None:
    document = parser.parse(data, name)
    assert (document.title, document.kind) == (title, kind) and document.text_length > 0


def test_parser_contract_start_ahead_is_optional_and_idempotent(parser: InProcessParser | SandboxedParser) -> None:
    parser.start()
    parser.start()  # a second start does not spawn a second worker
    assert parser.parse(b"# Afval\n\nDe groene bak.", "afval.md").title == "Afval"
    parser.close()
    parser.start()
    parser.close()  # a worker started but never used is ended too
    assert parser.parse(b"# Weer\n\nTekst.", "weer.md").title == "Weer"  # and parsing starts one again


@pytest.mark.parametrize(("data", "name", "reason"), [
    (b"", "leeg.txt", "leeg bestand"),
    (files.docx_bomb(megabytes=8), "bom.docx", "pakt uit tot meer dan 5 MB"),
    (b"woord " * 300_000, "veel.txt", "meer dan 1 MB tekst"),
])
def test_parser_contract_refusals(parser: InProcessParser | SandboxedParser, data: bytes, name: str,
                                  reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parser.parse(data, name)


def _still_works(parser: SandboxedParser) -> None:
    assert parser.parse(b"# Daarna\n\nGewoon verder.", "daarna.md").title == "Daarna"


def test_a_file_parses_in_the_worker_as_in_process(sandbox: SandboxedParser) -> None:
    data = files.text_pdf(3)
    assert sandbox.parse(data, "drie.pdf") == InProcessParser().parse(data, "drie.pdf")


def test_the_worker_is_kept_between_files(sandbox: SandboxedParser) -> None:
    sandbox.parse(b"een", "a.txt")
    pid = sandbox._worker.pid  # type: ignore[union-attr]
    sandbox.parse(b"twee", "b.txt")
    assert sandbox._worker.pid == pid  # type: ignore[union-attr]


@pytest.mark.parametrize(("data", "name", "error", "reason"), [
    (b"", "leeg.txt", DocumentError, "leeg bestand"),
    (b"\x00\x01", "binair.txt", UnsupportedDocument, "binaire inhoud"),
    (bytes(range(256)) * 8, "binair.txt", DocumentError, "binaire inhoud"),
])
def test_parser_errors_come_back_with_their_type_and_reason(sandbox: SandboxedParser, data: bytes, name: str,
                                                            error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason):
        sandbox.parse(data, name)
    _still_works(sandbox)


def test_wall_clock_limit_stops_the_worker() -> None:
    parser = SandboxedParser(SandboxLimits(seconds=0.5, cpu_seconds=60))
    started = time.monotonic()
    with pytest.raises(DocumentError, match="verwerken duurde langer dan 0.5 s"):
        parser.parse(files.text_pdf(4000), "lang.pdf")
    assert time.monotonic() - started < 3
    _still_works(parser)
    parser.close()


def test_cpu_limit_stops_the_worker() -> None:
    parser = SandboxedParser(SandboxLimits(seconds=60, cpu_seconds=1))
    with pytest.raises(DocumentError, match="verwerken kostte meer dan 1 s rekentijd"):
        parser.parse(files.text_pdf(8000), "lang.pdf")
    _still_works(parser)
    parser.close()


def test_memory_limit_is_a_reason_not_a_dead_server() -> None:
    parser = SandboxedParser(SandboxLimits(memory_mb=200, max_text_mb=500))
    text = ("Regel met tekst over beleid en regels. " * 3 + "\n") * 1_000_000
    with pytest.raises(DocumentError, match="het verwerken vraagt meer dan 200 MB geheugen"):
        parser.parse(text.encode(), "groot.txt")
    _still_works(parser)
    parser.close()


def test_too_much_text_is_refused(sandbox: SandboxedParser) -> None:
    with pytest.raises(DocumentError, match="het bestand bevat meer dan 2 MB tekst"):
        sandbox.parse(b"tekst " * 500_000, "veel.txt")
    _still_works(sandbox)


def test_a_worker_that_dies_gives_a_reason(sandbox: SandboxedParser) -> None:
    sandbox.parse(b"eerst", "a.txt")
    pid = sandbox._worker.pid  # type: ignore[union-attr]
    threading.Timer(0.3, os.kill, (pid, signal.SIGSEGV)).start()
    with pytest.raises(DocumentError, match="afgebroken"):
        sandbox.parse(files.text_pdf(4000), "crash.pdf")
    _still_works(sandbox)


def test_zip_bomb_is_refused_in_the_worker(sandbox: SandboxedParser) -> None:
    with pytest.raises(DocumentError, match="het bestand pakt uit tot meer dan 20 MB"):
        sandbox.parse(files.docx_bomb(megabytes=40), "bom.docx")


def test_the_worker_gets_none_of_the_parent_environment(monkeypatch: pytest.MonkeyPatch,
                                                        sandbox: SandboxedParser) -> None:
    monkeypatch.setenv("BAKEN_DATABASE__DSN", "postgresql://geheim@db/baken")
    sandbox.parse(b"tekst", "a.txt")
    environment = Path(f"/proc/{sandbox._worker.pid}/environ").read_bytes()  # type: ignore[union-attr]
    assert b"BAKEN_" not in environment


def test_limits_come_from_the_ingestion_settings() -> None:
    limits = SandboxLimits.from_settings(IngestionSettings(parse_seconds=5, parse_cpu_seconds=4, parse_memory_mb=512,
                                                           max_text_mb=3, max_unpacked_mb=7, max_zip_ratio=50,
                                                           max_zip_members=9))
    assert limits == SandboxLimits(5, 4, 512, 3, ZipLimits(7 * MB, 50, 9))
    assert SandboxLimits.from_record(limits.record()) == limits
