"""Tampering in every way the issue names is caught, by `AuditLog.verify` and by `baken audit verify`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from assistant.audit.chain import next_head

from .conftest import append_turns, rehashed, tampering


def _change_a_field(conn: sqlite3.Connection) -> None:
    """Change the outcome of record 7, in the record and in its indexed column."""
    conn.execute("UPDATE records SET record_json = replace(record_json, '\"outcome\":\"answered\"',"
                 " '\"outcome\":\"refused\"'), outcome = 'refused' WHERE seq = 7")


def _delete(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM records WHERE seq = 7")


def _insert(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE records SET seq = seq + 1000 WHERE seq >= 7")
    conn.execute("UPDATE records SET seq = seq - 999 WHERE seq >= 1000")
    conn.execute("INSERT INTO records SELECT 7, time, action, actor, conversation_id, outcome, record_json,"
                 " record_hash, head, format, body_hash FROM records WHERE seq = 3")


def _reorder(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE records SET seq = -6 WHERE seq = 6")
    conn.execute("UPDATE records SET seq = 6 WHERE seq = 7")
    conn.execute("UPDATE records SET seq = 7 WHERE seq = -6")


def _edit_content(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE content SET content_json = replace(content_json, 'Antwoord', 'Antwoort') WHERE seq = 7")


def _delete_content(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM content WHERE seq = 7")


def _change_hash_too(conn: sqlite3.Connection) -> None:
    """Change record 7 and fix its hash, but not the heads after it."""
    _change_a_field(conn)
    (text,) = conn.execute("SELECT record_json FROM records WHERE seq = 7").fetchone()
    conn.execute("UPDATE records SET record_hash = ?, body_hash = ? WHERE seq = 7", rehashed(text))


def _forge_metadata_purge(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE records SET record_json = NULL WHERE seq = 7")
    conn.execute("DELETE FROM content WHERE seq = 7")


TAMPERINGS: list[tuple[str, Callable[[sqlite3.Connection], None], str]] = [
    ("change a field", _change_a_field, "modified"),
    ("change a field and its hash", _change_hash_too, "chain breaks"),
    ("delete a record", _delete, "missing"),
    ("insert a record", _insert, "inserted or reordered"),
    ("reorder records", _reorder, "inserted or reordered"),
    ("edit content", _edit_content, "content of record 7 was modified"),
    ("delete content outside purge", _delete_content, "without a signed purge record"),
    ("blank metadata outside purge", _forge_metadata_purge, "without a signed purge record"),
]


@pytest.mark.parametrize(("what", "tamper", "reason"), TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_verify_names_the_first_tampered_record(log: AuditLog, cli, what: str, tamper, reason: str) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 12)
    assert log.verify().ok
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        tamper(conn)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq in (6, 7) if what == "reorder records" else result.first_bad_seq == 7
    assert reason in result.reason
    status, out = cli("verify")
    assert status == 1
    assert f"FAILED at record {result.first_bad_seq}" in out


def test_rewriting_the_whole_chain_is_caught_by_a_signed_checkpoint(log: AuditLog) -> None:
    append_turns(log, 12)  # checkpoints at 5 and 10
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        _change_a_field(conn)
        rows = conn.execute("SELECT seq, record_json, head FROM records ORDER BY seq").fetchall()
        prev = bytes(rows[5][2])
        for seq, text, _ in rows[6:]:
            rec, body = rehashed(text)
            prev = next_head(prev, rec)
            conn.execute("UPDATE records SET record_hash = ?, body_hash = ?, head = ? WHERE seq = ?",
                         (rec, body, prev, seq))
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 6 and "seqs 6..10" in result.reason


def test_truncation_is_caught_relative_to_a_stored_checkpoint(log: AuditLog) -> None:
    append_turns(log, 12)
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("DELETE FROM records WHERE seq >= 9")
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 9 and "truncated" in result.reason


def test_truncation_is_caught_relative_to_an_exported_checkpoint_file(log: AuditLog, tmp_path: Path,
                                                                      cli) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 12)
    log.checkpoint().write(tmp_path / "checkpoint.json")
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("DELETE FROM records WHERE seq >= 11")
        conn.execute("DELETE FROM checkpoints WHERE seq >= 11")  # hide it inside the database too
    assert log.verify().ok  # without the outside checkpoint, a clean cut cannot be seen
    result = log.verify(tmp_path / "checkpoint.json")
    assert not result.ok and result.first_bad_seq == 11 and "truncated" in result.reason
    status, out = cli("verify", "--checkpoint", str(tmp_path / "checkpoint.json"))
    assert status == 1 and "FAILED at record 11" in out


def test_a_checkpoint_with_a_forged_signature_fails_verification(log: AuditLog) -> None:
    append_turns(log, 6)
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("UPDATE checkpoints SET signature = ? WHERE seq = 5", ("00" * 64,))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 5 and "signature" in result.reason


def test_an_untouched_log_verifies_with_its_checkpoints(log: AuditLog, cli) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 12)
    result = log.verify()
    assert result.ok and result.records == 12 and result.checkpoints == 3  # seq 1, 5 and 10
    status, out = cli("verify")
    assert status == 0 and "OK: 12 records" in out


def test_an_empty_log_verifies(log: AuditLog) -> None:
    result = log.verify()
    assert result.ok and result.records == 0


def test_a_forged_purge_record_does_not_excuse_deleted_content(log: AuditLog) -> None:
    from assistant.audit.records import prepare_record

    append_turns(log, 6)  # checkpoint at 5
    with tampering(log.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("DELETE FROM content WHERE seq = 2")
    forged = {"baken.purge.content_seqs": [[2, 2]], "baken.purge.metadata_seqs": []}
    log.store.append(lambda seq, head: prepare_record(seq, head, time=log.now(), action="audit.purge",
                                                      actor="x", role="system", attributes=forged))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2 and "signed purge record" in result.reason
