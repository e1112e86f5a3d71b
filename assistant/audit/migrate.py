"""Moving an audit log to another store (SQLite to PostgreSQL, when one server becomes several) without
breaking its chain: every row is copied verbatim, so the history stays complete and verifiable (Archiefwet,
EU AI Act). The source is left as it was.

Crash safety: the whole copy is ONE transaction on the target (under its advisory lock in PostgreSQL). A copy
that fails or is killed half-way rolls back and leaves the target empty, so it can simply be run again; there
is no half-copied state to detect. Stop every Baken process that writes the source first: a copy whose source
grew meanwhile is rolled back and refused.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.audit.keys import PSEUDONYM_KEY_FILE, SIGNING_KEY_FILE, AuditKeys
from assistant.audit.log import SYSTEM_ACTOR, AuditLog, open_store
from assistant.audit.settings import AuditSettings
from assistant.audit.store import HOLD_COUNTER, AuditStore, Batch
from assistant.audit.verify import VerifyResult
from core.errors import UserError

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows per read and per INSERT batch
COPY_ACTION = "audit.copy"


@dataclass(frozen=True)
class CopyResult:
    """What a copy moved, and the target's verification after its `audit.copy` record."""

    records: int
    content_rows: int
    checkpoints: int
    holds: int
    verified: VerifyResult
    source: str = ""  # where the log came from and went to, never with a password
    target: str = ""


def copy_audit_log(source: AuditSettings, target: AuditSettings, data_dir: Path, *, actor: str = SYSTEM_ACTOR,
                   role: str = "system") -> CopyResult:
    """Copy every row of the source log into the empty target store in one transaction, in seq order and in
    batches; then log an `audit.copy` record in the target, sign its head and verify it with the same keys.

    A copy that fails or is killed half-way rolls back and leaves the target empty: run it again. Raises
    UserError (and copies nothing) when the target already holds a log, is the source itself, or the source
    grew during the copy. The source is never changed.
    """
    if source.dsn is None and not source.database_path(data_dir).exists():
        raise UserError(f"there is no audit log at {source.database_path(data_dir)}: check BAKEN_DATA_DIR and "
                        "BAKEN_AUDIT__PATH")
    keys = _shared_keys(source, target, data_dir)
    src = open_store(source, data_dir)
    try:
        dst = open_store(target, data_dir)
    except BaseException:
        src.close()
        raise
    try:
        if src.location() == dst.location():
            raise UserError(f"the source and the target are the same audit store ({src.location()}): "
                            "name another database or schema")
        existing = dst.last()
        if existing is not None or dst.checkpoints() or dst.holds():
            raise UserError(f"the target {dst.location()} already holds an audit log "
                            f"({existing[0] if existing else 0} records): copy only into an empty store, "
                            "or choose another schema")
        counts: Counter[str] = Counter()
        dst.import_rows(_checked(src, counts))
        logger.info("audit log copied from %s to %s: %d records", src.location(), dst.location(),
                    counts["records"])
        log = AuditLog(dst, keys, target)
        copied = log.verify()
        last = src.last()
        log.append(COPY_ACTION, actor=actor, role=role, outcome="intact" if copied.ok else "broken", record={
            "baken.copy.source": src.location(), "baken.copy.records": counts["records"],
            "baken.copy.content_rows": counts["content"], "baken.copy.checkpoints": counts["checkpoints"],
            "baken.copy.holds": counts["holds"], "baken.copy.last_seq": last[0] if last else 0,
            "baken.copy.last_head": last[1].hex() if last else None, "baken.copy.first_bad_seq":
            copied.first_bad_seq})
        log.checkpoint()  # so that the record of where the log came from is signed at once
        return CopyResult(counts["records"], counts["content"], counts["checkpoints"], counts["holds"],
                          log.verify(), src.location(), dst.location())
    finally:
        src.close()
        dst.close()


def _checked(src: AuditStore, counts: Counter[str]) -> Iterator[Batch]:
    """The source's batches, counted; refuses (which rolls the target back) a log that is mid-purge or that
    grew while it was read."""
    before = src.last()
    copied_to = 0
    for table, rows in src.export_rows(BATCH_SIZE):
        if table == "purge_authorisation" and rows:
            raise UserError("the source's purge_authorisation table is not empty although no purge is running: "
                            "it was written outside Baken; run `baken audit verify` and investigate first")
        if table == "records":
            copied_to = rows[-1][0]
        if table != HOLD_COUNTER:
            counts[table] += len(rows)
        yield table, rows
    after = src.last()
    if after != before or copied_to != (before[0] if before else 0):
        raise UserError(f"the source log grew during the copy (to seq {after[0] if after else 0}): stop every "
                        "Baken process that writes it and run the copy again (the target was left empty)")


def _shared_keys(source: AuditSettings, target: AuditSettings, data_dir: Path) -> AuditKeys:
    """The source's keys, which must also be the target's: checkpoints and pseudonyms go on with them."""
    key_dir = source.keys_path(data_dir)
    if not all((key_dir / name).exists() for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE)):
        raise UserError(f"the audit keys are not in {key_dir}: without them the copy cannot be verified "
                        "(set BAKEN_AUDIT__KEY_DIR)")
    keys = AuditKeys.load_or_create(key_dir)
    other_dir = target.keys_path(data_dir)
    if other_dir.resolve() == key_dir.resolve():
        return keys
    if all((other_dir / name).exists() for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE)):
        other = AuditKeys.load_or_create(other_dir)
        if other.signer.key_id == keys.signer.key_id and other.pseudonym("") == keys.pseudonym(""):
            return keys
    raise UserError(f"the target's key directory {other_dir} does not hold the log's keys from {key_dir}: "
                    "copy them there first, every Baken process must use the same keys")
