"""Background indexing for uploads and re-indexing: a worker thread with per-document status that lives in
the server process, so it goes on when the browser page is closed."""

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
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.index import Index, IngestOutcome

logger = logging.getLogger(__name__)
KEEP_JOBS = 200
_UNSAFE = re.compile(r"[^\w .()+,-]", re.UNICODE)


def clean_filename(raw: str) -> str:
    """A display name safe to store and show: no directories, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-120:] or "document"


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


Finished = Callable[[IndexJob], None]


class Indexer:
    """Indexes uploaded files one after another in a worker thread."""

    def __init__(self, index: Index, spool: Path, on_finished: Finished | None = None) -> None:
        self._index = index
        self._spool = spool
        self._spool.mkdir(parents=True, exist_ok=True)
        for leftover in self._spool.glob("*.upload"):  # a killed process's uploads are not resumed
            leftover.unlink(missing_ok=True)
        self._on_finished = on_finished
        self._jobs: dict[str, IndexJob] = {}
        self._queue: queue.Queue[tuple[IndexJob, Path] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="baken-indexer", daemon=True)
        self._thread.start()

    def spool_path(self) -> Path:
        """A fresh file name in the spool directory for an upload in progress."""
        return self._spool / f"{uuid.uuid4().hex}.upload"

    def submit(self, spooled: Path, name: str, actor_id: str, actor_role: str, kind: str = "upload",
               source: str | None = None) -> IndexJob:
        """Queue a spooled file for indexing under ``name``; the worker deletes the file when done."""
        safe = clean_filename(name)
        job = IndexJob(uuid.uuid4().hex, safe, actor_id, actor_role, kind, source=source or f"upload:{safe}")
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.created)[:-KEEP_JOBS]:
                if old.status in ("done", "failed"):
                    del self._jobs[old.id]
        self._queue.put((job, spooled))
        return job

    def reindex(self, doc_id: str, actor_id: str, actor_role: str) -> IndexJob:
        """Queue a document to be indexed again from its stored original (removed first, then re-added)."""
        record = self._index.find(doc_id)
        spooled = self.spool_path()
        shutil.copyfile(self._index.original(record.doc_id), spooled)
        job = self.submit(spooled, record.name, actor_id, actor_role, kind="reindex", source=record.source)
        return job

    def jobs(self) -> list[IndexJob]:
        """Recent jobs, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def busy(self) -> bool:
        """True while some job is queued or indexing."""
        return any(j.status in ("queued", "indexing") for j in self.jobs())

    def close(self) -> None:
        """Stop the worker after the current job."""
        self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            job, spooled = item
            job.status = "indexing"
            try:
                outcome = self._ingest(job, spooled)
                if outcome.status == "failed":
                    job.status, job.error = "failed", outcome.error or "failed"
                else:
                    job.status, job.result, job.doc_id = "done", outcome.status, outcome.doc_id
                    job.done = job.total = max(job.total, outcome.chunks)
            except Exception as exc:
                logger.exception("indexing job %s failed", job.id)
                job.status, job.error = "failed", type(exc).__name__
            finally:
                spooled.unlink(missing_ok=True)
            if self._on_finished is not None:
                try:
                    self._on_finished(job)
                except Exception:
                    logger.exception("after indexing job %s", job.id)

    def _ingest(self, job: IndexJob, spooled: Path) -> IngestOutcome:
        data = spooled.read_bytes()

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        if job.kind == "reindex":
            doc_id = hashlib.sha256(data).hexdigest()
            if any(d.doc_id == doc_id for d in self._index.documents()):
                self._index.delete(doc_id)
        return self._index.ingest_bytes(data, job.name, job.source, progress)
