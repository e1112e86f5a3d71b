"""`baken sync DIR [--collection NAME] [--delete]`: make the index mirror a folder."""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from baken.cli.documents import shown
from baken.settings import Settings
from core.errors import RedactionError, UserError

SUMMARY = (("new", "nieuw"), ("changed", "gewijzigd"), ("removed", "verwijderd"), ("kept", "verdwenen maar bewaard"),
           ("unchanged", "ongewijzigd"), ("failed", "mislukt"), ("failed_unchanged", "mislukt en ongewijzigd"),
           ("skipped", "overgeslagen"))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `sync`."""
    sync = subparsers.add_parser("sync", help="make the index mirror a folder (new, changed, removed files)")
    sync.add_argument("folder", type=Path, metavar="DIR")
    sync.add_argument("--collection", metavar="NAME", help="the collection the folder goes into (default: the"
                                                           " setting BAKEN_INGESTION__SYNC_COLLECTION)")
    sync.add_argument("--delete", action="store_true", help="delete files gone from the folder from the index"
                                                            " (without it they are only reported)")
    sync.add_argument("--retry-failed", action="store_true", help="try files that failed before again, also"
                                                                  " those not changed since (after an upgrade)")
    sync.add_argument("--quiet", action="store_true", help="no progress bar")
    sync.set_defaults(handler=run_sync)


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    """`baken sync DIR`: progress bar, one line per failed file, a summary; exit 1 when a file failed (in this
    run, or before and not changed since)."""
    from tqdm import tqdm

    from baken.wiring import build_folder_sync, build_index
    from ingestion.folder_sync import FAILED, SyncBusy
    from web.documents.sync import audit_item

    if not args.folder.is_dir():  # before any model is loaded
        raise UserError(f"{args.folder} is geen map (of niet leesbaar)")
    index = build_index(settings)
    index.start_parsing()  # the worker starts while the index recovers and the embedder loads
    index.recover()  # a killed sync (or ingest) left at most one half-indexed document: remove it first
    folder_sync = build_folder_sync(settings, index)
    audit = _audit(settings)
    redactor = LazyRedactor(settings)
    actor = f"cli:{getpass.getuser()}"
    scope = index.collections.require(args.collection or settings.ingestion.sync_collection)
    bar = tqdm(total=0, unit="bestand", disable=True, file=sys.stderr, dynamic_ncols=True)

    def total(count: int) -> None:
        nonlocal bar
        bar = tqdm(total=count, unit="bestand", disable=args.quiet or count < 2, file=sys.stderr,
                   dynamic_ncols=True)

    def item(done) -> None:
        if done.status in FAILED:
            tqdm.write(f"baken: {shown(done.path)}: {done.error}", file=sys.stderr)
        if audit is not None:
            audit_item(audit, done, actor, "beheerder", redactor, scope)
        bar.set_postfix_str(shown(Path(done.path).name)[:40], refresh=False)
        bar.update(1)

    started = time.perf_counter()
    try:
        report = folder_sync.sync(args.folder, scope=scope,
                                  delete=args.delete, trigger="cli", actor=actor, on_total=total, on_item=item,
                                  retry_failed=args.retry_failed)
    except SyncBusy as exc:  # state found, not bad input: exit 1, as a refusal
        print(f"baken: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        if audit is not None:
            audit.close()
    counts = report.counts()
    print(", ".join(f"{counts[key]} {word}" for key, word in SUMMARY) + f" in {time.perf_counter() - started:.1f} s")
    if counts["kept"]:
        print(f"{counts['kept']} bestand(en) staan niet meer in de map maar nog wel in de index; `--delete`"
              " verwijdert ze")
    return 1 if counts["failed"] or counts["failed_unchanged"] else 0


def _audit(settings: Settings):
    """The audit log, which records every document the sync adds, replaces or deletes."""
    from baken.wiring import build_audit

    return build_audit(settings)


class LazyRedactor:
    """The guardrail, built at the first file name to check: Presidio and spaCy take seconds to load (8 s
    measured), which a run that logs nothing (nothing new, changed, removed or failed) does not pay."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._redactor: Any = None
        self._error: Exception | None = None

    def redact(self, text: str, vault: Any, kind: Literal["typed", "document"] = "typed") -> Any:
        """The text redacted by the real guardrail (loaded now if it is not yet); its start-up error again when
        it could not start, so that the name is logged as unchecked."""
        return self._built().redact(text, vault, kind)

    def restore_stream(self, tokens: Iterable[str], vault: Any) -> Iterator[str]:
        """The tokens with placeholders restored."""
        return self._built().restore_stream(tokens, vault)

    def _built(self) -> Any:
        from baken.wiring import build_redactor

        with self._lock:
            if self._error is not None:
                raise self._error
            if self._redactor is None:
                try:
                    self._redactor = build_redactor(self._settings)
                except Exception as exc:  # not tried again for every file: each would wait seconds
                    self._error = exc if isinstance(exc, (RedactionError, UserError)) else RedactionError(
                        f"the personal-data engine could not start: {exc}")
                    raise self._error from exc
            return self._redactor
