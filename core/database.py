"""The shared-state database: an SQLite file by default, or PostgreSQL for several hosts (the only module of
shared state that imports sqlite3 or psycopg).

Accounts, sessions, conversations, indexing jobs and the document registry are written through this one
small interface, so that the same store code runs on either:

- statements use `?` placeholders (turned into psycopg's `%s` on PostgreSQL);
- rows are plain dicts, read by column name;
- `connect()` gives an autocommit connection, `transaction()` one transaction that commits on success and
  rolls back on any exception. A transaction serialises writers: SQLite's `BEGIN IMMEDIATE` takes the
  database's write lock; on PostgreSQL, a `lock` name takes a transaction-scoped advisory lock on it.
- DDL is written once: `BLOB` becomes `BYTEA` and `DOUBLE PRECISION`/`TEXT`/`INTEGER`/`BIGINT` mean the same
  on both. Upserts use `INSERT ... ON CONFLICT ... DO UPDATE`, which both understand.

SQLite connections are opened per use (cheap, WAL mode, so several processes share the file). PostgreSQL
connections are kept in a small pool; one that fails is thrown away, never handed out again.
"""

from __future__ import annotations

import queue
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, SecretStr

from core.errors import BackendUnavailable, ConfigurationError

Row = dict[str, Any]
LOCK_NAMESPACE = 0x42414C  # "BAL": first key of pg_advisory_xact_lock(int, int) for shared-state locks
POOL_SIZE = 8
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_OPEN: dict[tuple[str, str], PostgresDatabase] = {}
_OPEN_LOCK = threading.Lock()


class Cursor(Protocol):
    """What `execute` returns: rows as dicts and the count of changed rows."""

    rowcount: int

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...


class Connection:
    """One connection of either dialect, with `?` placeholders and dict rows."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""
        return self.raw.execute(self._sql(statement, bool(params)), tuple(params))

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        if self.dialect == "sqlite":
            self.raw.executemany(statement, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._sql(statement, True), rows)

    def _sql(self, statement: str, has_params: bool) -> str:
        if self.dialect == "sqlite":
            return statement
        return statement.replace("%", "%%").replace("?", "%s") if has_params else statement


class Database:
    """Short connections to the shared-state database; `Database.open(dsn, path)` picks the dialect."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    @staticmethod
    def open(dsn: str | None, path: Path, schema: str = "baken") -> Database:
        """PostgreSQL at ``dsn`` (tables in ``schema``) when given, else the SQLite file at ``path``.

        One process opens one pool per PostgreSQL database and schema, however many stores use it, so that
        N processes hold at most N x POOL_SIZE idle connections.
        """
        if not dsn:
            return Database(path)
        with _OPEN_LOCK:
            found = _OPEN.get((dsn, schema))
            if found is None:
                found = _OPEN[(dsn, schema)] = PostgresDatabase(dsn, schema)
            return found

    def create(self, ddl: str) -> None:
        """Run a script of `CREATE ... IF NOT EXISTS` statements (separated by `;` at line ends)."""
        with self.transaction() as conn:
            for statement in statements(ddl):
                conn.execute(statement)

    @property
    def where(self) -> str:
        """Where the data lives, for messages (never a password)."""
        return str(self.path)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """An autocommit connection."""
        raw = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        raw.row_factory = _dict_row
        raw.execute("PRAGMA synchronous=FULL")
        try:
            yield Connection(raw, "sqlite")
        finally:
            raw.close()

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Connection]:
        """One write transaction; SQLite's write lock serialises it against every other writer."""
        del lock  # BEGIN IMMEDIATE already excludes every other writer
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def ping(self) -> None:
        """Raise BackendUnavailable when the database cannot be reached."""
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"the database {self.where} cannot be opened: {exc}") from exc

    def close(self) -> None:
        """Nothing to release: SQLite connections are closed after each use."""


class PostgresDatabase(Database):
    """The same interface on PostgreSQL: pooled connections, tables in one schema."""

    dialect = "postgres"

    def __init__(self, dsn: str, schema: str = "baken") -> None:
        import psycopg
        from psycopg.rows import dict_row

        if not _SCHEMA_NAME.match(schema):
            raise ConfigurationError(f"{schema!r} is not a usable PostgreSQL schema name (a-z, 0-9, _)")
        self._psycopg, self._dict_row = psycopg, dict_row
        self._dsn, self.schema = dsn, schema
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(POOL_SIZE)
        self.path = Path()
        with self.transaction(lock="schema") as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

    @property
    def where(self) -> str:
        info = self._psycopg.conninfo.conninfo_to_dict(self._dsn)
        return f"postgresql://{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}" \
               f" (schema {self.schema})"

    @contextmanager
    def _raw(self) -> Iterator[Any]:
        try:
            raw = self._idle.get_nowait()
        except queue.Empty:
            try:
                raw = self._psycopg.connect(self._dsn, autocommit=True, row_factory=self._dict_row,
                                            connect_timeout=10, options=f"-c search_path={self.schema}")
            except self._psycopg.OperationalError as exc:
                raise BackendUnavailable(f"the database {self.where} is unreachable: {_first_line(exc)}") from exc
        try:
            yield raw
        except self._psycopg.OperationalError as exc:
            raw.close()
            self.close()  # after a server restart every pooled connection is dead: drop them all, not one a request
            raise BackendUnavailable(f"the database {self.where} failed: {_first_line(exc)}") from exc
        except BaseException:
            if raw.closed or raw.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                raw.close()
            raise
        if raw.closed or raw.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            raw.close()
            return
        try:
            self._idle.put_nowait(raw)
        except queue.Full:
            raw.close()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._raw() as raw:
            yield Connection(raw, "postgres")

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Connection]:
        """One transaction; with ``lock``, a transaction-scoped advisory lock serialises it per lock name."""
        with self._raw() as raw, raw.transaction():
            conn = Connection(raw, "postgres")
            if lock is not None:
                conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (LOCK_NAMESPACE, lock))
            yield conn

    def create(self, ddl: str) -> None:
        # One lock for every schema change, so that processes starting together do not race on CREATE.
        with self.transaction(lock="schema") as conn:
            for statement in statements(ddl):
                conn.execute(re.sub(r"\bBLOB\b", "BYTEA", statement))

    def ping(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        """Close the idle pooled connections (the pool stays usable: later uses open new ones)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy a live SQLite database file to ``target`` (which exists, empty, with the permissions wanted) with
    the online backup API, in one step: one consistent read snapshot (BackendUnavailable when it fails)."""
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackendUnavailable(f"cannot back up {source}: {exc}") from exc


def sqlite_seal(path: Path) -> None:
    """Make a copied SQLite database one self-contained file (rollback journal, no -wal beside it)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def sqlite_counts(path: Path, tables: Iterable[str]) -> dict[str, int]:
    """The number of rows of each of ``tables`` (names of ours, never user input) in an SQLite file."""
    with closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def postgres_ddl(ddl: str) -> str:
    """SQLite DDL in PostgreSQL's words, for tables whose integers are 64-bit as SQLite's are: BLOB -> BYTEA,
    INTEGER -> BIGINT, INTEGER PRIMARY KEY AUTOINCREMENT -> BIGSERIAL PRIMARY KEY."""
    ddl = ddl.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    return re.sub(r"\bBLOB\b", "BYTEA", re.sub(r"\bINTEGER\b", "BIGINT", ddl))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


def statements(ddl: str) -> list[str]:
    """The statements of a DDL script (separated by `;` at line ends), without comments."""
    ddl = re.sub(r"--[^\n]*", "", ddl)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", ddl) if s.strip()]


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class DatabaseSettings(BaseModel):
    """Where shared state lives: accounts, sessions, conversations, indexing jobs and the document registry."""

    dsn: SecretStr | None = Field(
        None, description="PostgreSQL connection string (postgresql://user:password@host/db) shared by every"
                          " Baken process on every host; empty keeps SQLite files under DATA_DIR. The audit log"
                          " uses it too unless BAKEN_AUDIT__DSN is set.")
    pg_schema: str = Field("baken", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                           description="PostgreSQL schema that holds the shared-state tables.")
