"""The SQLite adapter of the audit store (stdlib `sqlite3` only): WAL mode, append-only triggers, one
exclusive transaction per append so that neither threads nor processes can fork the chain.

Triggers refuse every UPDATE and DELETE of records, content and checkpoints, with one exception, the
retention path: inside its own transaction `purge` writes the sequence numbers it may touch into
`purge_authorisation`, destroys content (DELETE) and metadata (UPDATE that may only set the descriptive
columns to NULL; seq, time, action, format, hashes and head can never change), then empties `purge_authorisation`
before it commits, so the table is empty whenever no purge is running. The triggers stop accidents and casual
edits; someone who can write the file can drop them, which the hash chain and signed checkpoints then reveal.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from assistant.audit.figures import FIGURE_STATEMENTS
from assistant.audit.records import PreparedRecord, Preparer
from assistant.audit.sql_store import SQLAuditStore, apply_migrations
from assistant.audit.store import SCHEMA
from core.database import Connection
from core.errors import AuditError

MIGRATION_STATEMENTS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE records ADD COLUMN format INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE records ADD COLUMN body_hash BLOB",
        "DROP TRIGGER IF EXISTS records_update_only_by_purge"),  # TRIGGERS makes it again, guarding both
    **FIGURE_STATEMENTS,
}

TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS records_append_only BEFORE INSERT ON records
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM records)
BEGIN SELECT RAISE(ABORT, 'audit records are appended in sequence only'); END;

CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END;

CREATE TRIGGER IF NOT EXISTS records_update_only_by_purge BEFORE UPDATE ON records
WHEN NEW.seq IS NOT OLD.seq OR NEW.time IS NOT OLD.time OR NEW.action IS NOT OLD.action
  OR NEW.record_hash IS NOT OLD.record_hash OR NEW.head IS NOT OLD.head
  OR NEW.format IS NOT OLD.format OR NEW.body_hash IS NOT OLD.body_hash
  OR NEW.record_json IS NOT NULL OR NEW.actor IS NOT NULL OR NEW.conversation_id IS NOT NULL
  OR NEW.outcome IS NOT NULL
  OR NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed outside retention purge'); END;

CREATE TRIGGER IF NOT EXISTS content_no_update BEFORE UPDATE ON content
BEGIN SELECT RAISE(ABORT, 'audit content cannot be changed'); END;

CREATE TRIGGER IF NOT EXISTS content_delete_only_by_purge BEFORE DELETE ON content
WHEN NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit content can only be destroyed by retention purge'); END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be changed'); END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted'); END;
"""

T = TypeVar("T")


class SQLiteAuditStore(SQLAuditStore):
    """Audit records in one SQLite file (WAL mode), shared safely by threads and processes."""

    QUESTION = "json_extract(c.content_json, '$.question')"
    DIALECT = "sqlite"
    DRIVER_ERROR = sqlite3.Error
    SNAPSHOT = "BEGIN"  # one read transaction: a consistent snapshot across chunks
    DOCUMENT_FILTER = (
        "(json_extract(r.record_json, '$.\"baken.document.id\"') = ?"
        " OR json_extract(r.record_json, '$.\"baken.document.sha256\"') = ?"
        " OR EXISTS (SELECT 1 FROM json_each(r.record_json, '$.\"baken.sources\"') s"
        " WHERE json_extract(s.value, '$.doc_id') = ? OR json_extract(s.value, '$.content_hash') = ?))")
    REDACTION_FILTER = ("EXISTS (SELECT 1 FROM json_each(r.record_json, '$.\"baken.redactions\"') x"
                        " WHERE json_extract(x.value, '$.type') = ?)")
    # AUTOINCREMENT remembers the highest id ever issued, even of a hold lifted since.
    HOLD_ID_COUNTER = ("SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'holds'), 0),"
                       " COALESCE((SELECT MAX(id) FROM holds), 0))")

    def __init__(self, path: Path, *, durable: bool = True, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = "FULL" if durable else "OFF"
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():  # SQLite gives the -wal and -shm files the database file's mode
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._conn = self._open_with_schema()
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"cannot open the audit log {path}: {exc}") from exc

    def _open_with_schema(self) -> sqlite3.Connection:
        """Connect, create the tables, apply the migrations and create the triggers. Switching a new file to WAL takes an exclusive lock that SQLite's busy
        handler does not wait for, so processes opening a new log together retry until busy_timeout_ms."""
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            conn = None
            try:
                conn = self._connect()
                with self._lock:
                    conn.executescript(SCHEMA)
                    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others then find it done
                    try:
                        apply_migrations(Connection(conn, "sqlite"), "?", MIGRATION_STATEMENTS,
                                         datetime.now(UTC).isoformat())
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                    conn.executescript(TRIGGERS)
                return conn
            except sqlite3.OperationalError as exc:
                if conn is not None:
                    conn.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self._busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA secure_delete = ON")  # purged content is overwritten, not just unlinked
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in one BEGIN IMMEDIATE transaction; any failure rolls back and is an AuditError."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(Connection(self._conn, "sqlite"))
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.Error as exc:
                raise AuditError(f"cannot write the audit log {self.path}: {exc}") from exc

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise AuditError(f"cannot read the audit log {self.path}: {exc}") from exc

    def purge(self, content_seqs: list[int], metadata_seqs: list[int], prepare: Preparer) -> PreparedRecord:
        """Destroy content and metadata under a purge authorisation and append the purge record, atomically."""
        record = super().purge(content_seqs, metadata_seqs, prepare)
        # Old page images of the destroyed rows may sit in the WAL: copy it back and cut it to zero bytes.
        self._read("PRAGMA wal_checkpoint(TRUNCATE)")
        return record

    def add_hold(self, conversation_id: str | None, seq_from: int | None, seq_to: int | None, reason: str,
                 created: str, created_by: str) -> int:
        """Store a legal hold; returns its id."""
        return int(self._write(lambda conn: conn.execute(
            "INSERT INTO holds (conversation_id, seq_from, seq_to, reason, created, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)", (conversation_id, seq_from, seq_to, reason, created, created_by),
        ).lastrowid or 0))  # type: ignore[attr-defined]  # sqlite3's cursor

    def location(self) -> str:
        """The database file, resolved."""
        return str(self.path.resolve())

    def _label(self) -> str:
        return str(self.path)

    def _set_hold_counter(self, conn: Connection, counter: int) -> None:
        if counter and not conn.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'holds'",
                                        (counter,)).rowcount:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('holds', ?)", (counter,))

    def close(self) -> None:
        """Close the connection (SQLite checkpoints and removes the WAL when the last one closes)."""
        with self._lock:
            self._conn.close()
