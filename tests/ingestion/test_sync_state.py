"""Folder sync's state on both dialects: synced files by scope and path, and one running run at a time over
every process and host, a dead or silent holder's run taken for interrupted."""

from __future__ import annotations

import threading
import time

from core.database import Database
from core.migrations import apply
from core.process import Owner
from ingestion.sync_state import MIGRATIONS, STALE_SECONDS, FailedFile, SyncedFile, SyncState


def test_files_are_kept_per_scope_and_path(database: Database) -> None:
    state = SyncState(database)
    state.record("algemeen", SyncedFile("beleid/parkeren.md", 120, 1_796_000_000_123_456_789, "ab" * 32))
    state.record("hr", SyncedFile("beleid/parkeren.md", 7, 1, "cd" * 32))
    state.record("algemeen", SyncedFile("beleid/parkeren.md", 121, 2, "ef" * 32))  # a later sync
    assert state.files("algemeen") == {"beleid/parkeren.md": SyncedFile("beleid/parkeren.md", 121, 2, "ef" * 32)}
    state.forget("algemeen", "beleid/parkeren.md")
    assert state.files("algemeen") == {} and len(state.files("hr")) == 1
    assert SyncState(database).files("hr")  # a second process opens the same tables (migrations applied once)


def test_a_failure_is_remembered_until_the_file_is_synced_or_leaves_and_old_tables_are_migrated(
        database: Database) -> None:
    apply(database, "folder_sync", MIGRATIONS[:1])  # a database of the previous release
    state = SyncState(database)
    with database.connect() as conn:
        assert {r["name"] for r in conn.execute("SELECT name FROM _migrations WHERE area = 'folder_sync'")} == {
            "001_synced_files_and_runs", "002_sync_failures"}
    broken = FailedFile("kapot.pdf", 2009, 5, "ab" * 32, "geen geldige PDF")
    state.fail("algemeen", broken)
    state.fail("hr", FailedFile("kapot.pdf", 1, 1, "", "te groot"))
    assert state.failures("algemeen") == {"kapot.pdf": broken}
    state.record("algemeen", SyncedFile("kapot.pdf", 2100, 6, "cd" * 32))  # repaired and indexed
    assert state.failures("algemeen") == {} and len(state.failures("hr")) == 1
    state.forget_failure("hr", "kapot.pdf")
    assert state.failures("hr") == {}


def test_one_run_at_a_time_across_hosts_and_a_silent_holder_is_interrupted(database: Database) -> None:
    here, there = SyncState(database), SyncState(database, Owner("andere-server", 77, 5))
    first, started = there.begin("algemeen", "/mnt/share", "schedule", "systeem")
    assert started
    holder, started = here.begin("algemeen", "/mnt/share", "cli", "cli:beheer")
    assert not started and holder.id == first.id and holder.owner == "andere-server 77"
    first.done, first.total, first.counts = 3, 10, {"new": 3}
    there.save(first)  # a progress write is a heartbeat too
    assert here.runs()[0].done == 3
    with database.connect() as conn:
        conn.execute("UPDATE sync_runs SET updated = ? WHERE id = ?", (time.time() - STALE_SECONDS - 5, first.id))
    run, started = here.begin("algemeen", "/mnt/share", "cli", "cli:beheer")
    assert started and [r.status for r in here.runs()] == ["running", "interrupted"]
    assert here.last_started() == run.started


def test_a_dead_process_on_this_host_holds_no_lock(database: Database) -> None:
    dead = SyncState(database, Owner(Owner.this_process().host, 2**22 + 12345, 1))  # no such pid
    dead.begin("algemeen", "/srv/share", "schedule", "systeem")
    run, started = SyncState(database).begin("algemeen", "/srv/share", "schedule", "systeem")
    assert started and run.status == "running"


def test_processes_starting_at_once_start_one_run(database: Database) -> None:
    hosts = [SyncState(database, Owner(f"host-{n}", 100 + n, 1)) for n in range(4)]
    results: list[bool] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.begin("algemeen", "/s", "schedule", "x")[1]))
               for s in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
