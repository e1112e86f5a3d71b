"""The shared-state database behaves the same on SQLite and PostgreSQL (a real server: see tests/conftest.py)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.database import Database
from core.errors import BackendUnavailable

DDL = """
-- a table with every column type the stores use
CREATE TABLE IF NOT EXISTS things (
    id TEXT PRIMARY KEY, n INTEGER NOT NULL, big BIGINT, at DOUBLE PRECISION, data BLOB);
CREATE INDEX IF NOT EXISTS things_n ON things(n);
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of each dialect, with the `things` table."""
    if request.param == "sqlite":
        db = Database.open(None, tmp_path / "state.sqlite3")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        db = Database.open(dsn, tmp_path, schema=f"t_{uuid.uuid4().hex[:12]}")
    db.create(DDL)
    db.create(DDL)  # idempotent
    yield db
    if db.dialect == "postgres":
        with db.connect() as conn:
            conn.execute(f'DROP SCHEMA "{db.schema}" CASCADE')  # type: ignore[attr-defined]
    db.close()


def test_rows_are_dicts_and_placeholders_are_question_marks(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("INSERT INTO things VALUES (?, ?, ?, ?, ?)", ("a", 1, 2**40, 0.5, b"\x00\xff"))
        conn.executemany("INSERT INTO things (id, n) VALUES (?, ?)", [("b", 2), ("c", 3)])
        row = conn.execute("SELECT * FROM things WHERE id = ?", ("a",)).fetchone()
        assert row == {"id": "a", "n": 1, "big": 2**40, "at": 0.5, "data": b"\x00\xff"}
        assert conn.execute("SELECT COUNT(*) AS n FROM things WHERE id LIKE ?", ("%",)).fetchone() == {"n": 3}
        assert conn.execute("UPDATE things SET n = n + 1 WHERE n >= ?", (2,)).rowcount == 2


def test_upsert_means_the_same_on_both(database: Database) -> None:
    upsert = "INSERT INTO things (id, n) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n"
    with database.connect() as conn:
        conn.execute(upsert, ("a", 1))
        conn.execute(upsert, ("a", 7))
        assert conn.execute("SELECT n FROM things").fetchall() == [{"n": 7}]


def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as conn:
        conn.execute("INSERT INTO things (id, n) VALUES (?, ?)", ("a", 1))
        raise RuntimeError("half-way")
    with database.transaction() as conn:
        conn.execute("INSERT INTO things (id, n) VALUES (?, ?)", ("b", 1))
    with database.connect() as conn:
        assert [r["id"] for r in conn.execute("SELECT id FROM things").fetchall()] == ["b"]


def test_locked_transactions_do_not_lose_updates(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("INSERT INTO things (id, n) VALUES ('counter', 0)")

    def bump() -> None:
        for _ in range(20):
            with database.transaction(lock="counter") as conn:
                n = conn.execute("SELECT n FROM things WHERE id = 'counter'").fetchone()["n"]  # type: ignore[index]
                conn.execute("UPDATE things SET n = ? WHERE id = 'counter'", (n + 1,))

    workers = [threading.Thread(target=bump) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with database.connect() as conn:
        assert conn.execute("SELECT n FROM things WHERE id = 'counter'").fetchone() == {"n": 80}


def test_an_unreachable_server_is_a_clear_error(postgres_dsn: str) -> None:
    with pytest.raises(BackendUnavailable, match="unreachable"):
        Database.open("postgresql://baken@127.0.0.1:1/nothing?connect_timeout=2", Path())
    Database.open(postgres_dsn, Path(), schema="baken_ping").ping()


def test_a_bad_schema_name_is_refused(postgres_dsn: str) -> None:
    from core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        Database.open(postgres_dsn, Path(), schema='x"; DROP TABLE users; --')


def test_after_a_server_restart_one_request_fails_and_the_next_works(tmp_path: Path) -> None:
    """A restart kills every pooled connection: the first use finds out (a clear BackendUnavailable) and
    drops the whole pool, so the next request opens a fresh connection instead of failing too."""
    import subprocess
    import tempfile

    from tests.conftest import POSTGRES_SCRIPT
    from tests.servers import free_port

    cluster = Path(tempfile.gettempdir()) / f"baken-pg-restart-{uuid.uuid4().hex[:8]}"
    args = ["--dir", str(cluster), "--port", str(free_port()), "--no-install"]

    def server(action: str) -> str:
        done = subprocess.run([str(POSTGRES_SCRIPT), action, *args[:2], *(args[2:] if action == "start" else [])],
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode == 3:
            pytest.skip(f"PostgreSQL is unavailable: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    dsn = server("start")
    try:
        db = Database.open(dsn, tmp_path, schema="restart")
        with db.connect(), db.connect(), db.connect():  # three connections, all back in the pool after
            pass
        server("stop")
        with pytest.raises(BackendUnavailable):
            db.ping()
        server("start")
        db.ping()
        db.ping()
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", "--dir", str(cluster)], capture_output=True, timeout=60,
                       check=False)
