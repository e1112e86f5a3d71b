"""Folder sync as a scheduled job of the server (BAKEN_INGESTION__SYNC_DIR): a thread that runs
`FolderSync` every SYNC_INTERVAL_MINUTES, counted from the latest run of any process (so N server processes
still sync once per interval, and the lock in the shared database keeps it to one run at a time), and at once
when the informatiebeheerder presses "Nu synchroniseren". Every document a run adds, replaces, deletes or
fails on is a `document.sync` event in the audit log, its file name checked for personal data as an upload's."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.turn import Redactor
from core.errors import UserError
from ingestion.folder_sync import FolderSync, SyncBusy, SyncItem
from ingestion.sync_state import SyncRun
from web.documents.indexing import logged_name

if TYPE_CHECKING:
    from assistant.audit import AuditLog

logger = logging.getLogger(__name__)
CHECK_SECONDS = 30.0  # how often the scheduler looks whether a run is due
SYSTEM_ACTOR, SYSTEM_ROLE = "systeem:mapsynchronisatie", "systeem"
LOGGED = ("new", "changed", "removed", "failed")


def audit_item(audit: AuditLog, item: SyncItem, actor: str, role: str, redactor: Redactor | None,
               collection: str) -> None:
    """One synced document as a `document.sync` event: which hash, what became of it; the file name only
    when it could be checked for personal data (not the folders above it, which may name a person too)."""
    if item.status not in LOGGED:
        return
    details = {"baken.document.result": item.error if item.status == "failed" else item.status,
               "baken.collection": collection}
    if redactor is not None:
        details["baken.document.name"] = logged_name(Path(item.path).name, redactor)
    try:
        audit.append_document_event("document.sync", actor=actor, role=role, doc_id=item.doc_id or "",
                                    sha256=item.doc_id or "", outcome="failed" if item.status == "failed" else "ok",
                                    details=details)
    except Exception:  # a record that cannot be written must not stop the sync; the log says so
        logger.exception("cannot write the audit record of a synced document")


@dataclass(frozen=True)
class SyncView:
    """What the Documenten page shows of folder sync."""

    folder: str
    interval_minutes: int
    delete: bool
    scope: str
    runs: list[SyncRun]
    next_run: float | None  # seconds since the epoch; None without a schedule
    waiting: bool = False  # "Nu synchroniseren" was pressed and the run has not started yet

    @property
    def running(self) -> SyncRun | None:
        """The run in progress, if any."""
        return next((r for r in self.runs if r.status == "running"), None)

    @staticmethod
    def when(seconds: float | None) -> str:
        """A moment as the page shows it: UTC, to the minute."""
        if seconds is None:
            return ""
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def last(self) -> SyncRun | None:
        """The latest finished run, if any."""
        return next((r for r in self.runs if r.status != "running"), None)


class SyncScheduler:
    """Runs folder sync of ``root`` in a thread of this server process: on schedule, and when asked."""

    def __init__(self, folder_sync: FolderSync, root: Path, *, interval_minutes: int, delete: bool, scope: str,
                 audit: AuditLog | None, redactor: Redactor | None) -> None:
        self._sync, self._root = folder_sync, root
        self._interval, self._delete, self._scope = interval_minutes, delete, scope
        self._audit, self._redactor = audit, redactor
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._asked: tuple[str, str] | None = None  # (actor, role) of a "sync now" waiting for the thread
        self._taken = False  # the thread took a "sync now" and its run may not be on record yet
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the scheduler thread."""
        self._thread = threading.Thread(target=self._loop, name="baken-folder-sync", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop after the run in progress (a killed run is resumed by the next one)."""
        self._stopped.set()
        self._wake.set()

    def view(self) -> SyncView:
        """Runs and the next scheduled one, for the page."""
        runs = self._sync.runs(5)
        last = runs[0].started if runs else None
        next_run = None if not self._interval else (last + self._interval * 60 if last is not None else time.time())
        with self._lock:
            waiting = self._asked is not None or self._taken
        return SyncView(str(self._root), self._interval, self._delete, self._scope, runs, next_run, waiting)

    def request(self, actor: str, role: str) -> None:
        """Run as soon as the thread is free ("Nu synchroniseren"); UserError while a run is going on."""
        if self.view().running is not None:
            raise UserError("sync.busy")
        with self._lock:
            self._asked = (actor, role)
        self._wake.set()

    def run_once(self, trigger: str, actor: str, role: str) -> SyncRun | None:
        """One run now, in this thread; None when another process's run holds the lock."""
        try:
            report = self._sync.sync(self._root, scope=self._scope, delete=self._delete, trigger=trigger,
                                     actor=actor, on_item=lambda item: self._audited(item, actor, role))
        except SyncBusy:
            logger.info("folder sync skipped: another run is going on")
            return None
        counts = report.counts()
        logger.info("folder sync done: %d new, %d changed, %d removed, %d failed", counts["new"], counts["changed"],
                    counts["removed"], counts["failed"])
        return report.run

    def _audited(self, item: SyncItem, actor: str, role: str) -> None:
        if self._audit is not None:
            audit_item(self._audit, item, actor, role, self._redactor, self._scope)

    def _due(self) -> bool:
        if not self._interval:
            return False
        last = self._sync.last_started()
        return last is None or time.time() >= last + self._interval * 60

    def _loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                asked, self._asked = self._asked, None
                self._taken = asked is not None
            try:
                if asked is not None:
                    self.run_once("button", *asked)
                elif self._due():
                    self.run_once("schedule", SYSTEM_ACTOR, SYSTEM_ROLE)
            except UserError as exc:  # the folder is missing or unreadable: said on the page, tried again later
                logger.warning("folder sync cannot run: %s", exc)
            except Exception:
                logger.exception("folder sync failed")
            with self._lock:
                self._taken = False
            self._wake.wait(CHECK_SECONDS)
            self._wake.clear()
