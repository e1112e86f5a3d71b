"""The storage seam of the audit log: a small Protocol that SQLite and PostgreSQL implement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.audit.checkpoint import Checkpoint
from assistant.audit.figures import FIGURE_MIGRATIONS, FigureStore
from assistant.audit.records import PreparedRecord, Preparer

# Every table of a store with its columns, in the order a copy reads and writes them; rows go by the first
# column. `purge_authorisation` is empty whenever no purge is running.
TABLES: dict[str, tuple[str, ...]] = {
    "records": ("seq", "time", "action", "actor", "conversation_id", "outcome", "record_json", "record_hash",
                "head", "format", "body_hash"),
    "content": ("seq", "salt", "content_json"),
    "checkpoints": ("seq", "head", "time", "key_id", "signature"),
    "holds": ("id", "conversation_id", "seq_from", "seq_to", "reason", "created", "created_by"),
    "purge_authorisation": ("seq",),
}
# The tables, in SQLite's words; the PostgreSQL store takes them through `core.database.postgres_ddl`.
# Triggers are per dialect (each store's TRIGGERS): SQLite's RAISE(ABORT) and PostgreSQL's plpgsql differ.
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT,
    conversation_id TEXT,
    outcome TEXT,
    record_json TEXT,
    record_hash BLOB NOT NULL,
    head BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE INDEX IF NOT EXISTS records_actor ON records(actor, time);
CREATE INDEX IF NOT EXISTS records_conversation ON records(conversation_id);
CREATE TABLE IF NOT EXISTS content (
    seq INTEGER PRIMARY KEY REFERENCES records(seq),
    salt BLOB NOT NULL,
    content_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY,
    head TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT,
    seq_from INTEGER,
    seq_to INTEGER,
    reason TEXT NOT NULL,
    created TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purge_authorisation (seq INTEGER PRIMARY KEY);
"""

# Not a table: one row (the highest hold id ever issued), so that a copy never hands out a lifted hold's id again.
HOLD_COUNTER = "hold_counter"

# Numbered, named schema changes after the first schema; each store holds the statements of each and records
# what it applied in `schema_migrations` (see `sql_store.apply_migrations`).
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (2, "record format 2: records.format and records.body_hash"),
    *FIGURE_MIGRATIONS,
)

# (table, rows): a batch of verbatim rows, as `export_rows` yields and `import_rows` takes them.
Batch = tuple[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class StoredRecord:
    """One row of the log as stored; `record_json` is None once its metadata is purged, `content_json` once
    its content is. `time`, `action`, `actor`, `conversation_id` and `outcome` are the indexed copies of the
    record's fields that searches filter on (verification checks them against the record)."""

    seq: int
    time: str
    action: str
    record_json: str | None
    record_hash: bytes
    head: bytes
    content_json: str | None = None
    salt: bytes | None = None
    actor: str | None = None
    conversation_id: str | None = None
    outcome: str | None = None
    format: int = 1
    body_hash: bytes | None = None


@dataclass(frozen=True)
class RecordQuery:
    """Filters for searching the log; every filter set must match. Times are ISO-8601 UTC strings."""

    since: str | None = None
    until: str | None = None
    actor: str | None = None  # a pseudonym, never a raw user id
    action: str | None = None
    outcome: str | None = None
    conversation_id: str | None = None
    document: str | None = None  # a document id or content hash
    redaction_type: str | None = None

    def column_filters(self, mark: str) -> tuple[list[str], list[Any]]:
        """SQL conditions and parameters for the plain-column filters (``mark``: the driver's placeholder);
        each store adds its own for the JSON ones (document, redaction type)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("r.actor", self.actor), ("r.action", self.action), ("r.outcome", self.outcome),
                              ("r.conversation_id", self.conversation_id)):
            if value is not None:
                where.append(f"{column} = {mark}")
                params.append(value)
        if self.since is not None:
            where.append(f"r.time >= {mark}")
            params.append(self.since)
        if self.until is not None:
            where.append(f"r.time < {mark}")
            params.append(self.until)
        return where, params


@dataclass(frozen=True)
class Hold:
    """A legal hold: records of one conversation, or a range of sequence numbers, are not purged."""

    id: int
    conversation_id: str | None
    seq_from: int | None
    seq_to: int | None
    reason: str
    created: str
    created_by: str

    def covers(self, seq: int, conversation_id: str | None) -> bool:
        """True when this hold protects the record `seq` of `conversation_id`."""
        if self.conversation_id is not None:
            return conversation_id == self.conversation_id
        low = self.seq_from if self.seq_from is not None else 1
        return low <= seq and (self.seq_to is None or seq <= self.seq_to)


@dataclass(frozen=True)
class RetentionRow:
    """What purge needs to know about a record that still holds content or metadata."""

    seq: int
    time: str
    action: str
    conversation_id: str | None
    has_content: bool
    has_metadata: bool
    format: int = 1


class AuditStore(FigureStore, Protocol):
    """Append-only storage of chained records, checkpoints and legal holds."""

    def append(self, prepare: Preparer) -> PreparedRecord:
        """In one exclusive transaction: read the last (seq, head), call `prepare(seq + 1, head)`, write it."""

    def append_many(self, preparers: Iterable[Preparer]) -> list[PreparedRecord]:
        """Append several records in one transaction (imports and benchmarks)."""

    def last(self) -> tuple[int, bytes] | None:
        """The last (seq, head), or None for an empty log."""

    def records(self, first: int = 1, last: int | None = None) -> Iterator[StoredRecord]:
        """Records in sequence order, from one consistent snapshot, with their content when present."""

    def get(self, seq: int) -> StoredRecord | None:
        """One record with its content, or None."""

    def find(self, query: RecordQuery, limit: int = 100, offset: int = 0) -> list[StoredRecord]:
        """Records matching `query`, newest first."""

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint (a second one for the same seq is ignored)."""

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by seq."""

    def retention_rows(self, before: str) -> Iterator[RetentionRow]:
        """Records older than `before` that still hold content or metadata."""

    def purge(self, content_seqs: list[int], metadata_seqs: list[int], prepare: Preparer) -> PreparedRecord:
        """In one transaction: destroy content of `content_seqs`, metadata of `metadata_seqs` (keeping hash and
        head), and append the purge record `prepare` builds."""

    def add_hold(self, conversation_id: str | None, seq_from: int | None, seq_to: int | None, reason: str,
                 created: str, created_by: str) -> int:
        """Store a legal hold; returns its id."""

    def remove_hold(self, hold_id: int) -> bool:
        """Lift a legal hold; False when there was none with that id."""

    def holds(self) -> list[Hold]:
        """Every legal hold in force."""

    def location(self) -> str:
        """Where the store lives (a file, or host, database and schema), never with a password."""

    def export_rows(self, batch_size: int = 1000) -> Iterator[Batch]:
        """Every row of every table (TABLES order, then the HOLD_COUNTER), verbatim, from one snapshot."""

    def import_rows(self, batches: Iterable[Batch]) -> None:
        """Into an empty store, in one transaction: insert what `export_rows` gave; AuditError when not empty."""

    def close(self) -> None:
        """Release the store's connections."""
