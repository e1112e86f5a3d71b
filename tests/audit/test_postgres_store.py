"""The audit store contract on PostgreSQL, and two processes appending into one gap-free, verifiable chain.

Uses BAKEN_TEST_POSTGRES_DSN when set (CI starts `scripts/postgres-test-server`); otherwise starts a throwaway
cluster with that script if PostgreSQL is installed, and skips when it is not.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from assistant.audit.verify import verify_records
from core.errors import AuditError
from tests.audit import test_store_contract as contract
from tests.paths import REPO
from tests.servers import free_port

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")

from assistant.audit.postgres_store import PostgresAuditStore

# Every contract test that takes the `store` fixture runs here too, on PostgreSQL.
for _name, _test in vars(contract).items():
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test


@pytest.fixture
def schema(postgres_dsn: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def store(postgres_dsn: str, schema: str) -> Iterator[PostgresAuditStore]:
    """An empty PostgreSQL audit store in a schema of its own."""
    adapter = PostgresAuditStore(postgres_dsn, schema=schema)
    yield adapter
    adapter.close()


WRITER = """
import sys, time
from assistant.audit.postgres_store import PostgresAuditStore
from assistant.audit.records import prepare_record
dsn, schema, actor, count, start = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
store = PostgresAuditStore(dsn, schema=schema)
time.sleep(max(0.0, start - time.time()))  # both writers begin together
for n in range(count):
    store.append(lambda seq, head: prepare_record(
        seq, head, time="2026-01-01T00:00:00.000000Z", action="conversation.turn", actor=actor, role="user",
        attributes={"n": n}, content={"question": f"vraag {n}"}, conversation_id=actor, outcome="answered"))
store.close()
"""


def test_two_processes_appending_at_once_make_one_gap_free_verifiable_chain(postgres_dsn: str,
                                                                              schema: str) -> None:
    PostgresAuditStore(postgres_dsn, schema=schema).close()  # create the schema before the race
    count, start = 150, time.time() + 3
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, postgres_dsn, schema, actor, str(count),
                                 str(start)], cwd=REPO, stderr=subprocess.PIPE, text=True)
               for actor in ("p-one", "p-two")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    store = PostgresAuditStore(postgres_dsn, schema=schema)
    try:
        rows = list(store.records())
        assert [r.seq for r in rows] == list(range(1, 2 * count + 1))
        result = verify_records(rows, [], lambda cp: True)
        assert result.ok and result.records == 2 * count, result
        ones = [bool(r.record_json and '"p-one"' in r.record_json) for r in rows]
        assert sum(ones) == count
        assert sum(a != b for a, b in pairwise(ones)) > 2  # the writers really did interleave
    finally:
        store.close()


def test_records_cannot_be_changed_or_deleted_behind_the_store(postgres_dsn: str, store: PostgresAuditStore,
                                                               schema: str) -> None:
    store.append(contract.preparer(content={"question": "q"}))
    with psycopg.connect(postgres_dsn, autocommit=True, options=f"-c search_path={schema}") as conn:
        for statement in ("UPDATE records SET action = 'x'", "DELETE FROM records", "DELETE FROM content",
                          "UPDATE content SET content_json = '{}'",
                          "INSERT INTO records (seq, time, action, record_hash, head) VALUES (5, 't', 'a', '', '')"):
            with pytest.raises(psycopg.errors.RaiseException):
                conn.execute(statement)
    assert [r.seq for r in store.records()] == [1]


def test_an_unreachable_server_is_an_audit_error_without_the_password() -> None:
    dsn = f"postgresql://baken:geheim@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(AuditError, match="cannot open the audit log in PostgreSQL") as caught:
        PostgresAuditStore(dsn, connect_timeout_s=2)
    assert "geheim" not in str(caught.value)



def test_settings_with_a_dsn_put_the_log_in_postgresql(postgres_dsn: str, schema: str, tmp_path: Path) -> None:
    from assistant.audit import AuditLog, AuditSettings

    log = AuditLog.open(AuditSettings(dsn=postgres_dsn, pg_schema=schema), tmp_path)
    try:
        assert isinstance(log.store, PostgresAuditStore)
        log.append("conversation.turn", actor="u1", role="medewerker", record={"x": 1})
        assert log.verify().ok and not (tmp_path / "audit").exists()
    finally:
        log.close()


def test_a_process_with_another_signing_key_is_refused_by_the_shared_log(postgres_dsn: str, schema: str,
                                                                         tmp_path: Path) -> None:
    from assistant.audit import AuditLog, AuditSettings
    from core.errors import ConfigurationError

    first = AuditLog.open(AuditSettings(dsn=postgres_dsn, pg_schema=schema, key_dir=tmp_path / "keys-a",
                                        checkpoint_every=1), tmp_path)
    first.append("conversation.turn", actor="u1", role="medewerker", record={"x": 1})
    first.close()
    with pytest.raises(ConfigurationError, match="same audit key directory"):
        AuditLog.open(AuditSettings(dsn=postgres_dsn, pg_schema=schema, key_dir=tmp_path / "keys-b"), tmp_path)
    same = AuditLog.open(AuditSettings(dsn=postgres_dsn, pg_schema=schema, key_dir=tmp_path / "keys-a"), tmp_path)
    assert same.verify().ok
    same.close()


def test_the_log_goes_on_after_its_connection_is_killed(postgres_dsn: str, store: PostgresAuditStore) -> None:
    """A server restart or failover kills the store's connection: the next write fails clearly, and the one
    after reconnects (no Baken restart needed)."""
    store.append(contract.preparer(content={"question": "q"}))
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
    with pytest.raises(AuditError):
        store.append(contract.preparer(content={"question": "q"}))
    store.append(contract.preparer(content={"question": "q"}))
    assert [r.seq for r in store.records()] == [1, 2]
