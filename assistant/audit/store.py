"""The storage seam of the audit log: a small Protocol that SQLite implements (and PostgreSQL could)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.audit.checkpoint import Checkpoint
from assistant.audit.records import PreparedRecord, Preparer


@dataclass(frozen=True)
class StoredRecord:
    """One row of the log as stored; `record_json` is None once its metadata is purged, `content_json` once
    its content is."""

    seq: int
    time: str
    action: str
    record_json: str | None
    record_hash: bytes
    head: bytes
    content_json: str | None = None
    salt: bytes | None = None


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


class AuditStore(Protocol):
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

    def close(self) -> None:
        """Release the store's connections."""
