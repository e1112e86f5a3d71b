"""The document registry: which documents are indexed, and which are half-way (for crash recovery).

It lives in the shared-state database (`core.database`): an SQLite file for one host, or PostgreSQL that
the processes of several hosts share. A document is visible to search only when its row is `ready`.
Replacing a document flips the new row to `ready` and the old one to `deleting` in one transaction,
serialised per source, so readers see either version, never both, and two processes publishing versions
of one source never leave two `ready` rows.

Each `indexing` row has an owner (`core.process.Owner`: host, pid, start time) with a heartbeat
(`touched`, on the database's clock, so hosts need not agree on the time). Another process takes an
unfinished row for abandoned when its owner is a process on the same host that is gone (its pid dead, or
reused by a later process), or is on another host and has been silent for `HEARTBEAT_TIMEOUT`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from core.database import Connection, Database, Row
from core.migrations import Migration, apply, columns
from core.process import Owner

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id      TEXT PRIMARY KEY,          -- sha256 of the file's bytes
    source      TEXT NOT NULL,             -- path or file name as ingested; a new version replaces the old
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    chunks      INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL CHECK (status IN ('indexing', 'ready', 'deleting')),
    stored_path TEXT,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
-- Which process is indexing a document, and when it last said so (seconds since the epoch, database clock),
-- so that another process sharing this registry does not take its work in progress for a crashed one.
CREATE TABLE IF NOT EXISTS owners (
    doc_id  TEXT PRIMARY KEY,
    host    TEXT NOT NULL,
    pid     INTEGER NOT NULL,
    touched DOUBLE PRECISION,
    started BIGINT             -- the owner's start time (core.process), so a reused pid is not taken for it
);
"""
HEARTBEAT_TIMEOUT = timedelta(minutes=5)  # an unfinished row owned by a silent other host is abandoned after this
TOUCH_EVERY = 10.0  # seconds between heartbeats of one document
CLOCK = {  # the database's clock, in seconds since the epoch
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgres": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
}
_OWNER = "SELECT d.*, o.host, o.pid, o.started, {clock} - o.touched AS silence FROM documents d" \
         " LEFT JOIN owners o ON o.doc_id = d.doc_id"


def _owner_columns(conn: Connection) -> None:
    """Registries written before heartbeats have no `touched` (their owners get one from now), and before
    start times no `started` (unknown: only the pid is checked)."""
    present = columns(conn, "owners")
    if "touched" not in present:
        conn.execute("ALTER TABLE owners ADD COLUMN touched DOUBLE PRECISION")
        conn.execute(f"UPDATE owners SET touched = {CLOCK[conn.dialect]}")
    if "started" not in present:
        conn.execute("ALTER TABLE owners ADD COLUMN started BIGINT")


def _collection_columns(conn: Connection) -> None:
    """Every document belongs to one collection (those indexed before collections: `algemeen`), and the
    registry notes which collection its chunks in the vector store carry, so that a move interrupted half-way
    is finished by `Index.recover`."""
    present = columns(conn, "documents")
    if "collection" not in present:
        conn.execute("ALTER TABLE documents ADD COLUMN collection TEXT NOT NULL DEFAULT 'algemeen'")
    if "chunks_collection" not in present:
        conn.execute("ALTER TABLE documents ADD COLUMN chunks_collection TEXT")


MIGRATIONS = (
    Migration("001_documents", SCHEMA),
    Migration("002_owner_heartbeat", _owner_columns),
    Migration("003_document_collection", _collection_columns),
    Migration("004_stored_path_index", "CREATE INDEX IF NOT EXISTS documents_stored_path ON documents(stored_path)"),
)


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
    collection: str = "algemeen"


_FIELDS = [f.name for f in fields(DocumentRecord)]
# Spelt out here because inside Registry `list` names its method.
Records: TypeAlias = list[DocumentRecord]
DocIds: TypeAlias = list[str]


class Registry:
    """The registry in an SQLite file (a `Path`) or in a shared `Database`; thread-safe.

    ``host`` and ``pid`` name this process as an owner (tests pose as another process with them).
    """

    def __init__(self, where: Path | Database, *, host: str | None = None, pid: int | None = None) -> None:
        self._owned = not isinstance(where, Database)
        self._db = Database(where) if isinstance(where, Path) else where
        me = Owner.this_process()
        # A test posing as another process names its host and pid; its start time is then unknown (0).
        self._owner = me if host is None and pid is None else Owner(host or me.host, pid or me.pid, 0)
        self._host, self._pid = self._owner.host, self._owner.pid
        self._clock = CLOCK[self._db.dialect]
        self._with_owner = _OWNER.format(clock=self._clock)
        self._touched: dict[str, float] = {}  # doc_id -> monotonic time of this process's last heartbeat
        apply(self._db, "registry", MIGRATIONS)

    @property
    def database(self) -> Database:
        """The database the registry lives in (collections are kept beside it)."""
        return self._db

    # --- reading ---------------------------------------------------------------------------------------

    def get(self, doc_id: str) -> DocumentRecord | None:
        """The row for ``doc_id``, in any status."""
        with self._db.connect() as conn:
            row = conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _record(row) if row else None

    def list(self, status: str | None = "ready") -> Records:
        """Rows in ``status`` (all when None), by source."""
        where, args = ("", []) if status is None else (" WHERE status = ?", [status])
        with self._db.connect() as conn:
            rows = conn.execute(f"SELECT * FROM documents{where} ORDER BY source, doc_id", args).fetchall()
        return [_record(r) for r in rows]

    def ready_ids(self) -> set[str]:
        """Ids of the documents search may show."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT doc_id FROM documents WHERE status = 'ready'").fetchall()
        return {r["doc_id"] for r in rows}

    def has_ready(self, source: str) -> bool:
        """Whether a ready document has this source key (what a new version of it replaces)."""
        with self._db.connect() as conn:
            return conn.execute("SELECT 1 AS found FROM documents WHERE source = ? AND status = 'ready'",
                                (source,)).fetchone() is not None

    def file_shared(self, stored_path: str, doc_id: str) -> bool:
        """Whether a document other than ``doc_id`` uses the stored original ``stored_path``."""
        with self._db.connect() as conn:
            return conn.execute("SELECT 1 AS found FROM documents WHERE stored_path = ? AND doc_id != ?",
                                (stored_path, doc_id)).fetchone() is not None

    def ready_collections(self) -> dict[str, str]:
        """The collection of each document search may show, by id."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT doc_id, collection FROM documents WHERE status = 'ready'").fetchall()
        return {r["doc_id"]: r["collection"] for r in rows}

    def unstamped(self) -> Records:
        """Ready documents whose chunks do not carry their collection yet (indexed before collections, or a
        move that stopped half-way)."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM documents WHERE status = 'ready' AND (chunks_collection IS NULL"
                                " OR chunks_collection != collection) ORDER BY source, doc_id").fetchall()
        return [_record(r) for r in rows]

    def unfinished(self) -> Records:
        """Rows left `indexing` or `deleting` by a process that stopped half-way (not by one still at work)."""
        with self._db.connect() as conn:
            rows = conn.execute(self._with_owner + " WHERE d.status != 'ready'"
                                " ORDER BY d.source, d.doc_id").fetchall()
        return [_record(r) for r in rows if self._abandoned(r)]

    # --- writing ---------------------------------------------------------------------------------------

    def begin(self, record: DocumentRecord) -> bool:
        """Register a document as `indexing` (invisible to search), owned by this process.

        Returns False, changing nothing, when the document is ready already or another live process is
        indexing it (two hosts given the same file): the caller has nothing to do.
        """
        with self._db.transaction(lock=f"document:{record.doc_id}") as conn:
            row = conn.execute(self._with_owner + " WHERE d.doc_id = ?", (record.doc_id,)).fetchone()
            if row is not None and (row["status"] == "ready" or row["status"] == "indexing"
                                    and not self._mine(row) and not self._abandoned(row)):
                return False
            values = [getattr(record, f) for f in _FIELDS]
            values[_FIELDS.index("status")] = "indexing"
            # Its chunks are written carrying its collection, so they are stamped with it from the start.
            written = [*_FIELDS, "chunks_collection"]
            conn.execute(f"INSERT INTO documents ({', '.join(written)}) VALUES ({', '.join('?' * len(written))})"
                         " ON CONFLICT (doc_id) DO UPDATE SET "
                         + ", ".join(f"{f} = excluded.{f}" for f in written[1:]), [*values, record.collection])
            conn.execute(f"INSERT INTO owners (doc_id, host, pid, started, touched) VALUES (?, ?, ?, ?, {self._clock})"
                         " ON CONFLICT (doc_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
                         " started = excluded.started, touched = excluded.touched",
                         (record.doc_id, self._host, self._pid, self._owner.started))
        self._touched[record.doc_id] = time.monotonic()
        return True

    def touch(self, doc_id: str) -> None:
        """Say this process is still indexing ``doc_id``; cheap to call often (writes every `TOUCH_EVERY` s)."""
        last = self._touched.get(doc_id)
        if last is not None and time.monotonic() - last < TOUCH_EVERY:
            return
        self._touched[doc_id] = time.monotonic()
        with self._db.connect() as conn:
            conn.execute(f"UPDATE owners SET touched = {self._clock} WHERE doc_id = ? AND host = ? AND pid = ?",
                         (doc_id, self._host, self._pid))

    def publish(self, doc_id: str, chunks: int) -> DocIds | None:
        """Make ``doc_id`` ready and mark older versions of the same source `deleting`, atomically; return those.

        None, changing nothing, when this process no longer owns the row (another process took it for
        abandoned while this one was silent).
        """
        self._touched.pop(doc_id, None)
        current = self.get(doc_id)
        if current is None:
            return None
        with self._db.transaction(lock=f"source:{current.source}") as conn:
            if not self._owns(conn, doc_id, current.source):
                return None
            old = [r["doc_id"] for r in conn.execute(
                "SELECT doc_id FROM documents WHERE source = ? AND doc_id != ? AND status = 'ready'",
                (current.source, doc_id)).fetchall()]
            conn.execute("UPDATE documents SET status = 'deleting' WHERE source = ? AND doc_id != ?"
                         " AND status = 'ready'", (current.source, doc_id))
            conn.execute("UPDATE documents SET status = 'ready', chunks = ?, ingested_at = ? WHERE doc_id = ?",
                         (chunks, now(), doc_id))
            conn.execute("DELETE FROM owners WHERE doc_id = ?", (doc_id,))
        return old

    def move(self, doc_id: str, collection: str) -> None:
        """Put a document in another collection; search follows at once (it checks this row)."""
        with self._db.connect() as conn:
            conn.execute("UPDATE documents SET collection = ? WHERE doc_id = ?", (collection, doc_id))

    def stamp(self, doc_id: str, collection: str) -> None:
        """Note that the document's chunks in the vector store now carry ``collection``."""
        with self._db.connect() as conn:
            conn.execute("UPDATE documents SET chunks_collection = ? WHERE doc_id = ?", (collection, doc_id))

    def mark_deleting(self, doc_id: str) -> None:
        """Hide a document from search before its chunks are removed."""
        with self._db.connect() as conn:
            conn.execute("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", (doc_id,))

    def remove(self, doc_id: str) -> None:
        """Forget a document whose chunks are gone."""
        self._touched.pop(doc_id, None)
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            conn.execute("DELETE FROM owners WHERE doc_id = ?", (doc_id,))

    def close(self) -> None:
        """Close the database when this registry opened it (a shared one is closed by whoever opened it)."""
        if self._owned:
            self._db.close()

    # --- owners ----------------------------------------------------------------------------------------

    def _owns(self, conn: Connection, doc_id: str, source: str) -> bool:
        row = conn.execute("SELECT d.source FROM documents d JOIN owners o ON o.doc_id = d.doc_id"
                           " WHERE d.doc_id = ? AND d.status = 'indexing' AND o.host = ? AND o.pid = ?",
                           (doc_id, self._host, self._pid)).fetchone()
        return row is not None and row["source"] == source

    def _mine(self, row: Row) -> bool:
        return row["host"] == self._host and row["pid"] == self._pid

    def _abandoned(self, row: Row) -> bool:
        """Whether an unfinished row's owner is gone: a dead process here, or a silent one elsewhere."""
        if row["status"] != "indexing" or row["host"] is None:
            return True  # deleting is idempotent: finishing another process's deletion twice does no harm
        if row["host"] == self._host:
            if row["pid"] == self._pid:
                return True  # this process is starting: nothing of its own can be in progress
            return not Owner(row["host"], int(row["pid"]), int(row["started"] or 0)).running()
        silence = row["silence"]
        return silence is None or float(silence) > HEARTBEAT_TIMEOUT.total_seconds()


def _record(row: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(**{f: row[f] for f in _FIELDS})


def now() -> str:
    """The current UTC time, ISO-8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
