"""Copying a whole audit log into PostgreSQL (and back): every row verbatim, the chain intact, all or nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.audit import AuditKeys, AuditLog, AuditSettings, SQLiteAuditStore, copy_audit_log, migrate
from assistant.audit.store import HOLD_COUNTER, AuditStore
from core.errors import AuditError, UserError
from tests.paths import REPO

from .conftest import append_turns

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def schemas(postgres_dsn: str) -> Iterator[Callable[[], str]]:
    """Hands out fresh schema names; drops them all after the test."""
    names: list[str] = []

    def new() -> str:
        names.append(f"copy_{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield new
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def source(tmp_path: Path) -> AuditSettings:
    """A SQLite log of 60 turns, feedback and document events over 200 days, two holds (one lifted since) and a
    purge that destroyed old content and the metadata of old feedback, but not what a hold protects."""
    settings = AuditSettings(path=tmp_path / "audit" / "audit.sqlite3", key_dir=tmp_path / "keys",
                             checkpoint_every=10, durable=False, retention_days_by_kind={"feedback": 250})
    now = [T0]
    log = AuditLog(SQLiteAuditStore(settings.path, durable=False),  # type: ignore[arg-type]
                   AuditKeys.load_or_create(tmp_path / "keys"), settings, clock=lambda: now[0])
    for batch in range(3):
        turns = append_turns(log, 20, actor=f"user-{batch}", conversation_id=f"conv-{batch}")
        log.append_feedback(actor=f"user-{batch}", role="user", conversation_id=f"conv-{batch}",
                            turn_seq=turns[-1], rating="up", comment=f"Goed antwoord {batch}")
        log.append_document_event("document.upload", actor="beheer", role="beheerder", doc_id=f"doc-{batch}",
                                  sha256=f"{batch}" * 64)
        now[0] += timedelta(days=100)
    log.add_hold(reason="Woo-verzoek 2026-3", actor="auditor", conversation_id="conv-1")
    lifted = log.add_hold(reason="case 9", actor="auditor", seq_from=1, seq_to=5)
    log.remove_hold(lifted, actor="auditor")
    purge = log.purge(T0 + timedelta(days=400))
    assert purge.content_seqs and purge.metadata_seqs and purge.held_seqs
    log.close()
    return settings


def _target(postgres_dsn: str, schema: str, source: AuditSettings) -> AuditSettings:
    return source.model_copy(update={"dsn": SecretStr(postgres_dsn), "pg_schema": schema})


def _rows(store: AuditStore) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    found: dict[str, list[tuple]] = {}  # type: ignore[type-arg]
    for table, rows in store.export_rows(batch_size=7):
        found.setdefault(table, []).extend(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                                           for row in rows)
    return found


def test_a_copied_log_is_byte_identical_and_verifies_with_the_same_keys(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate, "BATCH_SIZE", 16)  # several batches per table
    target = _target(postgres_dsn, schemas(), source)
    result = copy_audit_log(source, target, tmp_path)

    before = SQLiteAuditStore(source.path)  # type: ignore[arg-type]
    after = migrate.open_store(target, tmp_path)
    try:
        old, new = _rows(before), _rows(after)
        assert result.verified.ok, result.verified.reason
        assert (result.records, result.content_rows, result.checkpoints, result.holds) == (
            len(old["records"]), len(old["content"]), len(old["checkpoints"]), 1)
        assert result.verified.records == len(old["records"]) + 1  # and the audit.copy record
        assert new["records"][:-1] == old["records"]  # every column, purged NULLs included
        assert new["content"] == old["content"] and new["holds"] == old["holds"]
        assert new["checkpoints"][:len(old["checkpoints"])] == old["checkpoints"]
        assert new[HOLD_COUNTER] == old[HOLD_COUNTER] == [(2,)]
        assert [r for r in before.records()] == [r for r in after.records()][:-1]
        purged = [row for row in old["records"] if row[6] is None]
        assert purged and all(row[3:7] == (None,) * 4 for row in purged)
        copy = json.loads(after.get(result.verified.last_seq).record_json or "{}")  # type: ignore[union-attr]
        assert copy["action"] == "audit.copy" and copy["outcome"] == "intact"
        assert copy["baken.copy.source"] == str(source.path.resolve())  # type: ignore[union-attr]
        assert copy["baken.copy.records"] == result.records == copy["baken.copy.last_seq"]
        assert after.checkpoints()[-1].seq == result.verified.last_seq  # the copy record is signed at once
    finally:
        before.close()
        after.close()


def test_the_copy_goes_on_as_the_log_and_never_reuses_a_lifted_hold_id(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                                        tmp_path: Path) -> None:
    target = _target(postgres_dsn, schemas(), source)
    copied = copy_audit_log(source, target, tmp_path)
    log = AuditLog.open(target, tmp_path)
    try:
        seqs = append_turns(log, 3, actor="alice", conversation_id="after-the-move")
        assert seqs[0] == copied.verified.last_seq + 1
        assert log.add_hold(reason="new case", actor="auditor", seq_from=70, seq_to=71) == 3
        assert log.verify().ok
        assert log.purge(T0 + timedelta(days=400)).held_seqs  # the copied conversation hold still protects
        assert log.verify().ok
    finally:
        log.close()


def test_a_log_copies_back_from_postgresql_into_sqlite(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    middle = _target(postgres_dsn, schemas(), source)
    copy_audit_log(source, middle, tmp_path)
    back = source.model_copy(update={"path": tmp_path / "back" / "audit.sqlite3"})
    result = copy_audit_log(middle, back, tmp_path)
    assert result.verified.ok and result.holds == 1
    there, here = migrate.open_store(middle, tmp_path), migrate.open_store(back, tmp_path)
    try:
        assert [r for r in there.records()] == [r for r in here.records()][:-1]
        assert _rows(here)[HOLD_COUNTER] == [(2,)]
    finally:
        there.close()
        here.close()


def test_copying_into_a_log_that_is_not_empty_or_into_the_source_itself_is_refused(postgres_dsn: str, schemas,  # type: ignore[no-untyped-def]
                                                                                   source, tmp_path: Path) -> None:
    target = _target(postgres_dsn, schemas(), source)
    copy_audit_log(source, target, tmp_path)
    with pytest.raises(UserError, match="already holds an audit log"):
        copy_audit_log(source, target, tmp_path)
    with pytest.raises(UserError, match="same audit store"):
        copy_audit_log(source, source, tmp_path)
    with pytest.raises(UserError, match="same audit store"):
        copy_audit_log(target, target, tmp_path)
    with pytest.raises(UserError, match="there is no audit log"):
        copy_audit_log(source.model_copy(update={"path": tmp_path / "typo.sqlite3"}), target, tmp_path)
    with pytest.raises(UserError, match="does not hold the log's keys"):
        copy_audit_log(source, _target(postgres_dsn, schemas(), source).model_copy(
            update={"key_dir": tmp_path / "other-keys"}), tmp_path)
    assert not (tmp_path / "typo.sqlite3").exists() and not (tmp_path / "other-keys").exists()


def test_a_copy_that_fails_half_way_leaves_the_target_empty_and_can_run_again(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                                              tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    target = _target(postgres_dsn, schemas(), source)
    real_export = SQLiteAuditStore.export_rows

    def failing(self: SQLiteAuditStore, batch_size: int = 1000) -> Iterator:  # type: ignore[type-arg]
        for number, batch in enumerate(real_export(self, batch_size)):
            if number == 3:
                raise AuditError("the disk went away")
            yield batch

    monkeypatch.setattr(migrate, "BATCH_SIZE", 10)
    monkeypatch.setattr(SQLiteAuditStore, "export_rows", failing)
    with pytest.raises(AuditError, match="disk went away"):
        copy_audit_log(source, target, tmp_path)
    store = migrate.open_store(target, tmp_path)
    assert store.last() is None and store.checkpoints() == [] and store.holds() == []
    store.close()
    monkeypatch.setattr(SQLiteAuditStore, "export_rows", real_export)
    assert copy_audit_log(source, target, tmp_path).verified.ok


def test_a_source_that_grows_during_the_copy_is_refused_and_nothing_is_copied(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                                              tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    target = _target(postgres_dsn, schemas(), source)
    real_export = SQLiteAuditStore.export_rows

    def racing(self: SQLiteAuditStore, batch_size: int = 1000) -> Iterator:  # type: ignore[type-arg]
        for number, batch in enumerate(real_export(self, batch_size)):
            if number == 1:  # another Baken process logs a turn meanwhile
                writer = AuditLog.open(source, tmp_path)
                append_turns(writer, 1)
                writer.close()
            yield batch

    monkeypatch.setattr(migrate, "BATCH_SIZE", 10)
    monkeypatch.setattr(SQLiteAuditStore, "export_rows", racing)
    with pytest.raises(UserError, match="grew during the copy"):
        copy_audit_log(source, target, tmp_path)
    store = migrate.open_store(target, tmp_path)
    assert store.last() is None
    store.close()


KILLED_COPY = """
import sys, time
from pathlib import Path
from pydantic import SecretStr
from assistant.audit import AuditSettings, SQLiteAuditStore, copy_audit_log
from assistant.audit import migrate

real = SQLiteAuditStore.export_rows
def slow(self, batch_size=1000):
    for number, batch in enumerate(real(self, batch_size)):
        if number == 3:
            print("half-way", flush=True)
            time.sleep(60)
        yield batch
SQLiteAuditStore.export_rows = slow
migrate.BATCH_SIZE = 10
source = AuditSettings.model_validate_json(sys.argv[1])
target = source.model_copy(update={"dsn": SecretStr(sys.argv[2]), "pg_schema": sys.argv[3]})
copy_audit_log(source, target, Path(sys.argv[4]))
"""


def test_a_copy_killed_half_way_leaves_the_target_empty_and_can_run_again(postgres_dsn: str, schemas, source,  # type: ignore[no-untyped-def]
                                                                          tmp_path: Path) -> None:
    schema = schemas()
    copier = subprocess.Popen([sys.executable, "-c", KILLED_COPY, source.model_dump_json(), postgres_dsn, schema,
                               str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert copier.stdout is not None and copier.stdout.readline().strip() == "half-way", copier.stderr
    finally:
        copier.send_signal(signal.SIGKILL)
        copier.wait(timeout=10)
    target = _target(postgres_dsn, schema, source)
    store = migrate.open_store(target, tmp_path)  # waits for the advisory lock of the dead copy's transaction
    assert store.last() is None and store.checkpoints() == []
    store.close()
    assert copy_audit_log(source, target, tmp_path).verified.ok


def test_the_cli_copies_the_configured_log_and_refuses_a_second_time(cli, postgres_dsn: str, schemas,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    log = AuditLog.open(AuditSettings(), tmp_path)
    append_turns(log, 3)
    log.close()
    schema = schemas()
    status, out = cli("copy", "--to-dsn", postgres_dsn, "--to-schema", schema)
    assert status == 0, out
    assert "copied 3 record(s), 3 content row(s), 1 checkpoint(s) and 0 hold(s)" in out
    assert f"{schema}" in out and "OK: the target verifies: 4 records" in out
    status, out = cli("copy", "--to-dsn", postgres_dsn, "--to-schema", schema)
    assert status == 1 and "already holds an audit log (4 records)" in out
    with pytest.raises(SystemExit):
        cli("copy", "--to-dsn", postgres_dsn, "--to-schema", "Not A Schema")
