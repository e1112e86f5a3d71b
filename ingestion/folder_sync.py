"""Folder sync: make the index mirror a folder (the information manager's file share).

Each file's identity is its path relative to the folder, within a scope (the collection it is mirrored into);
its source key is ``sync:SCOPE/PATH``. A file whose size and mtime are those the last sync recorded, and
whose document is still ready, is unchanged without being read; any other is read and hashed (sha256, the
registry's doc_id), and indexed only when those bytes are not indexed yet. A changed file replaces its old
version as every re-ingest does (`Index`): the new version is written invisibly and published in the one
registry transaction that retires the old, so search sees the one or the other, never both, never neither,
never half a document. A file gone from the folder is deleted from the index only when asked (``delete``);
otherwise it is reported as kept.

Resumable: every document is committed on its own and recorded (`SyncState`) right after, so a run killed
at any point leaves at most one half-indexed document, which `Index.recover()` removes, and the next run
finds the files done before the kill unchanged. One run at a time over every process and host (the lock in
`SyncState`); a heartbeat thread keeps the run alive for the others while one file takes long.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from ingestion.folder import FolderFile, scan_folder
from ingestion.index import Index, IngestOutcome
from ingestion.sync_state import FailedFile, SyncedFile, SyncRun, SyncState

logger = logging.getLogger(__name__)
DEFAULT_SCOPE = "algemeen"
HEARTBEAT_SECONDS = 30.0
SAVE_SECONDS = 2.0  # between progress writes of a run (counts and failures so far; and at the end)
BATCH_FILES = 32  # new and changed files handed to the index at once (it embeds their chunks together)
STATUSES = ("new", "changed", "removed", "kept", "unchanged", "failed", "failed_unchanged")
FAILED = ("failed", "failed_unchanged")
NOT_RETRIED = " (ongewijzigd sinds de mislukte poging, niet opnieuw gelezen)"


@dataclass(frozen=True)
class SyncItem:
    """What became of one file: new, changed, unchanged, failed (with the reason), failed_unchanged (failed
    before and not changed since: not read, not parsed), removed (deleted from the index) or kept (gone from
    the folder, still in the index: no ``delete``)."""

    path: str
    status: str
    doc_id: str | None = None
    error: str | None = None
    chunks: int = 0


@dataclass
class SyncReport:
    """A finished run: every file's item and what was skipped while scanning."""

    run: SyncRun
    items: list[SyncItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many files had each status (every status present, zero or not), and how many were skipped."""
        counts = dict.fromkeys(STATUSES, 0)
        for item in self.items:
            counts[item.status] += 1
        return counts | {"skipped": len(self.skipped)}

    def failures(self) -> list[tuple[str, str]]:
        """(path, reason) of every file that failed, in this run or before and unchanged since."""
        return [(i.path, i.error or "") for i in self.items if i.status in FAILED]


class SyncBusy(UserError):
    """Another run holds the lock."""

    def __init__(self, holder: SyncRun) -> None:
        super().__init__(f"er loopt al een synchronisatie (gestart {holder.trigger}, {holder.owner});"
                         " probeer het later opnieuw")
        self.holder = holder


def source_key(scope: str, path: str) -> str:
    """The registry source of a synced file."""
    return f"sync:{scope}/{path}"


class FolderSync:
    """Mirrors folders into ``index``, remembering files and runs in ``state``; ``max_bytes`` is the largest
    file read (the ingestion limit), checked before a file is read into memory; a failed file is tried again
    once its failure is ``retry_hours`` old, changed or not."""

    def __init__(self, index: Index, state: SyncState, max_bytes: int, retry_hours: float = 24) -> None:
        self._index = index
        self._state = state
        self._max_bytes = max_bytes
        self._retry_seconds = retry_hours * 3600

    def runs(self, limit: int = 10) -> list[SyncRun]:
        """The latest runs, newest first."""
        return self._state.runs(limit)

    def last_started(self) -> float | None:
        """When the latest run started."""
        return self._state.last_started()

    def sync(self, root: Path, *, scope: str = DEFAULT_SCOPE, delete: bool = False, trigger: str = "cli",
             actor: str = "", on_total: Callable[[int], None] | None = None,
             on_item: Callable[[SyncItem], None] | None = None, retry_failed: bool = False) -> SyncReport:
        """One run over ``root``; SyncBusy when another is running, UserError when ``root`` is no folder.
        ``on_total`` hears how many files there are to look at, ``on_item`` what became of each. A file that
        failed and has not changed since is not tried again until its failure is ``retry_hours`` old, unless
        ``retry_failed``."""
        scope = self._index.collections.require(scope)  # NotFound (exit 2) before a run is on record
        run, started = self._state.begin(scope, str(root), trigger, actor)
        if not started:
            raise SyncBusy(run)
        report = SyncReport(run)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(run, stop), name="baken-sync-heartbeat", daemon=True)
        beat.start()
        try:
            scan = scan_folder(root)  # a missing folder is a failed run on record, so the page shows it
            report.skipped = scan.skipped
            self._run(scan.files, scope, delete, retry_failed, report, on_total, on_item)
            run.status = "done"
        except BaseException as exc:
            run.status = "failed"
            run.error = f"onverwachte fout ({type(exc).__name__})" if not isinstance(exc, UserError) else str(exc)
            raise
        finally:
            stop.set()
            run.counts, run.failures = report.counts(), [list(f) for f in report.failures()]
            run.finished = time.time()
            try:
                self._state.save(run)
            except Exception:
                logger.exception("cannot record the end of folder sync %s", run.id[:8])
        return report

    def _run(self, files: list[FolderFile], scope: str, delete: bool, retry_failed: bool, report: SyncReport,
             on_total: Callable[[int], None] | None, on_item: Callable[[SyncItem], None] | None) -> None:
        run = report.run
        recorded = self._state.files(scope)
        failures = self._state.failures(scope)
        documents = self._index.documents()
        ready = {d.source: d.doc_id for d in documents}
        ready_ids = {d.doc_id for d in documents if d.collection == scope}  # elsewhere: ingesting moves it here
        prefix = source_key(scope, "")
        present = {f.path for f in files}
        for path in failures.keys() - present:  # a failed file that left the folder: nothing to report
            self._state.forget_failure(scope, path)
        if retry_failed:
            failures = {}
        else:  # a time-out under load, a sandbox that did not start: not the file's fault for ever
            recent = time.time() - self._retry_seconds
            failures = {p: f for p, f in failures.items() if f.failed > recent}
        gone = sorted({p for p in recorded if p not in present}
                      | {s[len(prefix):] for s in ready if s.startswith(prefix) and s[len(prefix):] not in present})
        run.total = len(files) + len(gone)
        if on_total:
            on_total(run.total)
        self._state.save(run)

        saved = time.monotonic()

        def done(item: SyncItem) -> None:
            nonlocal saved
            report.items.append(item)
            run.done += 1
            if item.status == "failed":
                logger.info("folder sync: a file failed: %s", item.error)
            if time.monotonic() - saved >= SAVE_SECONDS:
                run.counts, run.failures = report.counts(), [list(f) for f in report.failures()]
                self._state.save(run)
                saved = time.monotonic()
            if on_item:
                on_item(item)

        pending: list[tuple[FolderFile, str | None, str]] = []  # the file, its old version, its bytes' sha256
        for file in files:
            item = self._look(file, scope, recorded.get(file.path), failures.get(file.path), ready, ready_ids)
            if isinstance(item, SyncItem):
                done(item)
                continue
            pending.append((file, ready.get(source_key(scope, file.path)), item))
            if len(pending) >= BATCH_FILES:
                self._ingest(pending, scope, done)
        self._ingest(pending, scope, done)
        # Bytes a file of the folder has now (a renamed or copied file): their document stays.
        still_used = {i.doc_id for i in report.items if i.doc_id and i.status not in FAILED}
        for path in gone:
            if path not in recorded and ready.get(source_key(scope, path)) in still_used:
                run.total -= 1  # a renamed file's document, under its first path: nothing left to report
                continue
            done(self._gone(path, scope, delete, recorded, ready, still_used))

    def _look(self, file: FolderFile, scope: str, recorded: SyncedFile | None, failed: FailedFile | None,
              ready: dict[str, str], ready_ids: set[str]) -> SyncItem | str:
        """What became of a file that needs no parsing (unchanged, failed at once, or failed before and not
        changed since); else the sha256 of the bytes to index."""
        key = source_key(scope, file.path)
        if (recorded is not None and recorded.size == file.size and recorded.mtime_ns == file.mtime_ns
                and recorded.doc_id in ready_ids):
            return SyncItem(file.path, "unchanged", recorded.doc_id)  # cheap: not read
        same = failed is not None and failed.size == file.size and failed.mtime_ns == file.mtime_ns
        if failed is not None and same and (failed.sha256 or file.size > self._max_bytes):  # cheap: not read
            return SyncItem(file.path, "failed_unchanged", failed.sha256 or None, error=failed.reason + NOT_RETRIED)
        if file.size > self._max_bytes:  # remembered without its hash: a higher limit tries it again
            reason = (f"het bestand is {file.size / 1024 / 1024:.0f} MB, meer dan de grens van"
                      f" {self._max_bytes // (1024 * 1024)} MB (BAKEN_INGESTION__MAX_FILE_MB)")
            self._state.fail(scope, FailedFile(file.path, file.size, file.mtime_ns, "", reason))
            return SyncItem(file.path, "failed", error=reason)
        try:
            data = file.absolute.read_bytes()
            after = file.absolute.stat()
        except OSError as exc:
            return SyncItem(file.path, "failed", error=f"kan het bestand niet lezen: {exc.strerror or exc}")
        if after.st_size != file.size or after.st_mtime_ns != file.mtime_ns or len(data) != file.size:
            return SyncItem(file.path, "failed", error="het bestand veranderde tijdens het lezen; de volgende"
                                                       " synchronisatie probeert het opnieuw")
        doc_id = hashlib.sha256(data).hexdigest()
        if failed is not None and failed.sha256 == doc_id:  # touched, the same bytes: it would fail again
            self._state.fail(scope, FailedFile(file.path, file.size, file.mtime_ns, doc_id, failed.reason))
            return SyncItem(file.path, "failed_unchanged", doc_id, error=failed.reason + NOT_RETRIED)
        if doc_id not in ready_ids:
            return doc_id
        old = ready.get(key)  # these bytes are in the scope: under this path, or another file has the same content
        status = "unchanged"
        if old is not None and old != doc_id:  # this file now equals another: its own old version goes
            self._index.delete(old)
            status = "changed"
        self._state.record(scope, SyncedFile(file.path, file.size, file.mtime_ns, doc_id))
        return SyncItem(file.path, status, doc_id)

    def _ingest(self, pending: list[tuple[FolderFile, str | None, str]], scope: str,
                done: Callable[[SyncItem], None]) -> None:
        """Index new and changed files together, so that the embedder sorts the chunks of several files by
        length (`Index.ingest_files`); each is still published and recorded on its own."""
        if not pending:
            return
        by_path = {file.absolute: (file, old, doc_id) for file, old, doc_id in pending}

        def indexed(path: Path, outcome: IngestOutcome) -> None:
            file, old, doc_id = by_path[path]
            if outcome.status == "failed":  # with the hash of its bytes, which the audit record names
                if outcome.doc_id is None:  # the file's own fault (not another process's takeover): remembered
                    self._state.fail(scope, FailedFile(file.path, file.size, file.mtime_ns, doc_id,
                                                       outcome.error or ""))
                done(SyncItem(file.path, "failed", doc_id, error=outcome.error))
                return
            # Stat before the read: if the file changed since, the next sync sees it and reads it again.
            self._state.record(scope, SyncedFile(file.path, file.size, file.mtime_ns, outcome.doc_id or doc_id))
            status = "changed" if old is not None else "unchanged" if outcome.status == "unchanged" else "new"
            done(SyncItem(file.path, status, outcome.doc_id, chunks=outcome.chunks))

        self._index.ingest_files([f.absolute for f, _, _ in pending], on_done=indexed, collection=scope,
                                 sources=[source_key(scope, f.path) for f, _, _ in pending])
        pending.clear()

    def _gone(self, path: str, scope: str, delete: bool, recorded: dict[str, SyncedFile], ready: dict[str, str],
              still_used: set[str]) -> SyncItem:
        doc_id = ready.get(source_key(scope, path))
        if not delete:
            return SyncItem(path, "kept", doc_id)
        if doc_id is not None and doc_id not in still_used:  # not when another file of the folder has these bytes
            self._index.delete(doc_id)
        if path in recorded:
            self._state.forget(scope, path)
        return SyncItem(path, "removed", doc_id)

    def _beat(self, run: SyncRun, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self._state.heartbeat(run)
            except Exception:
                logger.exception("cannot refresh folder sync's heartbeat")
