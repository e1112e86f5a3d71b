"""What the SQLite adapter adds to the contract: WAL mode, file modes and the append-only triggers."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from assistant.audit.records import prepare_record
from assistant.audit.sqlite_store import SQLiteAuditStore


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    adapter = SQLiteAuditStore(tmp_path / "audit.sqlite3", durable=False)
    for n in range(3):
        adapter.append(lambda seq, head, n=n: prepare_record(
            seq, head, time="2026-01-01T00:00:00.000000Z", action="conversation.turn", actor="p", role="user",
            attributes={}, content={"question": f"q{n}"}))
    yield adapter
    adapter.close()


def test_the_database_is_in_wal_mode_and_private(store: SQLiteAuditStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


@pytest.mark.parametrize("statement", [
    "UPDATE records SET outcome = 'refused' WHERE seq = 2",
    "UPDATE records SET record_json = NULL WHERE seq = 2",
    "DELETE FROM records WHERE seq = 3",
    ("INSERT INTO records SELECT 2, time, action, actor, conversation_id, outcome, record_json, record_hash,"
     " head, format, body_hash FROM records WHERE seq = 1"),
    "UPDATE content SET content_json = '{}' WHERE seq = 1",
    "DELETE FROM content WHERE seq = 1",
])
def test_triggers_refuse_changes_outside_the_retention_path(store: SQLiteAuditStore, statement: str) -> None:
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="audit|UNIQUE"):
        conn.execute(statement)
    conn.close()


def test_a_purge_authorisation_cannot_change_the_chain_fields(store: SQLiteAuditStore) -> None:
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO purge_authorisation (seq) VALUES (2)")
    with pytest.raises(sqlite3.DatabaseError, match="outside retention purge"):
        conn.execute("UPDATE records SET record_hash = x'00' WHERE seq = 2")
    for change in ("format = 1", "body_hash = NULL", "time = '2001-01-01T00:00:00.000000Z'"):
        with pytest.raises(sqlite3.DatabaseError, match="outside retention purge"):
            conn.execute(f"UPDATE records SET record_json = NULL, {change} WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="cannot be deleted"):
        conn.execute("DELETE FROM records WHERE seq = 2")
    conn.execute("ROLLBACK")
    conn.close()


def test_records_can_only_be_appended_at_the_end(store: SQLiteAuditStore) -> None:
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="appended in sequence"):
        conn.execute("INSERT INTO records (seq, time, action, record_hash, head) VALUES (9, 't', 'a', x'00', x'00')")
    conn.close()


def test_the_purge_authorisation_is_empty_after_a_purge(store: SQLiteAuditStore) -> None:
    store.purge([1], [2], lambda seq, head: prepare_record(
        seq, head, time="2026-01-02T00:00:00.000000Z", action="audit.purge", actor="p", role="system",
        attributes={}))
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT COUNT(*) FROM purge_authorisation").fetchone()[0] == 0
    conn.close()
