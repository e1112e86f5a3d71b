"""What folder sync keeps in the shared-state database (beside the document registry): each synced file's
identity (its path relative to the folder, per scope), size, mtime and document, for cheap change detection;
each file whose latest try failed, with its fingerprint (size, mtime, sha256) and the reason, so that it is not
parsed again until it changes; and the runs, of which at most one is running at a time over every process and host (the lock).

A run is `running` while its owner (host, pid, start time) lives and, seen from another host, refreshes
`updated` (`heartbeat`); a run whose owner is gone is `interrupted`, and the next run may start. Taking the
lock is one transaction (SQLite's write lock, or PostgreSQL's advisory lock on "folder-sync"), so two
processes starting at once cannot both run.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from core.database import Connection, Database, Row
from core.migrations import Migration, apply
from core.process import Owner

logger = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS synced_files (
    scope    TEXT NOT NULL,             -- the collection the folder is mirrored into
    path     TEXT NOT NULL,             -- relative to the synced folder, '/'-separated: the file's identity
    size     BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    doc_id   TEXT NOT NULL,             -- sha256 of the bytes last indexed (the registry's doc_id)
    synced   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, path)
);
CREATE TABLE IF NOT EXISTS sync_runs (
    id TEXT PRIMARY KEY, scope TEXT NOT NULL, root TEXT NOT NULL, trigger TEXT NOT NULL, actor TEXT NOT NULL,
    status TEXT NOT NULL,               -- running | done | failed | interrupted
    started DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION, done INTEGER NOT NULL, total INTEGER NOT NULL,
    counts TEXT NOT NULL, failures TEXT NOT NULL, error TEXT,
    host TEXT NOT NULL, pid INTEGER NOT NULL, pid_started BIGINT NOT NULL, updated DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_runs_started ON sync_runs(started);
CREATE INDEX IF NOT EXISTS sync_runs_status ON sync_runs(status);
"""
FAILURES = """
CREATE TABLE sync_failures (
    scope    TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256   TEXT NOT NULL,             -- of the bytes that failed; '' when they were not read (over the limit)
    reason   TEXT NOT NULL,
    failed   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, path)
)
"""
STALE_SECONDS = 180.0  # a running run not refreshed for this long (seen from another host) was interrupted
KEEP_RUNS = 50
MAX_LISTED = 200  # failures and kept paths stored per run; the counts are always complete
INTERRUPTED = "interrupted"
MIGRATIONS = (Migration("001_synced_files_and_runs", SCHEMA), Migration("002_sync_failures", FAILURES))


@dataclass(frozen=True)
class SyncedFile:
    """What the last sync saw of one file."""

    path: str
    size: int
    mtime_ns: int
    doc_id: str


@dataclass(frozen=True)
class FailedFile:
    """A file that failed, as it was then: it is not tried again until it changes (or a retry is asked)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str  # '' when its bytes were not read
    reason: str
    failed: float = field(default=0.0, compare=False)  # when (time.time()); not part of what failed


@dataclass
class SyncRun:
    """One run of folder sync, as the Documenten page and the CLI show it."""

    id: str
    scope: str
    root: str
    trigger: str  # cli | schedule | button
    actor: str
    status: str = "running"
    started: float = field(default_factory=time.time)
    finished: float | None = None
    done: int = 0
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[list[str]] = field(default_factory=list)  # [path, reason]
    error: str | None = None
    owner: str = ""  # "host pid" of the process that runs it, for messages


class SyncState:
    """Synced files and sync runs in ``db`` (the registry's database); thread-safe (connections per use)."""

    def __init__(self, db: Database, owner: Owner | None = None) -> None:
        self._db = db
        self._owner = owner or Owner.this_process()
        apply(db, "folder_sync", MIGRATIONS)

    # --- files -----------------------------------------------------------------------------------------

    def files(self, scope: str) -> dict[str, SyncedFile]:
        """Every file the syncs of ``scope`` recorded, by path."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, doc_id FROM synced_files WHERE scope = ?",
                                (scope,)).fetchall()
        return {r["path"]: SyncedFile(r["path"], int(r["size"]), int(r["mtime_ns"]), r["doc_id"]) for r in rows}

    def record(self, scope: str, synced: SyncedFile) -> None:
        """Remember what was indexed (or found unchanged) for one file; a failure of it is forgotten."""
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sync_failures WHERE scope = ? AND path = ?", (scope, synced.path))
            conn.execute("INSERT INTO synced_files (scope, path, size, mtime_ns, doc_id, synced)"
                         " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, path) DO UPDATE SET size = excluded.size,"
                         " mtime_ns = excluded.mtime_ns, doc_id = excluded.doc_id, synced = excluded.synced",
                         (scope, synced.path, synced.size, synced.mtime_ns, synced.doc_id, time.time()))

    def forget(self, scope: str, path: str) -> None:
        """Forget a file that left the folder (and the index)."""
        with self._db.connect() as conn:
            conn.execute("DELETE FROM synced_files WHERE scope = ? AND path = ?", (scope, path))
            conn.execute("DELETE FROM sync_failures WHERE scope = ? AND path = ?", (scope, path))

    def failures(self, scope: str) -> dict[str, FailedFile]:
        """Every file of ``scope`` whose latest try failed, by path."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, sha256, reason, failed FROM sync_failures"
                                " WHERE scope = ?", (scope,)).fetchall()
        return {r["path"]: FailedFile(r["path"], int(r["size"]), int(r["mtime_ns"]), r["sha256"], r["reason"],
                                      float(r["failed"])) for r in rows}

    def fail(self, scope: str, failed: FailedFile) -> None:
        """Remember that a file failed, with its fingerprint and the reason."""
        with self._db.connect() as conn:
            conn.execute("INSERT INTO sync_failures (scope, path, size, mtime_ns, sha256, reason, failed)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, path) DO UPDATE SET size = excluded.size,"
                         " mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, reason = excluded.reason,"
                         " failed = excluded.failed",
                         (scope, failed.path, failed.size, failed.mtime_ns, failed.sha256, failed.reason, time.time()))

    def forget_failure(self, scope: str, path: str) -> None:
        """Forget the failure of a file that left the folder."""
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sync_failures WHERE scope = ? AND path = ?", (scope, path))

    # --- runs and the lock -----------------------------------------------------------------------------

    def begin(self, scope: str, root: str, trigger: str, actor: str) -> tuple[SyncRun, bool]:
        """Start a run: (the new run, True); or, while another run holds the lock, (that run, False)."""
        run = SyncRun(uuid.uuid4().hex, scope, root, trigger, actor)
        with self._db.transaction(lock="folder-sync") as conn:
            for row in conn.execute("SELECT * FROM sync_runs WHERE status = 'running'").fetchall():
                holder = self._settle(conn, row)
                if holder.status == "running":
                    return holder, False
            conn.execute("INSERT INTO sync_runs (id, scope, root, trigger, actor, status, started, done, total,"
                         " counts, failures, host, pid, pid_started, updated)"
                         " VALUES (?, ?, ?, ?, ?, 'running', ?, 0, 0, '{}', '[]', ?, ?, ?, ?)",
                         (run.id, scope, root, trigger, actor, run.started, self._owner.host, self._owner.pid,
                          self._owner.started, run.started))
            cutoff = conn.execute("SELECT started FROM sync_runs ORDER BY started DESC LIMIT 1 OFFSET ?",
                                  (KEEP_RUNS - 1,)).fetchone()
            if cutoff is not None:
                conn.execute("DELETE FROM sync_runs WHERE started < ? AND status != 'running'", (cutoff["started"],))
        run.owner = f"{self._owner.host} {self._owner.pid}"
        return run, True

    def save(self, run: SyncRun) -> None:
        """Write a run's progress, counts and failures (and so refresh its heartbeat)."""
        with self._db.connect() as conn:
            conn.execute("UPDATE sync_runs SET status = ?, finished = ?, done = ?, total = ?, counts = ?,"
                         " failures = ?, error = ?, updated = ? WHERE id = ?",
                         (run.status, run.finished, run.done, run.total, json.dumps(run.counts),
                          json.dumps(run.failures[:MAX_LISTED], ensure_ascii=False), run.error, time.time(), run.id))

    def heartbeat(self, run: SyncRun) -> None:
        """Show the other processes that this run still goes on."""
        with self._db.connect() as conn:
            conn.execute("UPDATE sync_runs SET updated = ? WHERE id = ? AND status = 'running'", (time.time(), run.id))

    def runs(self, limit: int = 10) -> list[SyncRun]:
        """The latest runs, newest first; a running one whose owner is gone is marked interrupted."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM sync_runs ORDER BY started DESC LIMIT ?", (limit,)).fetchall()
            return [self._settle(conn, row) for row in rows]

    def last_started(self) -> float | None:
        """When the latest run started (any status), for the schedule."""
        with self._db.connect() as conn:
            row = conn.execute("SELECT MAX(started) AS started FROM sync_runs").fetchone()
        return None if row is None or row["started"] is None else float(row["started"])

    def _settle(self, conn: Connection, row: Row) -> SyncRun:
        run = _run(row)
        if run.status == "running" and self._gone(row):
            logger.warning("folder sync %s of %s (pid %s) was interrupted", run.id[:8], row["host"], row["pid"])
            run.status, run.error = "interrupted", INTERRUPTED
            conn.execute("UPDATE sync_runs SET status = 'interrupted', error = ? WHERE id = ? AND updated <= ?"
                         " AND status = 'running'", (INTERRUPTED, run.id, row["updated"]))
        return run

    def _gone(self, row: Row) -> bool:
        if row["host"] == self._owner.host:
            if row["pid"] == self._owner.pid and row["pid_started"] == self._owner.started:
                return False
            return not Owner(row["host"], int(row["pid"]), int(row["pid_started"])).running()
        return float(row["updated"]) < time.time() - STALE_SECONDS


def _run(row: Row) -> SyncRun:
    return SyncRun(row["id"], row["scope"], row["root"], row["trigger"], row["actor"], row["status"],
                   float(row["started"]), None if row["finished"] is None else float(row["finished"]),
                   int(row["done"]), int(row["total"]), json.loads(row["counts"] or "{}"),
                   json.loads(row["failures"] or "[]"), row["error"], f"{row['host']} {row['pid']}")
