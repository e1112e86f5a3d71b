"""The storage seam of the audit log: a small Protocol that SQLite and PostgreSQL implement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.audit.checkpoint import Checkpoint
from assistant.audit.figures import FIGURE_MIGRATIONS, FigureStore
from assistant.audit.records import PreparedRecord, Preparer, insert_next
from core.database import Connection
from core.errors import AuditError

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
# what it applied in `schema_migrations` (see `apply_migrations`).
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


RECORD_COLUMNS = ("r.seq, r.time, r.action, r.record_json, r.record_hash, r.head, c.content_json, c.salt,"
                  " r.actor, r.conversation_id, r.outcome, r.format, r.body_hash")


def stored_record(row: tuple[Any, ...]) -> StoredRecord:
    """A StoredRecord from a row of RECORD_COLUMNS."""
    return StoredRecord(seq=row[0], time=row[1], action=row[2], record_json=row[3], record_hash=bytes(row[4]),
                        head=bytes(row[5]), content_json=row[6], salt=None if row[7] is None else bytes(row[7]),
                        actor=row[8], conversation_id=row[9], outcome=row[10], format=int(row[11]),
                        body_hash=None if row[12] is None else bytes(row[12]))


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


RECORDS_WITH_CONTENT = "records r LEFT JOIN content c ON c.seq = r.seq"
RECORD_CHUNK = 5000  # records read at a time by `records()`


class SharedQueries:
    """What both stores do in the same SQL, written once with `?` placeholders over each store's own `_write`
    (one locked transaction) and `_read`, whose connections are `core.database.Connection`s: the shared
    dialect layer turns `?` into psycopg's `%s`. Rows stay tuples (the drivers' own rows)."""

    MARK = "?"

    def _write(self, work: Any) -> Any:
        raise NotImplementedError

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _insert(self, conn: Any, prepare: Preparer) -> PreparedRecord:
        return insert_next(conn, prepare, self.MARK)

    def append(self, prepare: Preparer) -> PreparedRecord:
        """Append one record in its own locked transaction."""
        return self._write(lambda conn: self._insert(conn, prepare))  # type: ignore[no-any-return]

    def append_many(self, preparers: Iterable[Preparer]) -> list[PreparedRecord]:
        """Append several records in one locked transaction."""
        return self._write(lambda conn: [self._insert(conn, p) for p in preparers])  # type: ignore[no-any-return]

    def last(self) -> tuple[int, bytes] | None:
        """The last (seq, head), or None for an empty log."""
        rows = self._read("SELECT seq, head FROM records ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint; a second one for the same seq is ignored."""
        m = self.MARK
        self._write(lambda conn: conn.execute(
            f"INSERT INTO checkpoints (seq, head, time, key_id, signature) VALUES ({m}, {m}, {m}, {m}, {m})"
            " ON CONFLICT (seq) DO NOTHING",
            (checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.key_id, checkpoint.signature),
        ))

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by seq."""
        rows = self._read("SELECT seq, head, time, key_id, signature FROM checkpoints ORDER BY seq")
        return [Checkpoint(seq=r[0], head=r[1], time=r[2], key_id=r[3], signature=r[4]) for r in rows]

    def get(self, seq: int) -> StoredRecord | None:
        """One record with its content, or None."""
        rows = self._read(f"SELECT {RECORD_COLUMNS} FROM {RECORDS_WITH_CONTENT} WHERE r.seq = ?", (seq,))
        return stored_record(rows[0]) if rows else None

    def remove_hold(self, hold_id: int) -> bool:
        """Lift a legal hold; False when there was none with that id."""
        return bool(self._write(lambda conn: conn.execute("DELETE FROM holds WHERE id = ?", (hold_id,)).rowcount))

    def holds(self) -> list[Hold]:
        """Every legal hold in force."""
        rows = self._read("SELECT id, conversation_id, seq_from, seq_to, reason, created, created_by FROM holds"
                          " ORDER BY id")
        return [Hold(*row) for row in rows]

    @staticmethod
    def _destroy(conn: Connection, content_seqs: list[int], metadata_seqs: list[int]) -> None:
        """Inside a purge's write transaction: authorise the seqs it touches (the triggers check), destroy their
        content and metadata, and withdraw the authorisation before the transaction commits."""
        touched = [(s,) for s in sorted(set(content_seqs) | set(metadata_seqs))]
        conn.executemany("INSERT INTO purge_authorisation (seq) VALUES (?)", touched)
        conn.executemany("DELETE FROM content WHERE seq = ?", touched)
        conn.executemany("UPDATE records SET record_json = NULL, actor = NULL, conversation_id = NULL, outcome = NULL"
                         " WHERE seq = ?", [(s,) for s in metadata_seqs])
        for table in ("figure_records", "figure_sources", "figure_redactions"):  # derived from the metadata
            conn.executemany(f"DELETE FROM {table} WHERE seq = ?", [(s,) for s in metadata_seqs])
        conn.execute("DELETE FROM purge_authorisation")

    @staticmethod
    def _snapshot_records(conn: Connection, first: int, last: int | None) -> Iterator[StoredRecord]:
        """Records ``first``..``last`` in order, in chunks, inside the caller's read transaction."""
        after, upper = first - 1, last if last is not None else (1 << 62)
        while True:
            rows: list[Any] = conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM {RECORDS_WITH_CONTENT} WHERE r.seq > ? AND r.seq <= ?"
                " ORDER BY r.seq LIMIT ?", (after, upper, RECORD_CHUNK)).fetchall()
            if not rows:
                return
            yield from (stored_record(row) for row in rows)
            after = rows[-1][0]

    def retention_rows(self, before: str) -> Iterator[RetentionRow]:
        """Records older than `before` that still hold content or metadata."""
        rows = self._read(
            "SELECT r.seq, r.time, r.action, r.conversation_id, c.seq IS NOT NULL, r.record_json IS NOT NULL,"
            f" r.format FROM {RECORDS_WITH_CONTENT} WHERE r.time < {self.MARK}"
            " AND (c.seq IS NOT NULL OR r.record_json IS NOT NULL) ORDER BY r.seq",
            (before,),
        )
        for row in rows:
            yield RetentionRow(seq=row[0], time=row[1], action=row[2], conversation_id=row[3],
                               has_content=bool(row[4]), has_metadata=bool(row[5]), format=int(row[6]))


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


def apply_migrations(conn: Any, mark: str, statements: dict[int, tuple[str, ...]], now: str) -> None:
    """Run the statements of every migration not yet recorded, in order, inside the caller's write
    transaction, and record each (version, name, time applied)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, name in MIGRATIONS:
        if version in done:
            continue
        for statement in statements[version]:
            conn.execute(statement)
        conn.execute(f"INSERT INTO schema_migrations (version, name, applied) VALUES ({mark}, {mark}, {mark})",
                     (version, name, now))


def read_tables(conn: Any, mark: str, batch_size: int) -> Iterator[Batch]:
    """Every table's rows in TABLES order on a DB-API connection, inside the caller's read transaction."""
    for table, columns in TABLES.items():
        key, after = columns[0], 0
        query = (f"SELECT {', '.join(columns)} FROM {table} WHERE {key} > {mark} ORDER BY {key}"
                 f" LIMIT {mark}")
        while rows := conn.execute(query, (after, batch_size)).fetchall():
            yield table, [tuple(row) for row in rows]
            after = rows[-1][0]


def write_tables(conn: Any, mark: str, batches: Iterable[Batch]) -> int:
    """Insert `batches` into an empty store inside the caller's write transaction (records in seq order, so the
    append-only triggers let them pass); returns the hold counter for the store to set."""
    found = conn.execute("SELECT EXISTS (SELECT 1 FROM records) OR EXISTS (SELECT 1 FROM content)"
                         " OR EXISTS (SELECT 1 FROM checkpoints) OR EXISTS (SELECT 1 FROM holds)").fetchone()
    if found[0]:
        raise AuditError("the target audit store is not empty: a log is only copied into an empty one")
    counter = 0
    for table, rows in batches:
        if table == HOLD_COUNTER:
            counter = max([counter, *(int(row[0]) for row in rows)])
            continue
        columns = TABLES.get(table)
        if columns is None:
            raise AuditError(f"cannot import rows of {table!r}: the audit store has no such table")
        if table == "purge_authorisation" and rows:  # would let the triggers pass UPDATE and DELETE
            raise AuditError("a copied log may not carry purge authorisations")
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)})"
                         f" VALUES ({', '.join([mark] * len(columns))})", rows)
    return counter
