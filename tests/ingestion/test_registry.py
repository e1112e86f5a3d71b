"""The registry contract on SQLite and PostgreSQL: publishing, ownership and heartbeats between hosts, and
registries written before heartbeats."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import ingestion.registry as registry_module
from core.database import Database
from ingestion.registry import HEARTBEAT_TIMEOUT, DocumentRecord, Registry, now


def record(doc_id: str, source: str = "beleid.md") -> DocumentRecord:
    return DocumentRecord(doc_id, source, source, "Beleid", "markdown", 10, 0, "indexing", f"{doc_id}.md", now())


def age(database: Database, doc_id: str, seconds: float) -> None:
    """Make an owner's last heartbeat ``seconds`` older."""
    with database.connect() as conn:
        conn.execute("UPDATE owners SET touched = touched - ? WHERE doc_id = ?", (seconds, doc_id))


def test_a_document_is_invisible_until_published_and_then_retires_the_older_version(database: Database) -> None:
    registry = Registry(database)
    assert registry.begin(record("old"))
    assert registry.ready_ids() == set() and registry.get("old").status == "indexing"  # type: ignore[union-attr]
    assert registry.publish("old", 3) == []
    assert registry.ready_ids() == {"old"} and registry.get("old").chunks == 3  # type: ignore[union-attr]
    assert registry.begin(record("new"))
    assert registry.publish("new", 2) == ["old"]
    assert registry.ready_ids() == {"new"} and [r.doc_id for r in registry.list("deleting")] == ["old"]
    registry.remove("old")
    assert [r.doc_id for r in registry.list(None)] == ["new"] and registry.unfinished() == []


def test_a_ready_document_is_not_begun_again(database: Database) -> None:
    registry = Registry(database)
    registry.begin(record("a"))
    registry.publish("a", 1)
    assert not registry.begin(record("a"))
    assert registry.get("a").status == "ready"  # type: ignore[union-attr]


def test_a_document_another_live_host_is_indexing_is_left_to_it(database: Database) -> None:
    here, there = Registry(database, host="here"), Registry(database, host="there")
    assert there.begin(record("a"))
    assert not here.begin(record("a"))
    assert here.unfinished() == []
    assert there.publish("a", 1) == [] and here.ready_ids() == {"a"}


def test_a_silent_other_host_is_abandoned_after_the_heartbeat_timeout(database: Database,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    here, there = Registry(database, host="here"), Registry(database, host="there")
    there.begin(record("fresh"))
    there.begin(record("silent"))
    age(database, "silent", HEARTBEAT_TIMEOUT.total_seconds() + 5)
    assert [r.doc_id for r in here.unfinished()] == ["silent"]
    there.touch("silent")  # throttled: it said so a moment ago
    assert [r.doc_id for r in here.unfinished()] == ["silent"]
    monkeypatch.setattr(registry_module, "TOUCH_EVERY", 0.0)
    there.touch("silent")
    assert here.unfinished() == []


def test_a_silent_host_whose_document_was_taken_over_cannot_publish_it(database: Database) -> None:
    here, there = Registry(database, host="here"), Registry(database, host="there")
    there.begin(record("a"))
    age(database, "a", HEARTBEAT_TIMEOUT.total_seconds() + 5)
    assert here.begin(record("a"))
    assert there.publish("a", 1) is None and here.ready_ids() == set()
    assert here.publish("a", 1) == [] and here.ready_ids() == {"a"}


def test_on_the_same_host_a_dead_pid_is_abandoned_and_a_live_one_is_not(database: Database) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        Registry(database, pid=dead.pid).begin(record("dead"))
        Registry(database, pid=live.pid).begin(record("live"))
        age(database, "live", 10 * HEARTBEAT_TIMEOUT.total_seconds())  # the pid decides on one host, not silence
        assert [r.doc_id for r in Registry(database).unfinished()] == ["dead"]
    finally:
        live.kill()
        live.wait()


def test_a_pid_reused_by_a_later_process_does_not_keep_a_dead_owners_document(database: Database) -> None:
    """As in a restarted container: the owner's pid now belongs to another live process (here: our parent)."""
    from core.process import Owner, start_ticks

    parent = os.getppid()
    Registry(database, pid=parent).begin(record("reused"))
    with database.connect() as conn:
        conn.execute("UPDATE owners SET started = ? WHERE doc_id = 'reused'", ((start_ticks(parent) or 0) + 1,))
    assert [r.doc_id for r in Registry(database).unfinished()] == ["reused"]
    with database.connect() as conn:  # the owner's real start time: it still runs, its work is left alone
        conn.execute("UPDATE owners SET started = ? WHERE doc_id = 'reused'", (start_ticks(parent),))
    assert Registry(database).unfinished() == [] and Owner(Owner.this_process().host, parent, 0).running()


def test_deleting_rows_are_always_finished_by_whoever_starts(database: Database) -> None:
    registry = Registry(database, host="there")
    registry.begin(record("a"))
    registry.publish("a", 1)
    registry.mark_deleting("a")
    assert [r.doc_id for r in Registry(database, host="here").unfinished()] == ["a"]


def test_publishing_one_source_from_several_hosts_at_once_leaves_one_ready_row(database: Database) -> None:
    hosts = [Registry(database, host=f"host-{i}") for i in range(4)]
    rounds = 15
    barrier = threading.Barrier(len(hosts))
    retired: list[str] = []
    errors: list[BaseException] = []

    def publish(host: int) -> None:
        try:
            for n in range(rounds):
                doc_id = f"v{n}-{host}"
                hosts[host].begin(record(doc_id, source=f"s{n}"))
                barrier.wait()
                retired.extend(hosts[host].publish(doc_id, 1) or [])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=publish, args=(i,)) for i in range(len(hosts))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    for n in range(rounds):
        rows = [r for r in hosts[0].list(None) if r.source == f"s{n}"]
        assert [r.status for r in rows].count("ready") == 1, rows
        assert sorted(r.doc_id for r in rows if r.status == "deleting") == sorted(
            d for d in retired if d.startswith(f"v{n}-"))


OLD_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL, title TEXT NOT NULL,
    kind TEXT NOT NULL, size INTEGER NOT NULL, chunks INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('indexing', 'ready', 'deleting')), stored_path TEXT,
    ingested_at TEXT NOT NULL);
CREATE INDEX documents_source ON documents(source);
CREATE TABLE owners (doc_id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL);
"""


def test_a_registry_written_before_heartbeats_opens_and_works(tmp_path: Path) -> None:
    path = tmp_path / "documents.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO documents VALUES ('a', 'a.md', 'a.md', 'A', 'markdown', 1, 2, 'ready', 'a.md', ?)",
                (now(),))
    old.execute("INSERT INTO documents VALUES ('b', 'b.md', 'b.md', 'B', 'markdown', 1, 0, 'indexing', 'b.md', ?)",
                (now(),))
    old.execute("INSERT INTO owners VALUES ('b', 'elsewhere', 1)")
    old.commit()
    old.close()

    registry = Registry(path)
    assert registry.ready_ids() == {"a"} and registry.get("a").chunks == 2  # type: ignore[union-attr]
    assert registry.unfinished() == []  # another host's work: it gets a heartbeat's grace from now
    age(Database(path), "b", HEARTBEAT_TIMEOUT.total_seconds() + 5)
    assert [r.doc_id for r in registry.unfinished()] == ["b"]
    assert registry.begin(record("c", source="a.md")) and registry.publish("c", 1) == ["a"]
    assert Registry(path).ready_ids() == {"c"}  # opening it again changes nothing


def test_an_owners_table_without_start_times_gets_the_column(database: Database) -> None:
    Registry(database)
    with database.connect() as conn:
        conn.execute("ALTER TABLE owners DROP COLUMN started")
        conn.execute("DROP TABLE _migrations")  # a registry from before start times, and before migrations
    Registry(database).begin(record("a"))  # opening adds it back; begin writes it
    with database.connect() as conn:
        assert conn.execute("SELECT started FROM owners WHERE doc_id = 'a'").fetchone()["started"] is not None
