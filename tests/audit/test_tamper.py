"""The tamper suite: every column a search filters on or a list shows, changed behind the store (triggers
dropped) in every purge state, is caught by verify, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import Backend, append_turns

NOW = datetime.now(UTC)
PURGES = {
    "kept": None,
    "content purged": NOW + timedelta(days=400),  # content (365 days) gone, metadata (2555 days) kept
    "metadata purged": NOW + timedelta(days=3000),  # the body gone too; seq, time, action and hashes kept
}
FALSE_VALUES = {
    "time": "2001-01-01T00:00:00.000000Z",
    "action": "auth.login",
    "actor": "p-mallory",
    "conversation_id": "conv-elsewhere",
    "outcome": "refused",
}
SEQ = 3


def _log_in_state(backend: Backend, state: str) -> None:
    append_turns(backend.log, 6)
    if PURGES[state] is not None:
        result = backend.log.purge(PURGES[state])
        assert SEQ in (result.metadata_seqs if state == "metadata purged" else result.content_seqs)
    assert backend.log.verify().ok


def _expected_reason(column: str, state: str) -> str:
    if state != "metadata purged":
        return f"the indexed column {column} of record {SEQ} was changed"
    if column in ("time", "action"):
        return f"the header of record {SEQ} was modified"
    return f"its {column} column(s) still show values that nothing proves"


@pytest.mark.parametrize("state", sorted(PURGES))
@pytest.mark.parametrize("column", sorted(FALSE_VALUES))
def test_a_changed_indexed_column_fails_verification(backend: Backend, column: str, state: str) -> None:
    _log_in_state(backend, state)
    backend.raw(f"UPDATE records SET {column} = ? WHERE seq = ?", (FALSE_VALUES[column], SEQ))
    result = backend.log.verify()
    assert not result.ok and result.first_bad_seq == SEQ, result
    assert _expected_reason(column, state) in result.reason


@pytest.mark.parametrize("state", sorted(PURGES))
def test_a_changed_body_hash_fails_verification(backend: Backend, state: str) -> None:
    _log_in_state(backend, state)
    backend.raw("UPDATE records SET body_hash = ? WHERE seq = ?", (bytes(32), SEQ))
    result = backend.log.verify()
    assert not result.ok and result.first_bad_seq == SEQ, result
    assert ("header of record 3 was modified" if state == "metadata purged"
            else "body hash of record 3 was changed") in result.reason


@pytest.mark.parametrize("state", sorted(PURGES))
def test_a_record_passed_off_as_the_old_format_fails_verification(backend: Backend, state: str) -> None:
    """Format 1 keeps no header hash: a format-2 record relabelled format 1 would need no proof of its time."""
    _log_in_state(backend, state)
    backend.raw("UPDATE records SET format = 1, body_hash = NULL, time = ? WHERE seq = ?",
                (FALSE_VALUES["time"], SEQ))
    result = backend.log.verify()
    assert not result.ok and result.first_bad_seq == SEQ, result
    if state == "metadata purged":
        assert "format was changed to 1" in result.reason
    else:
        assert "is in record format 2 but its row says 1" in result.reason


def test_the_false_value_is_what_a_search_would_show(backend: Backend) -> None:
    """Why the columns matter: the auditor's filters read them, not the record."""
    _log_in_state(backend, "kept")
    backend.raw("UPDATE records SET actor = ? WHERE seq = ?", ("p-mallory", SEQ))
    assert [r.seq for r in backend.log.search(actor="p-mallory")] == [SEQ]
    assert not backend.log.verify().ok


@pytest.mark.parametrize("state", sorted(PURGES))
def test_an_untouched_log_verifies_in_every_purge_state(backend: Backend, state: str) -> None:
    _log_in_state(backend, state)
    rows = {r.seq: r for r in backend.log.store.records()}
    assert rows[SEQ].format == 2 and rows[SEQ].body_hash is not None
    assert (rows[SEQ].record_json is None) == (state == "metadata purged")
    result = backend.log.verify()
    assert result.ok and not any("cannot be proven" in note for note in result.notes)  # every header proven


def test_cli_verify_names_a_changed_column(backend: Backend, cli) -> None:  # type: ignore[no-untyped-def]
    if backend.name != "sqlite":
        pytest.skip("the CLI fixture runs on the SQLite log under DATA_DIR")
    _log_in_state(backend, "metadata purged")
    backend.raw("UPDATE records SET time = ? WHERE seq = ?", (FALSE_VALUES["time"], SEQ))
    status, out = cli("verify")
    assert status == 1 and f"FAILED at record {SEQ}: the header of record {SEQ} was modified" in out
