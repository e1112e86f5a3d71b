"""Purge: content and metadata past retention are destroyed, holds are respected, the chain still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.forensics import assert_not_in_files, find_in_files
from core.errors import UserError

from .conftest import append_turns

NOW = datetime.now(UTC)
AFTER_CONTENT = NOW + timedelta(days=400)  # content (365 days) expired, metadata (2555 days) not
AFTER_ALL = NOW + timedelta(days=3000)


def _purge_record(log: AuditLog, seq: int) -> dict:  # type: ignore[type-arg]
    return json.loads(log.get(seq).record_json or "{}")


def test_nothing_is_purged_before_its_time(log: AuditLog) -> None:
    append_turns(log, 3)
    result = log.purge(NOW)
    assert result.content_seqs == [] and result.metadata_seqs == []
    assert _purge_record(log, result.record_seq)["action"] == "audit.purge"  # type: ignore[arg-type]


def test_purging_content_keeps_the_chain_verifying(log: AuditLog, tmp_path: Path) -> None:
    append_turns(log, 6)
    log.checkpoint().write(tmp_path / "checkpoint.json")
    result = log.purge(AFTER_CONTENT)
    assert result.content_seqs == [1, 2, 3, 4, 5, 6] and result.metadata_seqs == []
    assert all(log.get(seq).content_json is None for seq in range(1, 7))
    assert _purge_record(log, result.record_seq)["baken.purge.content_seqs"] == [[1, 6]]  # type: ignore[arg-type]
    verified = log.verify(tmp_path / "checkpoint.json")
    assert verified.ok, verified.reason


def test_purging_metadata_keeps_the_chain_verifying(log: AuditLog, tmp_path: Path) -> None:
    append_turns(log, 6)
    log.checkpoint().write(tmp_path / "checkpoint.json")
    result = log.purge(AFTER_ALL)
    assert result.metadata_seqs == [1, 2, 3, 4, 5, 6]
    assert log.get(3).record_json is None
    assert log.verify(tmp_path / "checkpoint.json").ok
    again = log.purge(AFTER_ALL + timedelta(days=1))
    assert again.metadata_seqs == []  # purge records are never purged
    assert log.verify(tmp_path / "checkpoint.json").ok


def test_purged_content_leaves_no_bytes_in_the_database_files(log: AuditLog, settings: AuditSettings) -> None:
    append_turns(log, 3)
    secret = "Antwoord 1 (bron 1)."
    assert find_in_files(settings.path.parent, [secret])  # type: ignore[union-attr]
    log.purge(AFTER_CONTENT)
    assert_not_in_files(settings.path.parent, [secret, "Tekst van fragment 2."])  # type: ignore[union-attr]


def test_a_conversation_hold_keeps_its_records(log: AuditLog) -> None:
    append_turns(log, 2, conversation_id="held")
    append_turns(log, 2, conversation_id="free")
    hold = log.add_hold(reason="Woo-verzoek 2026-17", actor="auditor", conversation_id="held")
    result = log.purge(AFTER_ALL)
    assert result.held_seqs == [1, 2]
    assert 3 in result.metadata_seqs and 1 not in result.content_seqs
    assert log.get(1).content_json is not None and log.get(3).record_json is None
    log.remove_hold(hold, actor="auditor")
    assert 1 in log.purge(AFTER_ALL).metadata_seqs
    assert log.verify().ok


def test_a_seq_range_hold_keeps_its_records(log: AuditLog) -> None:
    append_turns(log, 5)
    log.add_hold(reason="case 7", actor="auditor", seq_from=2, seq_to=3)
    result = log.purge(AFTER_CONTENT)
    assert result.held_seqs == [2, 3] and result.content_seqs == [1, 4, 5, 6]  # 6: the hold's own reason


@pytest.mark.parametrize("kwargs", [{}, {"conversation_id": "c", "seq_from": 1}, {"seq_from": 5, "seq_to": 2}])
def test_a_hold_needs_exactly_one_valid_scope(log: AuditLog, kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError):
        log.add_hold(reason="r", actor="a", **kwargs)


def test_retention_can_differ_per_kind(tmp_path: Path) -> None:
    settings = AuditSettings(path=tmp_path / "a.sqlite3", key_dir=tmp_path / "k", durable=False,
                             retention_days_by_kind={"auth": 200})
    log = AuditLog.open(settings, tmp_path)
    log.append_auth_event("auth.login", actor="a", role="user", outcome="ok")
    append_turns(log, 1)
    result = log.purge(NOW + timedelta(days=400))
    assert result.metadata_seqs == [1] and result.content_seqs == [2]
    assert log.verify().ok
    log.close()


def test_a_dry_run_destroys_nothing_and_is_logged_as_a_preview(log: AuditLog) -> None:
    append_turns(log, 2)
    result = log.purge(AFTER_ALL, dry_run=True)
    assert result.dry_run and result.metadata_seqs == [1, 2] and result.record_seq is None
    assert log.get(1).content_json is not None
    assert [r.action for r in log.search()] == ["audit.purge_preview", "conversation.turn", "conversation.turn"]


def test_purged_metadata_leaves_no_bytes_in_the_database_files(log: AuditLog, settings: AuditSettings) -> None:
    append_turns(log, 3, conversation_id="conv-unique-4711", doc_id="doc-unique-0815", actor="erik")
    values = ["conv-unique-4711", "doc-unique-0815", log.pseudonym("erik")]
    assert len(find_in_files(settings.path.parent, values)) >= 3  # type: ignore[union-attr]
    log.purge(AFTER_ALL)
    assert_not_in_files(settings.path.parent, values)  # type: ignore[union-attr]
    assert log.verify().ok
