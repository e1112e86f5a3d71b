"""Folder sync against a real index (the real embedder, Chroma, the parsing sandbox): new, changed, removed
and unchanged files, failures one by one, the atomic replacement of a changed file, and one run at a time."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.database import Database
from core.errors import NotFound
from core.process import Owner
from ingestion.folder_sync import NOT_RETRIED, FolderSync, SyncBusy, source_key
from ingestion.index import Index
from ingestion.lexical import LexicalIndex
from ingestion.registry import Registry
from ingestion.sandbox import SandboxedParser, SandboxLimits
from ingestion.settings import IngestionSettings
from ingestion.store import ChromaStore
from ingestion.sync_state import STALE_SECONDS, SyncState
from tests.hostile.files import W, docx, text_pdf

pytestmark = pytest.mark.slow


def word(paragraphs: list[str]) -> bytes:
    """A real DOCX with these paragraphs."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return docx(f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'.encode())


def share_with_three_formats(share: Path) -> Path:
    (share / "verkeer").mkdir(parents=True)
    (share / "verkeer" / "parkeren.md").write_text(
        "# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n", encoding="utf-8")
    (share / "thuiswerken.docx").write_bytes(word(["Thuiswerken", "Een medewerker werkt hoogstens drie dagen thuis."]))
    (share / "afval.pdf").write_bytes(text_pdf(1, "De gft-container wordt elke dinsdag geleegd"))
    return share


@pytest.fixture
def world(tmp_path: Path, embedder) -> Iterator[tuple[Index, FolderSync, Database]]:
    """A real index (Chroma, BM25, the parsing sandbox) and folder sync over its registry's database."""
    data, settings = tmp_path / "data", IngestionSettings()
    db = Database(data / "index" / "documents.sqlite3")
    parser = SandboxedParser(SandboxLimits.from_settings(settings))
    index = Index(embedder, ChromaStore(data / "index" / "chroma"), Registry(db), data / "documents", settings,
                  lexical=LexicalIndex(data / "index" / "lexical"), parser=parser)
    index.recover()
    yield index, FolderSync(index, SyncState(db), settings.max_file_mb * 1024 * 1024), db
    parser.close()


def test_a_folder_is_mirrored_and_a_second_run_reads_nothing(world, tmp_path: Path) -> None:
    index, folder_sync, _ = world
    share = share_with_three_formats(tmp_path / "share")
    first = folder_sync.sync(share)
    assert first.counts() | {"skipped": 0} == {"new": 3, "changed": 0, "removed": 0, "kept": 0, "unchanged": 0,
                                               "failed": 0, "failed_unchanged": 0, "skipped": 0}
    assert {d.source for d in index.documents()} == {"sync:algemeen/verkeer/parkeren.md",
                                                     "sync:algemeen/thuiswerken.docx", "sync:algemeen/afval.pdf"}
    assert index.search("Wanneer wordt de gft-container geleegd?", 1)[0].document == "sync:algemeen/afval.pdf"

    # Same size and mtime: unchanged without being read (these bytes, if read, would be indexed anew).
    parkeren = share / "verkeer" / "parkeren.md"
    before = parkeren.stat()
    parkeren.write_text(parkeren.read_text(encoding="utf-8").replace("veertig", "vijftig"), encoding="utf-8")
    os.utime(parkeren, ns=(before.st_atime_ns, before.st_mtime_ns))
    second = folder_sync.sync(share)
    assert second.counts()["unchanged"] == 3 and second.counts()["new"] == second.counts()["changed"] == 0


def test_a_changed_file_replaces_its_old_version_and_a_removed_one_goes_only_with_delete(world, tmp_path) -> None:
    index, folder_sync, _ = world
    share = share_with_three_formats(tmp_path / "share")
    folder_sync.sync(share)
    (share / "verkeer" / "parkeren.md").write_text(
        "# Parkeren\n\nEen parkeervergunning kost vijfenzestig euro per jaar.\n", encoding="utf-8")
    (share / "afval.pdf").unlink()
    report = folder_sync.sync(share)
    assert {i.path: i.status for i in report.items} == {"verkeer/parkeren.md": "changed", "thuiswerken.docx":
                                                        "unchanged", "afval.pdf": "kept"}
    parkeren = [d for d in index.documents() if d.source == source_key("algemeen", "verkeer/parkeren.md")]
    assert len(parkeren) == 1  # the old version retired in the same transaction
    [hit] = index.search("Wat kost een parkeervergunning?", 1)
    assert "vijfenzestig" in hit.text and hit.doc_id == parkeren[0].doc_id
    assert any(d.source.endswith("afval.pdf") for d in index.documents())  # kept: no --delete

    removed = folder_sync.sync(share, delete=True)
    assert removed.counts()["removed"] == 1 and removed.counts()["unchanged"] == 2
    assert not any(d.source.endswith("afval.pdf") for d in index.documents())
    assert folder_sync.sync(share, delete=True).counts()["removed"] == 0  # forgotten once deleted


def test_a_replaced_document_is_searchable_at_every_moment_of_its_replacement(world, tmp_path: Path) -> None:
    index, folder_sync, _ = world
    share = tmp_path / "share"
    share.mkdir()
    nota = share / "nota.md"
    nota.write_text("# Nota\n\n" + "De hondenbelasting bedraagt honderd euro per hond. " * 60, encoding="utf-8")
    folder_sync.sync(share)
    nota.write_text("# Nota\n\n" + "De hondenbelasting bedraagt negentig euro per hond. " * 60, encoding="utf-8")
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len({h.doc_id for h in index.search("Hoeveel is de hondenbelasting?", 4, mode="lexical")}))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert folder_sync.sync(share).counts()["changed"] == 1
    finally:
        stop.set()
        watcher.join()
    assert seen and set(seen) == {1}, seen  # one version, never none and never both


def test_a_corrupt_file_fails_with_its_reason_and_the_others_are_still_synced(world, tmp_path: Path) -> None:
    _, folder_sync, _ = world
    share = share_with_three_formats(tmp_path / "share")
    (share / "kapot.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    (share / "leeg.docx").write_bytes(b"")
    (share / "~$thuiswerken.docx").write_bytes(b"eigenaar")
    report = folder_sync.sync(share)
    failures = dict(report.failures())
    assert set(failures) == {"kapot.pdf", "leeg.docx"} and all(failures.values())
    assert report.counts()["new"] == 3 and report.skipped == [("~$thuiswerken.docx", "tijdelijk bestand")]
    assert folder_sync.runs(1)[0].failures == [list(f) for f in report.failures()]


def test_a_failed_file_is_not_parsed_again_until_it_changes_or_a_retry_is_asked(world, tmp_path, monkeypatch) -> None:
    index, folder_sync, _ = world
    share = tmp_path / "share"
    share.mkdir()
    (share / "parkeren.md").write_text("# Parkeren\n\nEen vergunning kost veertig euro.\n", encoding="utf-8")
    kapot = share / "kapot.pdf"
    kapot.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    parsed: list[str] = []
    parse = index._parser.parse
    monkeypatch.setattr(index._parser, "parse", lambda data, name: parsed.append(name) or parse(data, name))
    first = folder_sync.sync(share)
    assert first.counts()["failed"] == 1 and sorted(parsed) == ["kapot.pdf", "parkeren.md"]
    [(_, reason)] = first.failures()

    parsed.clear()
    again = folder_sync.sync(share)
    assert again.counts()["failed"] == 0 and again.counts()["failed_unchanged"] == 1 and parsed == []
    assert again.failures() == [("kapot.pdf", reason + NOT_RETRIED)]  # still listed, with its reason
    assert folder_sync.runs(1)[0].counts["failed_unchanged"] == 1  # what the page shows
    os.utime(kapot, ns=(time.time_ns(), time.time_ns()))  # touched: read and hashed, the same bytes
    assert folder_sync.sync(share).counts()["failed_unchanged"] == 1 and parsed == []

    retried = folder_sync.sync(share, retry_failed=True)
    assert retried.counts()["failed"] == 1 and parsed == ["kapot.pdf"]
    kapot.write_bytes(text_pdf(1, "De markt is elke zaterdag open"))  # repaired: tried again, indexed
    assert folder_sync.sync(share).counts()["new"] == 1
    counts = folder_sync.sync(share).counts()
    assert counts["unchanged"] == 2 and counts["failed"] == counts["failed_unchanged"] == 0


def test_a_failure_is_tried_again_once_it_is_retry_hours_old(world, tmp_path, monkeypatch) -> None:
    index, _, db = world  # a time-out under load is not the file's fault for ever
    share = tmp_path / "share"
    share.mkdir()
    (share / "kapot.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    folder_sync = FolderSync(index, SyncState(db), 1 << 26, retry_hours=1)
    assert folder_sync.sync(share).counts()["failed"] == 1
    assert folder_sync.sync(share).counts()["failed_unchanged"] == 1
    later = time.time() + 3601
    monkeypatch.setattr("ingestion.folder_sync.time.time", lambda: later)
    assert folder_sync.sync(share).counts()["failed"] == 1  # parsed again, and remembered anew


def test_a_file_over_the_limit_is_remembered_and_tried_again_under_a_higher_limit(world, tmp_path) -> None:
    index, folder_sync, db = world
    share = tmp_path / "share"
    share.mkdir()
    groot = share / "groot.md"
    groot.write_text("# Groot\n\n" + "De begroting is vastgesteld. " * 80, encoding="utf-8")
    small = FolderSync(index, SyncState(db), 1024)
    assert small.sync(share).counts()["failed"] == 1
    assert small.sync(share).counts()["failed_unchanged"] == 1
    assert folder_sync.sync(share).counts()["new"] == 1  # the ingestion limit of 50 MB
    assert not SyncState(db).failures("algemeen")

    (share / "ander.md").write_bytes(groot.read_bytes() + b"Ook de bijlage.\n")
    assert small.sync(share).counts()["failed"] == 1
    (share / "ander.md").unlink()  # a failed file that left the folder: forgotten, nothing to report
    assert small.sync(share).counts() == {"new": 0, "changed": 0, "removed": 0, "kept": 0, "unchanged": 1,
                                          "failed": 0, "failed_unchanged": 0, "skipped": 0}
    assert not SyncState(db).failures("algemeen")


def test_one_sync_at_a_time_and_a_silent_holder_on_another_host_is_taken_for_interrupted(world, tmp_path) -> None:
    _, folder_sync, db = world
    share = share_with_three_formats(tmp_path / "share")
    elsewhere = SyncState(db, Owner("andere-server", 4242, 1))
    holder, started = elsewhere.begin("algemeen", "/mnt/share", "schedule", "systeem")
    assert started
    with pytest.raises(SyncBusy, match="er loopt al een synchronisatie"):
        folder_sync.sync(share)
    with db.connect() as conn:  # its heartbeat stopped long ago
        conn.execute("UPDATE sync_runs SET updated = ? WHERE id = ?", (time.time() - STALE_SECONDS - 1, holder.id))
    assert folder_sync.sync(share).counts()["new"] == 3
    assert [r.status for r in folder_sync.runs()] == ["done", "interrupted"]


def test_a_folder_goes_into_the_collection_given_and_an_unknown_one_is_refused(world, tmp_path: Path) -> None:
    index, folder_sync, _ = world
    share = share_with_three_formats(tmp_path / "share")
    with pytest.raises(NotFound, match="geen collectie"):
        folder_sync.sync(share, scope="bestaat-niet")
    assert folder_sync.runs() == []  # refused before a run is on record
    index.collections.add("verkeer")
    assert folder_sync.sync(share, scope="verkeer").counts()["new"] == 3
    assert {d.collection for d in index.documents()} == {"verkeer"}
    assert {d.source for d in index.documents(["verkeer"])} >= {source_key("verkeer", "afval.pdf")}
    assert index.search("Wanneer wordt de gft-container geleegd?", 1, collections=["algemeen"]) == []


def test_a_renamed_file_keeps_its_document_and_a_copy_is_one_document(world, tmp_path: Path) -> None:
    index, folder_sync, _ = world
    share = share_with_three_formats(tmp_path / "share")
    folder_sync.sync(share)
    (share / "afval.pdf").rename(share / "afvalkalender.pdf")
    (share / "kopie-thuiswerken.docx").write_bytes((share / "thuiswerken.docx").read_bytes())
    renamed = folder_sync.sync(share, delete=True)
    statuses = {i.path: i.status for i in renamed.items}
    assert statuses == {"afvalkalender.pdf": "unchanged", "kopie-thuiswerken.docx": "unchanged",
                        "thuiswerken.docx": "unchanged", "verkeer/parkeren.md": "unchanged", "afval.pdf": "removed"}
    assert len(index.documents()) == 3  # nothing deleted, nothing indexed twice
    assert index.search("Wanneer wordt de gft-container geleegd?", 1)
    again = folder_sync.sync(share, delete=True)
    assert again.counts()["removed"] == 0 and again.counts()["unchanged"] == 4 and len(again.items) == 4
