"""Record formats: a log written in format 1 (before the upgrade) still verifies, goes on in format 2, and a
chain of both verifies, is purged, exported and checked by the standalone verifier."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings

from .conftest import Backend, append_turns, tampering
from .legacy_v1 import purge_v1, write_v1_log
from .test_export import verifier

AFTER_ALL = datetime.now(UTC) + timedelta(days=3000)


def _upgraded(settings: AuditSettings, tmp_path: Path, count: int = 6) -> tuple[AuditLog, list[bytes]]:
    heads = write_v1_log(settings.path, count)  # type: ignore[arg-type]
    return AuditLog.open(settings, tmp_path), heads


def test_an_old_format_log_verifies_after_the_upgrade_unchanged(settings: AuditSettings, tmp_path: Path) -> None:
    log, heads = _upgraded(settings, tmp_path)
    try:
        rows = list(log.store.records())
        assert [r.head for r in rows] == heads and {r.format for r in rows} == {1}
        assert all(r.body_hash is None and "format" not in json.loads(r.record_json or "{}") for r in rows)
        result = log.verify()
        assert result.ok and result.records == 6, result
    finally:
        log.close()
    conn = sqlite3.connect(settings.path)  # type: ignore[arg-type]
    assert conn.execute("SELECT version, name FROM schema_migrations").fetchall() == [
        (2, "record format 2: records.format and records.body_hash"), (3, "figure tables for the overviews"),
        (4, "figure tables counted by day")]
    conn.close()


def test_the_upgrade_runs_once_and_the_log_reopens(settings: AuditSettings, tmp_path: Path) -> None:
    log, _ = _upgraded(settings, tmp_path)
    log.close()
    again = AuditLog.open(settings, tmp_path)
    try:
        assert again.verify().ok
    finally:
        again.close()


def test_a_chain_of_both_formats_verifies_and_new_records_are_format_2(settings: AuditSettings,
                                                                       tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    log, _ = _upgraded(settings, tmp_path)
    try:
        append_turns(log, 4)
        log.checkpoint().write(tmp_path / "cp.json")
        rows = list(log.store.records())
        assert [r.format for r in rows] == [1] * 6 + [2] * 4
        assert json.loads(rows[-1].record_json or "{}")["kind"] == "conversation"
        assert log.verify(tmp_path / "cp.json").ok
    finally:
        log.close()
    status, out = cli("verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert status == 0 and "OK: 10 records" in out


@pytest.mark.parametrize(("statement", "reason"), [
    (("UPDATE records SET record_json = replace(record_json, 'answered', 'refused'), outcome = 'refused'"
      " WHERE seq = 2"), "record 2 was modified"),
    ("UPDATE records SET actor = 'p-mallory' WHERE seq = 2", "the indexed column actor of record 2"),
    ("UPDATE records SET time = '2001-01-01T00:00:00.000000Z' WHERE seq = 2", "the indexed column time of record 2"),
    ("UPDATE records SET format = 2 WHERE seq = 2", "body hash that does not fit"),
])
def test_tampering_an_old_format_record_is_still_caught(settings: AuditSettings, tmp_path: Path, statement: str,
                                                        reason: str) -> None:
    log, _ = _upgraded(settings, tmp_path)
    try:
        append_turns(log, 2)
        with tampering(settings.path) as conn:  # type: ignore[arg-type]
            conn.execute(statement)
        result = log.verify()
        assert not result.ok and result.first_bad_seq == 2 and reason in result.reason, result
    finally:
        log.close()


def test_purging_a_mixed_chain_keeps_it_verifying_and_says_which_headers_are_unproven(
        settings: AuditSettings, tmp_path: Path) -> None:
    log, _ = _upgraded(settings, tmp_path)
    try:
        append_turns(log, 3)  # seqs 7..9
        result = log.purge(AFTER_ALL)
        assert result.metadata_seqs == list(range(1, 10)) and result.format1_metadata_seqs == list(range(1, 7))
        purge = json.loads(log.store.get(result.record_seq).record_json)  # type: ignore[union-attr, arg-type]
        assert purge["baken.purge.format1_metadata_seqs"] == [[1, 6]] and purge["format"] == 2
        verified = log.verify()
        assert verified.ok, verified
        assert any("purged in record format 1 (seqs 1..6)" in note for note in verified.notes)
        with tampering(settings.path) as conn:  # type: ignore[arg-type]
            conn.execute("UPDATE records SET time = '2001-01-01T00:00:00.000000Z' WHERE seq = 8")
        broken = log.verify()
        assert not broken.ok and broken.first_bad_seq == 8 and "header of record 8" in broken.reason
    finally:
        log.close()


def test_a_purge_made_by_the_old_code_still_excuses_what_it_purged(settings: AuditSettings, tmp_path: Path) -> None:
    write_v1_log(settings.path, 6)  # type: ignore[arg-type]
    purge_seq = purge_v1(settings.path, [2, 3])  # type: ignore[arg-type]
    log = AuditLog.open(settings, tmp_path)
    try:
        log.checkpoint()  # the old purge signed one at once; the key is the same
        append_turns(log, 2)
        result = log.verify()
        assert result.ok and result.records == purge_seq + 2, result
        assert any("seqs 2..3" in note for note in result.notes)
    finally:
        log.close()


def test_an_export_of_a_mixed_purged_chain_passes_the_standalone_verifier(settings: AuditSettings,
                                                                         tmp_path: Path) -> None:
    log, _ = _upgraded(settings, tmp_path)
    try:
        append_turns(log, 3)
        log.purge(AFTER_ALL)
        append_turns(log, 2)
        checkpoint = log.checkpoint().to_dict()
        out = io.StringIO()
        log.export(out, "jsonl")
        data = out.getvalue().encode("utf-8")
        pem = log.public_key_pem()
    finally:
        log.close()
    lines = [json.loads(line) for line in data.splitlines()]
    assert [("record" in x, "header" in x) for x in lines[:9]] == [(False, False)] * 6 + [(False, True)] * 3
    assert "purged with their header" in verifier.verify_export(data, checkpoint, pem)
    forged = data.replace(lines[7]["header"]["time"].encode(), b"2001-01-01T00:00:00.000000Z", 1)
    with pytest.raises(verifier.Invalid, match="time or action was modified"):
        verifier.verify_export(forged, checkpoint, pem)


def test_a_purged_header_is_left_out_of_an_export_filtered_on_more_than_time(log: AuditLog) -> None:
    append_turns(log, 2)
    log.purge(AFTER_ALL)
    out = io.StringIO()
    log.export(out, "jsonl", actor="alice")
    assert all("header" not in json.loads(line) for line in out.getvalue().splitlines())


def test_an_old_postgres_schema_is_upgraded_in_place(backend: Backend, tmp_path: Path) -> None:
    """A PostgreSQL log from before format 2: the columns are added and its records verify by the old rule."""
    if backend.name != "postgres":
        pytest.skip("the SQLite upgrade is tested on real old files above")
    write_v1_log(tmp_path / "old.sqlite3", 4)
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    rows = old.execute("SELECT seq, time, action, actor, conversation_id, outcome, record_json, record_hash, head"
                       " FROM records ORDER BY seq").fetchall()
    contents = old.execute("SELECT seq, salt, content_json FROM content ORDER BY seq").fetchall()
    old.close()
    backend.raw("ALTER TABLE records DROP COLUMN format, DROP COLUMN body_hash")
    backend.raw("DELETE FROM schema_migrations")
    for row in rows:
        backend.raw("INSERT INTO records (seq, time, action, actor, conversation_id, outcome, record_json,"
                    " record_hash, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    for row in contents:
        backend.raw("INSERT INTO content (seq, salt, content_json) VALUES (?, ?, ?)", row)
    reopened = AuditLog.open(backend.log.settings, tmp_path)
    try:
        append_turns(reopened, 2)
        assert [r.format for r in reopened.store.records()] == [1] * 4 + [2] * 2
        assert reopened.verify().ok
    finally:
        reopened.close()
