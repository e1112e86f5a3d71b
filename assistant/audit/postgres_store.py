"""The PostgreSQL adapter of the audit store (the only module that imports psycopg), for several Baken
processes sharing one audit log.

Every write transaction first takes a transaction-scoped advisory lock (one per schema), then reads the last
(seq, head): appends from any number of processes are serialised into one gap-free chain. The lock is
released by COMMIT or ROLLBACK, so a process that dies mid-append leaves neither a gap nor a held lock.
Triggers refuse UPDATE and DELETE outside the retention purge, as in the SQLite store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from assistant.audit.figures import FIGURE_STATEMENTS, FigureQueries
from assistant.audit.records import PreparedRecord, Preparer
from assistant.audit.store import (
    HOLD_COUNTER,
    RECORD_COLUMNS,
    RECORDS_WITH_CONTENT,
    Batch,
    RecordQuery,
    SharedQueries,
    StoredRecord,
    apply_migrations,
    read_tables,
    stored_record,
    write_tables,
)
from assistant.audit.store import SCHEMA as STORE_SCHEMA
from core.database import Connection, postgres_ddl
from core.errors import AuditError

LOCK_NAMESPACE = 0x42414B  # "BAK": the first key of pg_advisory_xact_lock(int, int); the second is the schema's
T = TypeVar("T")

SCHEMA = postgres_ddl(STORE_SCHEMA)  # BIGINT seqs, BYTEA hashes, a BIGSERIAL hold id

MIGRATION_STATEMENTS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE records ADD COLUMN IF NOT EXISTS format INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE records ADD COLUMN IF NOT EXISTS body_hash BYTEA"),
    **{version: tuple(postgres_ddl(s) for s in statements) for version, statements in FIGURE_STATEMENTS.items()},
}

# Made again at every start, so the guards are always those of the current schema.
TRIGGERS = """
CREATE OR REPLACE FUNCTION baken_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.seq IS DISTINCT FROM (SELECT COALESCE(MAX(seq), 0) + 1 FROM records) THEN
      RAISE EXCEPTION 'audit records are appended in sequence only';
    END IF;
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit records cannot be deleted';
  END IF;
  IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.time IS DISTINCT FROM OLD.time
     OR NEW.action IS DISTINCT FROM OLD.action OR NEW.record_hash IS DISTINCT FROM OLD.record_hash
     OR NEW.head IS DISTINCT FROM OLD.head OR NEW.format IS DISTINCT FROM OLD.format
     OR NEW.body_hash IS DISTINCT FROM OLD.body_hash OR NEW.record_json IS NOT NULL OR NEW.actor IS NOT NULL
     OR NEW.conversation_id IS NOT NULL OR NEW.outcome IS NOT NULL
     OR NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq) THEN
    RAISE EXCEPTION 'audit records cannot be changed outside retention purge';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION baken_content_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit content cannot be changed';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq) THEN
    RAISE EXCEPTION 'audit content can only be destroyed by retention purge';
  END IF;
  RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION baken_checkpoints_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit checkpoints cannot be changed or deleted';
END $$;

DROP TRIGGER IF EXISTS records_guard ON records;
CREATE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON records
  FOR EACH ROW EXECUTE FUNCTION baken_records_guard();
DROP TRIGGER IF EXISTS content_guard ON content;
CREATE TRIGGER content_guard BEFORE UPDATE OR DELETE ON content
  FOR EACH ROW EXECUTE FUNCTION baken_content_guard();
DROP TRIGGER IF EXISTS checkpoints_guard ON checkpoints;
CREATE TRIGGER checkpoints_guard BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION baken_checkpoints_guard();
"""

_COLUMNS = RECORD_COLUMNS
_FROM = RECORDS_WITH_CONTENT
_SOURCES = ("(CASE WHEN jsonb_typeof(r.record_json::jsonb -> 'baken.sources') = 'array'"
            " THEN r.record_json::jsonb -> 'baken.sources' ELSE '[]'::jsonb END)")
_REDACTIONS = _SOURCES.replace("baken.sources", "baken.redactions")


_stored = stored_record


class PostgresAuditStore(SharedQueries, FigureQueries):
    """Audit records in one PostgreSQL schema, shared by every Baken process that points at it."""

    QUESTION = "(c.content_json::jsonb ->> 'question')"

    def __init__(self, dsn: str, *, schema: str = "baken_audit", connect_timeout_s: int = 10) -> None:
        self.dsn, self.schema = dsn, schema
        self._connect_timeout = connect_timeout_s
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._conn = self._connect()
            with self._lock, self._conn.transaction():
                self._conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                self._conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                self._conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, schema))
                self._conn.execute(SCHEMA)  # type: ignore[arg-type]  # a constant, no user input
                apply_migrations(Connection(self._conn, "postgres"), "?", MIGRATION_STATEMENTS,
                                 datetime.now(UTC).isoformat())
                self._conn.execute(TRIGGERS)  # type: ignore[arg-type]  # a constant, no user input
        except psycopg.Error as exc:
            raise AuditError(f"cannot open the audit log in PostgreSQL ({self._where()}): {exc}") from exc

    def _where(self) -> str:
        """Host, port and database of the DSN, without its password."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.Error:
            return "an invalid DSN"
        return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')} {self.schema}"

    def _connect(self) -> psycopg.Connection[Any]:
        # autocommit: every statement runs inside an explicit `transaction()` block (or BEGIN), never an
        # implicit one left open between calls.
        return psycopg.connect(self.dsn, connect_timeout=self._connect_timeout, autocommit=True,
                               options=f"-c search_path={self.schema}")

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, opened again when the last one broke (a server restart or failover): the log goes
        on once the server is back, without restarting Baken. Call with the lock held."""
        if self._closed:
            raise AuditError(f"the audit log ({self._where()}) is closed")
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in one transaction holding the schema's advisory lock; failures roll back."""
        with self._lock:
            try:
                conn = self._live()
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, self.schema))
                    return work(Connection(conn, "postgres"))
            except psycopg.Error as exc:
                raise AuditError(f"cannot write the audit log ({self._where()}): {exc}") from exc

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                conn = self._live()
                with conn.transaction():
                    return Connection(conn, "postgres").execute(query, params).fetchall()  # type: ignore[return-value]
            except psycopg.Error as exc:
                raise AuditError(f"cannot read the audit log ({self._where()}): {exc}") from exc

    def records(self, first: int = 1, last: int | None = None) -> Iterator[StoredRecord]:
        """Records in order from one REPEATABLE READ snapshot, on a connection of their own."""
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise AuditError(f"cannot read the audit log ({self._where()}): {exc}") from exc
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield from self._snapshot_records(Connection(conn, "postgres"), first, last)
        except psycopg.Error as exc:
            raise AuditError(f"cannot read the audit log ({self._where()}): {exc}") from exc
        finally:
            conn.close()

    def find(self, query: RecordQuery, limit: int = 100, offset: int = 0) -> list[StoredRecord]:
        """Records matching every filter of `query`, newest first."""
        where, params = query.column_filters("?")
        where.insert(0, "TRUE")
        if query.document is not None:
            where.append("((r.record_json::jsonb ->> 'baken.document.id') = ?"
                         " OR (r.record_json::jsonb ->> 'baken.document.sha256') = ?"
                         f" OR EXISTS (SELECT 1 FROM jsonb_array_elements({_SOURCES}) s"
                         " WHERE s ->> 'doc_id' = ? OR s ->> 'content_hash' = ?))")
            params += [query.document] * 4
        if query.redaction_type is not None:
            where.append(f"EXISTS (SELECT 1 FROM jsonb_array_elements({_REDACTIONS}) x WHERE x ->> 'type' = ?)")
            params.append(query.redaction_type)
        statement = (f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY r.seq DESC"
                     " LIMIT ? OFFSET ?")
        return [_stored(row) for row in self._read(statement, (*params, limit, offset))]

    def purge(self, content_seqs: list[int], metadata_seqs: list[int], prepare: Preparer) -> PreparedRecord:
        """Destroy content and metadata under a purge authorisation and append the purge record, atomically."""
        def work(conn: Connection) -> PreparedRecord:
            self._destroy(conn, content_seqs, metadata_seqs)
            return self._insert(conn, prepare)

        return self._write(work)

    def add_hold(self, conversation_id: str | None, seq_from: int | None, seq_to: int | None, reason: str,
                 created: str, created_by: str) -> int:
        """Store a legal hold; returns its id."""
        def work(conn: Connection) -> int:
            row: Any = conn.execute(
                "INSERT INTO holds (conversation_id, seq_from, seq_to, reason, created, created_by)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (conversation_id, seq_from, seq_to, reason, created, created_by)).fetchone()
            return int(row[0]) if row else 0

        return self._write(work)

    def location(self) -> str:
        """Host, port, database and schema, without the password."""
        return self._where()

    def export_rows(self, batch_size: int = 1000) -> Iterator[Batch]:
        """Every row verbatim from one REPEATABLE READ snapshot, on a connection of its own."""
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise AuditError(f"cannot read the audit log ({self._where()}): {exc}") from exc
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield from read_tables(Connection(conn, "postgres"), "?", batch_size)
            # The serial remembers the highest id ever issued, even of a hold lifted since.
            row = conn.execute("SELECT GREATEST((SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                               " FROM holds_id_seq), (SELECT COALESCE(MAX(id), 0) FROM holds))").fetchone()
            yield HOLD_COUNTER, [(int(row[0]) if row else 0,)]
        except psycopg.Error as exc:
            raise AuditError(f"cannot read the audit log ({self._where()}): {exc}") from exc
        finally:
            conn.close()

    def import_rows(self, batches: Iterable[Batch]) -> None:
        """Insert a copied log into this empty store in one transaction under the advisory lock (all or
        nothing: a crash half-way rolls back)."""
        def work(conn: Connection) -> None:
            counter = write_tables(conn, "?", batches)
            # Explicit ids do not advance the serial: set it, or the next hold would reuse a copied id.
            conn.execute("SELECT setval('holds_id_seq', ?, ?)", (max(counter, 1), counter > 0))

        self._write(work)

    def close(self) -> None:
        """Close the connection; the store is not used again."""
        with self._lock:
            self._closed = True
            self._conn.close()
