"""What a backup is, shared by `baken backup` (baken/cli/backup.py, which describes what one holds) and
`baken restore` (baken/cli/restore.py): its layout and format, the checks both make, and the file and audit
helpers both use. Neither command imports the other."""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
from pathlib import Path
from typing import IO, Any

from assistant.audit import AuditKeys, AuditLog
from assistant.audit.keys import PSEUDONYM_KEY_FILE, PUBLIC_KEY_FILE, SIGNING_KEY_FILE
from baken.settings import Settings
from core.database import sqlite_counts
from core.errors import UserError

FORMAT = "baken-backup/1"
MANIFEST = "manifest.json"
WEB_DB, REGISTRY_DB, AUDIT_DB = "web/web.sqlite3", "index/documents.sqlite3", "audit/audit.sqlite3"
CHUNKS = "index/chunks.jsonl.gz"
KEY_FILES = (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE, PUBLIC_KEY_FILE)
KEY_CHECK = "baken-backup-key-check"  # its pseudonym tells whether a pseudonym key is the backup's
WEB_TABLES = ("users", "conversations", "turns")
BATCH = 500


def record_event(settings: Settings, action: str, details: dict[str, Any]) -> None:
    """Note a backup or restore in the installation's own audit log (BIO: who made or restored a copy, when).
    Only with the keys present: opening the log without them would create new ones."""
    data = settings.data_dir
    if load_keys(settings.audit.keys_path(data)) is None or not settings.audit.database_path(data).is_file():
        print(f"audit: not recorded in the audit log ({action}): its keys are not in place")
        return
    log = AuditLog.open(settings.audit_log, data)
    try:
        seq = log.append(action, actor=getpass.getuser(), role="beheerder", record=details, outcome="ok")
    finally:
        log.close()
    print(f"audit: recorded as {action}, seq {seq}")


def web_counts(path: Path) -> dict[str, int] | None:
    if not path.exists():
        return None
    return sqlite_counts(path, WEB_TABLES)


def embedded_only(settings: Settings, verb: str) -> None:
    if settings.database_dsn or settings.audit_log.dsn:
        raise UserError(f"cannot {verb} state kept in PostgreSQL (BAKEN_DATABASE__DSN or BAKEN_AUDIT__DSN is"
                        " set): use pg_dump/pg_restore for the database, and the Chroma server's own"
                        " backup for its index")
    if settings.index.url:
        raise UserError(f"cannot {verb} an index on a Chroma server (BAKEN_INDEX__URL is set): use the"
                        " Chroma server's own backup (stop it and copy its persist directory)")


def load_keys(key_dir: Path) -> AuditKeys | None:
    """The audit keys when both are in ``key_dir``; None otherwise (never creates a key)."""
    if all((key_dir / name).is_file() for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE)):
        return AuditKeys.load_or_create(key_dir)
    return None


def create_private(path: Path) -> IO[bytes]:
    """A new file only its owner can read (a backup holds personal data), its directories made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def copy_file(source: Path, target: Path) -> None:
    with source.open("rb") as src, create_private(target) as out:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
