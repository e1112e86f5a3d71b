"""What both audit stores do in the same SQL, written once: `SQLAuditStore`, the base of the SQLite and the
PostgreSQL adapter, over the shared dialect layer (`core.database.Connection` turns `?` into psycopg's `%s`).

An adapter brings only what differs between the dialects: its driver's connection and error type, its locked
write transaction (`_write`) and reads (`_read`), how a read snapshot begins, the JSON expressions of `find`,
the hold id counter, and its triggers. Rows stay tuples (the drivers' own rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from assistant.audit.checkpoint import Checkpoint
from assistant.audit.figures import FigureQueries
from assistant.audit.records import PreparedRecord, Preparer, insert_next
from assistant.audit.store import (
    HOLD_COUNTER,
    MIGRATIONS,
    TABLES,
    Batch,
    Hold,
    RecordQuery,
    RetentionRow,
    StoredRecord,
)
from core.database import Connection
from core.errors import AuditError

T = TypeVar("T")

RECORD_COLUMNS = ("r.seq, r.time, r.action, r.record_json, r.record_hash, r.head, c.content_json, c.salt,"
                  " r.actor, r.conversation_id, r.outcome, r.format, r.body_hash")
RECORDS_WITH_CONTENT = "records r LEFT JOIN content c ON c.seq = r.seq"
RECORD_CHUNK = 5000  # records read at a time by `records()`


def stored_record(row: tuple[Any, ...]) -> StoredRecord:
    """A StoredRecord from a row of RECORD_COLUMNS."""
    return StoredRecord(seq=row[0], time=row[1], action=row[2], record_json=row[3], record_hash=bytes(row[4]),
                        head=bytes(row[5]), content_json=row[6], salt=None if row[7] is None else bytes(row[7]),
                        actor=row[8], conversation_id=row[9], outcome=row[10], format=int(row[11]),
                        body_hash=None if row[12] is None else bytes(row[12]))


class SQLAuditStore(FigureQueries):
    """The audit store's SQL for either dialect, over each adapter's own `_write` (one locked transaction)
    and `_read`; the class attributes and the hooks below are what an adapter fills in."""

    MARK = "?"
    DIALECT: str  # the shared dialect layer's name of the driver: "sqlite" or "postgres"
    DRIVER_ERROR: type[Exception]  # the driver's base exception, reported as an AuditError
    SNAPSHOT: str  # the statement that begins one consistent read snapshot
    DOCUMENT_FILTER: str  # a record given or about a document: four `?`, for doc id, sha256, source id, hash
    REDACTION_FILTER: str  # a record with a redaction of one type: one `?`
    HOLD_ID_COUNTER: str  # the highest hold id ever issued, one row of one column

    def _write(self, work: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _connect(self) -> Any:
        """A new driver connection of its own (autocommit), for a snapshot read."""
        raise NotImplementedError

    def _label(self) -> str:
        """Where the store lives, as its error messages name it (never a password)."""
        raise NotImplementedError

    def _set_hold_counter(self, conn: Connection, counter: int) -> None:
        """Inside an import's write transaction: make the next hold id greater than `counter`."""
        raise NotImplementedError

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """One read snapshot on a connection of its own, so that appends are not blocked; closed after."""
        try:
            raw = self._connect()
        except self.DRIVER_ERROR as exc:
            raise AuditError(f"cannot read the audit log {self._label()}: {exc}") from exc
        try:
            raw.execute(self.SNAPSHOT)
            yield Connection(raw, self.DIALECT)
        except self.DRIVER_ERROR as exc:
            raise AuditError(f"cannot read the audit log {self._label()}: {exc}") from exc
        finally:
            raw.close()

    def _insert(self, conn: Any, prepare: Preparer) -> PreparedRecord:
        return insert_next(conn, prepare, self.MARK)

    def append(self, prepare: Preparer) -> PreparedRecord:
        """Append one record in its own locked transaction."""
        return self._write(lambda conn: self._insert(conn, prepare))

    def append_many(self, preparers: Iterable[Preparer]) -> list[PreparedRecord]:
        """Append several records in one locked transaction."""
        return self._write(lambda conn: [self._insert(conn, p) for p in preparers])

    def last(self) -> tuple[int, bytes] | None:
        """The last (seq, head), or None for an empty log."""
        rows = self._read("SELECT seq, head FROM records ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def records(self, first: int = 1, last: int | None = None) -> Iterator[StoredRecord]:
        """Records in order from one snapshot, read on a connection of their own so appends are not blocked."""
        with self._snapshot() as conn:
            after, upper = first - 1, last if last is not None else (1 << 62)
            while True:
                rows: list[Any] = conn.execute(
                    f"SELECT {RECORD_COLUMNS} FROM {RECORDS_WITH_CONTENT} WHERE r.seq > ? AND r.seq <= ?"
                    " ORDER BY r.seq LIMIT ?", (after, upper, RECORD_CHUNK)).fetchall()
                if not rows:
                    return
                yield from (stored_record(row) for row in rows)
                after = rows[-1][0]

    def get(self, seq: int) -> StoredRecord | None:
        """One record with its content, or None."""
        rows = self._read(f"SELECT {RECORD_COLUMNS} FROM {RECORDS_WITH_CONTENT} WHERE r.seq = ?", (seq,))
        return stored_record(rows[0]) if rows else None

    def find(self, query: RecordQuery, limit: int = 100, offset: int = 0) -> list[StoredRecord]:
        """Records matching every filter of `query`, newest first."""
        where, params = query.column_filters("?")
        where.insert(0, "1 = 1")
        if query.document is not None:
            where.append(self.DOCUMENT_FILTER)
            params += [query.document] * 4
        if query.redaction_type is not None:
            where.append(self.REDACTION_FILTER)
            params.append(query.redaction_type)
        statement = (f"SELECT {RECORD_COLUMNS} FROM {RECORDS_WITH_CONTENT} WHERE {' AND '.join(where)}"
                     " ORDER BY r.seq DESC LIMIT ? OFFSET ?")
        return [stored_record(row) for row in self._read(statement, (*params, limit, offset))]

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

    def remove_hold(self, hold_id: int) -> bool:
        """Lift a legal hold; False when there was none with that id."""
        return bool(self._write(lambda conn: conn.execute("DELETE FROM holds WHERE id = ?", (hold_id,)).rowcount))

    def holds(self) -> list[Hold]:
        """Every legal hold in force."""
        rows = self._read("SELECT id, conversation_id, seq_from, seq_to, reason, created, created_by FROM holds"
                          " ORDER BY id")
        return [Hold(*row) for row in rows]

    def purge(self, content_seqs: list[int], metadata_seqs: list[int], prepare: Preparer) -> PreparedRecord:
        """Destroy content and metadata under a purge authorisation and append the purge record, atomically."""
        def work(conn: Connection) -> PreparedRecord:
            self._destroy(conn, content_seqs, metadata_seqs)
            return self._insert(conn, prepare)

        return self._write(work)

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

    def export_rows(self, batch_size: int = 1000) -> Iterator[Batch]:
        """Every row verbatim from one read snapshot, on a connection of its own so appends are not blocked."""
        with self._snapshot() as conn:
            yield from read_tables(conn, "?", batch_size)
            row: Any = conn.execute(self.HOLD_ID_COUNTER).fetchone()
            yield HOLD_COUNTER, [(int(row[0]) if row else 0,)]

    def import_rows(self, batches: Iterable[Batch]) -> None:
        """Insert a copied log into this empty store in one locked write transaction (all or nothing: a crash
        half-way rolls back)."""
        def work(conn: Connection) -> None:
            self._set_hold_counter(conn, write_tables(conn, "?", batches))

        self._write(work)


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
