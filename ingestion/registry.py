"""The document registry (SQLite): which documents are indexed, and which are half-way (for crash recovery).

A document is visible to search only when its row is `ready`. Replacing a document flips the new row to
`ready` and the old one to `deleting` in one transaction, so readers see either version, never both.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id      TEXT PRIMARY KEY,          -- sha256 of the file's bytes
    source      TEXT NOT NULL,             -- path or file name as ingested; a new version replaces the old
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    chunks      INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL CHECK (status IN ('indexing', 'ready', 'deleting')),
    stored_path TEXT,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
-- Which process is indexing a document, so that another process sharing this registry does not take its
-- work in progress for a crashed one.
CREATE TABLE IF NOT EXISTS owners (
    doc_id TEXT PRIMARY KEY,
    host   TEXT NOT NULL,
    pid    INTEGER NOT NULL
);
"""
STALE_ELSEWHERE = timedelta(hours=1)  # an unfinished document owned by another host is abandoned after this


@dataclass(frozen=True)
class DocumentRecord:
    """One row of the registry."""

    doc_id: str
    source: str
    name: str
    title: str
    kind: str
    size: int
    chunks: int
    status: str
    stored_path: str | None
    ingested_at: str


class Registry:
    """Thread-safe access to the registry database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def get(self, doc_id: str) -> DocumentRecord | None:
        """The row for ``doc_id``, in any status."""
        with self._lock:
            row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentRecord(*row) if row else None

    def list(self, status: str | None = "ready") -> list[DocumentRecord]:
        """Rows in ``status`` (all when None), by source."""
        query, args = "SELECT * FROM documents", ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY source", args).fetchall()
        return [DocumentRecord(*r) for r in rows]

    def ready_ids(self) -> set[str]:
        """Ids of the documents search may show."""
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT doc_id FROM documents WHERE status = 'ready'")}

    def begin(self, record: DocumentRecord) -> None:
        """Register a document as `indexing` (invisible to search)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (record.doc_id, record.source, record.name, record.title, record.kind, record.size,
                              record.chunks, "indexing", record.stored_path, record.ingested_at))
            self._db.execute("INSERT OR REPLACE INTO owners VALUES (?, ?, ?)",
                             (record.doc_id, socket.gethostname(), os.getpid()))

    def publish(self, doc_id: str, chunks: int) -> list[str]:
        """Make ``doc_id`` ready and mark older versions of the same source `deleting`, atomically; return those."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                source = self._db.execute("SELECT source FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()[0]
                old = [r[0] for r in self._db.execute(
                    "SELECT doc_id FROM documents WHERE source = ? AND doc_id != ? AND status = 'ready'",
                    (source, doc_id))]
                self._db.execute("UPDATE documents SET status = 'deleting' WHERE source = ? AND doc_id != ?"
                                 " AND status = 'ready'", (source, doc_id))
                self._db.execute("UPDATE documents SET status = 'ready', chunks = ?, ingested_at = ?"
                                 " WHERE doc_id = ?", (chunks, now(), doc_id))
                self._db.execute("DELETE FROM owners WHERE doc_id = ?", (doc_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return old

    def mark_deleting(self, doc_id: str) -> None:
        """Hide a document from search before its chunks are removed."""
        with self._lock:
            self._db.execute("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", (doc_id,))

    def remove(self, doc_id: str) -> None:
        """Forget a document whose chunks are gone."""
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM owners WHERE doc_id = ?", (doc_id,))

    def unfinished(self) -> list[DocumentRecord]:
        """Rows left `indexing` or `deleting` by a process that stopped half-way (not by one still at work)."""
        with self._lock:
            rows = self._db.execute("SELECT d.*, o.host, o.pid FROM documents d LEFT JOIN owners o"
                                    " ON o.doc_id = d.doc_id WHERE d.status != 'ready'").fetchall()
        return [DocumentRecord(*r[:-2]) for r in rows if _abandoned(r[7], r[9], r[-2], r[-1])]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _abandoned(status: str, ingested_at: str, host: str | None, pid: int | None) -> bool:
    """Whether an unfinished row's owner is gone: a dead process here, or silence elsewhere for an hour."""
    if status != "indexing" or host is None or pid is None:
        return True  # deleting is idempotent: finishing another process's deletion twice does no harm
    if host == socket.gethostname():
        if pid == os.getpid():
            return True  # this process is starting: nothing of its own can be in progress
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return datetime.now(UTC) - datetime.fromisoformat(ingested_at) > STALE_ELSEWHERE


def now() -> str:
    """The current UTC time, ISO-8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
