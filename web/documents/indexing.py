"""Background indexing for uploads and re-indexing: a worker thread in the server process that received the
upload, so it goes on when the browser page is closed. Each job's status lives in that process's memory, or,
given the shared-state database, in its `index_jobs` table, so that every server process behind a load balancer
(on any host) lists every job and can tell when the process working on one has died."""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import shutil
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path
from typing import Protocol

from assistant.turn import Redactor
from core.database import Connection, Database, Row
from core.errors import NotFound, RedactionError, UserError
from core.migrations import Migration, apply, columns
from core.process import Owner
from guardrails import Vault
from ingestion.index import Index, IngestOutcome

logger = logging.getLogger(__name__)
KEEP_JOBS = 200
PROGRESS_SECONDS = 1.0  # at most one progress write per job per second, besides every status change
HEARTBEAT_SECONDS = 30.0  # how often a process refreshes `updated` of the jobs it holds
STALE_SECONDS = 180.0  # a job not refreshed for this long belongs to a process that is gone
ABANDONED_SECONDS = 86400.0  # another host's spooled upload this old is not in anybody's queue any more
INTERRUPTED = "interrupted"
UNFINISHED = ("queued", "indexing")
_UNSAFE = re.compile(r"[^\w .()+,-]", re.UNICODE)
_SEPARATORS = re.compile(r"[\s_-]+")
UNCHECKED_NAME = "[BESTANDSNAAM]"

# Valid on SQLite and PostgreSQL. The owner (host, pid, pid_started) is the process that runs the job;
# `updated` is its heartbeat.
DDL = """
CREATE TABLE IF NOT EXISTS index_jobs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL, error TEXT, doc_id TEXT, result TEXT,
    source TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    pid_started BIGINT NOT NULL, updated DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS index_jobs_created ON index_jobs(created);
CREATE INDEX IF NOT EXISTS index_jobs_status ON index_jobs(status);
"""


def _job_collection(conn: Connection) -> None:
    """A job indexes into one collection (jobs from before collections: algemeen)."""
    if "collection" not in columns(conn, "index_jobs"):
        conn.execute("ALTER TABLE index_jobs ADD COLUMN collection TEXT NOT NULL DEFAULT 'algemeen'")


MIGRATIONS = (Migration("001_index_jobs", DDL), Migration("002_job_collection", _job_collection))


def clean_filename(raw: str) -> str:
    """A display name safe to store and show: no directories, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-120:] or "document"


def logged_name(name: str, redactor: Redactor) -> str:
    """A file name as the audit log and the application log may hold it: names, addresses, BSNs and the like
    replaced by placeholders (the redactor's document setting). Separators are read as spaces and an
    all-lower-case name is capitalised, so that "bezwaar_jan_de_vries.pdf" is found as a name; a name that
    cannot be checked is not logged at all."""
    suffix = Path(name).suffix if 1 < len(Path(name).suffix) <= 10 else ""
    words = _SEPARATORS.sub(" ", name[: len(name) - len(suffix)]).strip()
    if words == words.lower():
        words = words.title()
    try:
        return redactor.redact(words, Vault(), "document").text + suffix
    except (RedactionError, UserError):
        logger.warning("a file name could not be checked for personal data; logged as %s", UNCHECKED_NAME)
        return UNCHECKED_NAME + suffix


@dataclass
class IndexJob:
    """One document on its way into the index."""

    id: str
    name: str
    actor_id: str
    actor_role: str
    kind: str = "upload"  # upload | reindex
    status: str = "queued"  # queued | indexing | done | failed
    done: int = 0
    total: int = 0
    error: str | None = None
    doc_id: str | None = None
    result: str | None = None  # new | replaced | unchanged
    source: str = ""  # the index's source key; uploads use "upload:NAME"
    created: float = field(default_factory=time.time)
    collection: str = "algemeen"  # where the document goes


Finished = Callable[[IndexJob], None]
_JOB_FIELDS = tuple(f.name for f in fields(IndexJob))


class JobBook(Protocol):
    """Where job status is kept."""

    def add(self, job: IndexJob) -> None: ...

    def save(self, job: IndexJob) -> None: ...

    def progress(self, job: IndexJob) -> None: ...

    def recent(self) -> list[IndexJob]: ...

    def unfinished(self) -> list[IndexJob]: ...

    def heartbeat(self) -> None: ...


class MemoryJobs:
    """Jobs in this process's memory: the worker changes the very objects that `recent()` returns."""

    def __init__(self) -> None:
        self._jobs: dict[str, IndexJob] = {}
        self._lock = threading.Lock()

    def add(self, job: IndexJob) -> None:
        """Keep a new job, forgetting the oldest finished ones beyond KEEP_JOBS."""
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.created)[:-KEEP_JOBS]:
                if old.status in ("done", "failed"):
                    del self._jobs[old.id]

    def save(self, job: IndexJob) -> None:
        """Nothing to write: the job object is the record."""

    def progress(self, job: IndexJob) -> None:
        """Nothing to write: the job object is the record."""

    def recent(self) -> list[IndexJob]:
        """Recent jobs, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def unfinished(self) -> list[IndexJob]:
        """Jobs queued or indexing."""
        return [j for j in self.recent() if j.status in UNFINISHED]

    def heartbeat(self) -> None:
        """Nothing to refresh."""


class DatabaseJobs:
    """Jobs as rows of `index_jobs` in the shared-state database, which every server process reads. A job
    whose owner is gone (on this host: its process; elsewhere: no heartbeat for STALE_SECONDS) is failed."""

    def __init__(self, db: Database, owner: Owner) -> None:
        self._db, self._owner = db, owner
        self._written: dict[str, tuple[float, int]] = {}  # own unfinished job -> (monotonic, total) last written
        self._lock = threading.Lock()
        apply(db, "index_jobs", MIGRATIONS)
        self.unfinished()  # fails what the dead processes of this host (and stale ones elsewhere) left

    def add(self, job: IndexJob) -> None:
        """Insert a new job, pruning the finished ones older than the newest KEEP_JOBS."""
        now = time.time()
        columns = (*_JOB_FIELDS, "host", "pid", "pid_started", "updated")
        with self._db.connect() as conn:
            conn.execute(f"INSERT INTO index_jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         (*astuple(job), self._owner.host, self._owner.pid, self._owner.started, now))
            cutoff = conn.execute("SELECT created FROM index_jobs ORDER BY created DESC LIMIT 1 OFFSET ?",
                                  (KEEP_JOBS - 1,)).fetchone()
            if cutoff is not None:
                conn.execute("DELETE FROM index_jobs WHERE created < ? AND status IN ('done', 'failed')",
                             (cutoff["created"],))
        with self._lock:
            self._written[job.id] = (time.monotonic(), job.total)

    def save(self, job: IndexJob) -> None:
        """Write a job's status and progress, and refresh its heartbeat."""
        with self._lock:  # before writing, so that a database that is down is not retried for every batch
            if job.status in UNFINISHED:
                self._written[job.id] = (time.monotonic(), job.total)
            else:
                self._written.pop(job.id, None)
        with self._db.connect() as conn:
            conn.execute("UPDATE index_jobs SET status = ?, done = ?, total = ?, error = ?, doc_id = ?, result = ?,"
                         " updated = ? WHERE id = ?",
                         (job.status, job.done, job.total, job.error, job.doc_id, job.result, time.time(), job.id))

    def progress(self, job: IndexJob) -> None:
        """Write progress when the total is new or PROGRESS_SECONDS have passed, not for every batch of chunks."""
        with self._lock:
            last, total = self._written.get(job.id, (0.0, -1))
        if job.total != total or time.monotonic() - last >= PROGRESS_SECONDS:
            self.save(job)

    def recent(self) -> list[IndexJob]:
        """The newest KEEP_JOBS jobs of every process, newest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM index_jobs ORDER BY created DESC LIMIT ?", (KEEP_JOBS,)).fetchall()
        return [self._settle(row) for row in rows]

    def unfinished(self) -> list[IndexJob]:
        """Jobs of any process still queued or indexing, newest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM index_jobs WHERE status IN ('queued', 'indexing')"
                                " ORDER BY created DESC").fetchall()
        return [j for j in map(self._settle, rows) if j.status in UNFINISHED]

    def heartbeat(self) -> None:
        """Show the other processes that this one still works on its unfinished jobs."""
        with self._lock:
            ids = list(self._written)
        if not ids:
            return
        with self._db.connect() as conn:
            conn.execute(f"UPDATE index_jobs SET updated = ? WHERE id IN ({', '.join('?' * len(ids))})"
                         " AND status IN ('queued', 'indexing')", (time.time(), *ids))

    def _settle(self, row: Row) -> IndexJob:
        job = IndexJob(**{name: row[name] for name in _JOB_FIELDS})
        if job.status not in UNFINISHED or not self._gone(row):
            return job
        logger.warning("indexing job %s of %s (pid %s) was interrupted", job.id, row["host"], row["pid"])
        job.status, job.error = "failed", INTERRUPTED
        with self._db.connect() as conn:  # unless its owner wrote since we read it
            conn.execute("UPDATE index_jobs SET status = ?, error = ? WHERE id = ? AND updated <= ?"
                         " AND status IN ('queued', 'indexing')", (job.status, job.error, job.id, row["updated"]))
        return job

    def _gone(self, row: Row) -> bool:
        if row["updated"] < time.time() - STALE_SECONDS:
            return True
        return row["host"] == self._owner.host and not Owner(row["host"], row["pid"], row["pid_started"]).running()


class Indexer:
    """Indexes uploaded files one after another in a worker thread; with ``db``, the status of every process's
    jobs is shared through that database."""

    def __init__(self, index: Index, spool: Path, db: Database | None = None,
                 on_finished: Finished | None = None) -> None:
        self._index = index
        self._spool = spool
        self._owner = Owner.this_process()
        self._spool.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        self._on_finished = on_finished
        self._book: JobBook = MemoryJobs() if db is None else DatabaseJobs(db, self._owner)
        self._own: dict[str, IndexJob] = {}  # this process's recent jobs, for its own metrics
        self._queue: queue.Queue[tuple[IndexJob, Path] | None] = queue.Queue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._work, name="baken-indexer", daemon=True)
        self._thread.start()
        if db is not None:
            threading.Thread(target=self._beat, name="baken-indexer-heartbeat", daemon=True).start()

    def spool_path(self) -> Path:
        """A fresh file name in the spool directory for an upload in progress."""
        return self._spool / f"{_host_key(self._owner.host)}.{self._owner.pid}.{self._owner.started}." \
                             f"{uuid.uuid4().hex}.upload"

    def submit(self, spooled: Path, name: str, actor_id: str, actor_role: str, kind: str = "upload",
               source: str | None = None, collection: str = "algemeen") -> IndexJob:
        """Queue a spooled file for indexing under ``name`` into ``collection``; the worker deletes the file
        when done."""
        safe = clean_filename(name)
        try:
            collection = self._index.collections.require(collection)
        except BaseException:
            spooled.unlink(missing_ok=True)
            raise
        job = IndexJob(uuid.uuid4().hex, safe, actor_id, actor_role, kind, source=source or f"upload:{safe}",
                       collection=collection)
        try:
            self._book.add(job)
        except BaseException:
            spooled.unlink(missing_ok=True)
            raise
        self._own[job.id] = job
        while len(self._own) > KEEP_JOBS:
            del self._own[next(iter(self._own))]
        self._queue.put((job, spooled))
        return job

    def reindex(self, doc_id: str, actor_id: str, actor_role: str,
                collections: frozenset[str] | None = None) -> IndexJob:
        """Queue a document (in ``collections``) to be indexed again from its stored original (removed first,
        then re-added into its collection)."""
        record = self._index.find(doc_id, collections)
        spooled = self.spool_path()
        shutil.copyfile(self._index.original(record.doc_id), spooled)
        return self.submit(spooled, record.name, actor_id, actor_role, kind="reindex", source=record.source,
                           collection=record.collection)

    def jobs(self, collections: frozenset[str] | None = None) -> list[IndexJob]:
        """Recent jobs (into ``collections`` when given: a file name may say what a closed collection holds),
        newest first."""
        return [j for j in self._book.recent() if collections is None or j.collection in collections]

    def own_jobs(self) -> list[IndexJob]:
        """This process's recent jobs (what its metrics report, so that a sum over processes counts each once)."""
        return list(self._own.values())

    def busy(self) -> bool:
        """True while some job is queued or indexing."""
        return bool(self._book.unfinished())

    def close(self) -> None:
        """Stop the worker after the current job."""
        self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            job, spooled = item
            job.status = "indexing"
            self._record(job)
            try:
                outcome = self._ingest(job, spooled)
                if outcome.status == "failed":
                    job.status, job.error = "failed", outcome.error or "failed"
                else:
                    job.status, job.result, job.doc_id = "done", outcome.status, outcome.doc_id
                    job.done = job.total = max(job.total, outcome.chunks)
            except Exception as exc:
                logger.exception("indexing job %s failed", job.id)
                job.status, job.error = "failed", f"onverwachte fout ({type(exc).__name__}); probeer het opnieuw"
            finally:
                spooled.unlink(missing_ok=True)
            self._record(job)
            if self._on_finished is not None:
                try:
                    self._on_finished(job)
                except Exception:
                    logger.exception("after indexing job %s", job.id)
        self._stopped.set()

    def _ingest(self, job: IndexJob, spooled: Path) -> IngestOutcome:
        data = spooled.read_bytes()

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total
            self._record(job, self._book.progress)

        if job.kind == "reindex":  # the document stays as it was until its new version is ready
            try:
                return self._index.reindex(hashlib.sha256(data).hexdigest(), progress)
            except NotFound:  # deleted meanwhile: index the original it had as a new upload
                pass
        return self._index.ingest_bytes(data, job.name, job.source, progress, collection=job.collection)

    def _record(self, job: IndexJob, write: Callable[[IndexJob], None] | None = None) -> None:
        # A status that cannot be written must not stop the indexing itself.
        try:
            (write or self._book.save)(job)
        except Exception:
            logger.exception("cannot record the status of indexing job %s", job.id)

    def _beat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            try:
                self._book.heartbeat()
            except Exception:
                logger.exception("cannot refresh the indexing jobs' heartbeat")

    def _remove_leftovers(self) -> None:
        """Delete the spooled uploads of dead processes on this host: a killed process's uploads are not resumed,
        while those of another live server process sharing the data directory are its own."""
        here, long_ago = _host_key(self._owner.host), time.time() - ABANDONED_SECONDS
        for leftover in self._spool.glob("*.upload"):
            host, pid, started = (leftover.name.split(".") + ["", ""])[:3]
            if not (pid.isdigit() and started.isdigit()):
                leftover.unlink(missing_ok=True)  # named before uploads carried their owner
            elif host == here and not Owner(self._owner.host, int(pid), int(started)).running():
                leftover.unlink(missing_ok=True)
            elif host != here and _modified(leftover) < long_ago:
                leftover.unlink(missing_ok=True)  # e.g. of this container before it restarted


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _host_key(host: str) -> str:
    """A short, file-name-safe stand-in for a host name."""
    return hashlib.sha256(host.encode()).hexdigest()[:8]
