"""One contract for every Originals store (a directory; the database, SQLite and PostgreSQL), and what the
database store adds: several hosts, each with a local cache, share one copy."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from core.database import Database
from core.errors import NotFound
from ingestion.files import DatabaseOriginals, DirectoryOriginals, Originals

DATA = b"%PDF-1.7 \x00\xff bytes"


@pytest.fixture(params=["directory", "sqlite", "postgres"])
def originals(request: pytest.FixtureRequest, tmp_path: Path) -> Originals:
    """Each store; the database one on each dialect."""
    if request.param == "directory":
        return DirectoryOriginals(tmp_path / "documents")
    database = (Database.open(None, tmp_path / "state.sqlite3") if request.param == "sqlite"
                else request.getfixturevalue("postgres"))
    return DatabaseOriginals(database, tmp_path / "documents")


def test_a_written_original_is_a_local_file_with_its_bytes(originals: Originals) -> None:
    originals.write("abc.pdf", DATA)
    path = originals.path("abc.pdf")
    assert path.read_bytes() == DATA and path.parent == originals.directory
    originals.write("abc.pdf", b"other")
    assert originals.path("abc.pdf").read_bytes() == b"other"


def test_a_deleted_or_unknown_original_is_not_found(originals: Originals) -> None:
    originals.write("abc.pdf", DATA)
    originals.delete("abc.pdf")
    originals.delete("abc.pdf")  # twice is fine
    for name in ("abc.pdf", "never.pdf"):
        with pytest.raises(NotFound):
            originals.path(name)
    assert list(originals.directory.iterdir()) == []


def test_a_failed_write_leaves_the_old_original_and_no_temporary_file(originals: Originals,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    originals.write("abc.pdf", DATA)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        originals.write("abc.pdf", b"half")
    monkeypatch.undo()
    assert originals.path("abc.pdf").read_bytes() in (DATA, b"half")  # the database row is one statement
    assert [p.name for p in originals.directory.iterdir()] == ["abc.pdf"]


def test_pruning_keeps_the_originals_of_a_directory_store(tmp_path: Path) -> None:
    originals = DirectoryOriginals(tmp_path / "documents")
    originals.write("abc.pdf", DATA)
    originals.prune(set())
    assert originals.path("abc.pdf").read_bytes() == DATA


def test_old_temporary_files_are_pruned_but_a_writer_s_current_one_is_not(originals: Originals) -> None:
    old, current = originals.directory / "x.pdf.1.part", originals.directory / "y.pdf.2.part"
    old.write_bytes(b"crashed")
    current.write_bytes(b"being written")
    os.utime(old, (0, 0))
    originals.prune(set())
    assert not old.exists() and current.exists()


Hosts = Callable[[], tuple[DatabaseOriginals, DatabaseOriginals]]


@pytest.fixture
def hosts(database: Database, tmp_path: Path) -> Hosts:
    """Two database stores with a local cache each, as on two hosts."""
    return lambda: (DatabaseOriginals(database, tmp_path / "a"), DatabaseOriginals(database, tmp_path / "b"))


def test_an_original_written_on_one_host_is_fetched_once_on_another(hosts: Hosts) -> None:
    a, b = hosts()
    a.write("abc.pdf", DATA)
    assert not (b.directory / "abc.pdf").exists()
    assert b.path("abc.pdf").read_bytes() == DATA
    assert (b.directory / "abc.pdf").read_bytes() == DATA


def test_an_original_deleted_on_one_host_is_gone_on_every_host(hosts: Hosts) -> None:
    a, b = hosts()
    a.write("abc.pdf", DATA)
    b.path("abc.pdf")
    b.delete("abc.pdf")
    with pytest.raises(NotFound):
        a.path("abc.pdf")
    assert list(a.directory.iterdir()) == [] and list(b.directory.iterdir()) == []


def test_pruning_drops_local_copies_of_originals_deleted_elsewhere(hosts: Hosts) -> None:
    a, b = hosts()
    a.write("keep.pdf", DATA)
    a.write("gone.pdf", DATA)
    b.delete("gone.pdf")
    a.prune({"keep.pdf"})
    assert [p.name for p in a.directory.iterdir()] == ["keep.pdf"]
