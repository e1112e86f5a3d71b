"""The PostgreSQL adapter of the audit store (the only module that imports psycopg), for several Baken
processes sharing one audit log.

Every write transaction first takes a transaction-scoped advisory lock (one per schema), then reads the last
(seq, head): appends from any number of processes are serialised into one gap-free chain. The lock is
released by COMMIT or ROLLBACK, so a process that dies mid-append leaves neither a gap nor a held lock.
Triggers refuse UPDATE and DELETE outside the retention purge, as in the SQLite store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from assistant.audit.figures import FIGURE_STATEMENTS
from assistant.audit.sql_store import SQLAuditStore, apply_migrations
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


def _guard(table: str, events: str, body: str) -> str:
    """A plpgsql function `baken_<table>_guard` with `body`, and the row trigger that runs it before `events`
    on `table`."""
    return f"""
CREATE OR REPLACE FUNCTION baken_{table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body.strip()}
END $$;
DROP TRIGGER IF EXISTS {table}_guard ON {table};
CREATE TRIGGER {table}_guard BEFORE {events} ON {table}
  FOR EACH ROW EXECUTE FUNCTION baken_{table}_guard();
"""


# Made again at every start, so the guards are always those of the current schema.
TRIGGERS = _guard("records", "INSERT OR UPDATE OR DELETE", """
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
""") + _guard("content", "UPDATE OR DELETE", """
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit content cannot be changed';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq) THEN
    RAISE EXCEPTION 'audit content can only be destroyed by retention purge';
  END IF;
  RETURN OLD;
""") + _guard("checkpoints", "UPDATE OR DELETE", """
  RAISE EXCEPTION 'audit checkpoints cannot be changed or deleted';
""")

_SOURCES = ("(CASE WHEN jsonb_typeof(r.record_json::jsonb -> 'baken.sources') = 'array'"
            " THEN r.record_json::jsonb -> 'baken.sources' ELSE '[]'::jsonb END)")
_REDACTIONS = _SOURCES.replace("baken.sources", "baken.redactions")


class PostgresAuditStore(SQLAuditStore):
    """Audit records in one PostgreSQL schema, shared by every Baken process that points at it."""

    QUESTION = "(c.content_json::jsonb ->> 'question')"
    DIALECT = "postgres"
    DRIVER_ERROR = psycopg.Error
    SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    DOCUMENT_FILTER = ("((r.record_json::jsonb ->> 'baken.document.id') = ?"
                       " OR (r.record_json::jsonb ->> 'baken.document.sha256') = ?"
                       f" OR EXISTS (SELECT 1 FROM jsonb_array_elements({_SOURCES}) s"
                       " WHERE s ->> 'doc_id' = ? OR s ->> 'content_hash' = ?))")
    REDACTION_FILTER = f"EXISTS (SELECT 1 FROM jsonb_array_elements({_REDACTIONS}) x WHERE x ->> 'type' = ?)"
    # The serial remembers the highest id ever issued, even of a hold lifted since.
    HOLD_ID_COUNTER = ("SELECT GREATEST((SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                       " FROM holds_id_seq), (SELECT COALESCE(MAX(id), 0) FROM holds))")

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

    def _label(self) -> str:
        return f"({self._where()})"

    def _set_hold_counter(self, conn: Connection, counter: int) -> None:
        # Explicit ids do not advance the serial: set it, or the next hold would reuse a copied id.
        conn.execute("SELECT setval('holds_id_seq', ?, ?)", (max(counter, 1), counter > 0))

    def close(self) -> None:
        """Close the connection; the store is not used again."""
        with self._lock:
            self._closed = True
            self._conn.close()
