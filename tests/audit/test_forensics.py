"""The raw-bytes search sees the -wal file too, where fresh records live before a checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.forensics import assert_not_in_files, find_in_files


def test_values_in_the_wal_are_found_while_the_log_is_open(log: AuditLog, settings: AuditSettings) -> None:
    log.append("conversation.turn", actor="a", role="user", record={}, content={"question": "NL91ABNA0417164300"})
    directory = settings.path.parent  # type: ignore[union-attr]
    hits = find_in_files(directory, ["NL91ABNA0417164300", b"not-there"])
    assert [(path.name, value) for path, value in hits] == [("audit.sqlite3-wal", "NL91ABNA0417164300")]
    with pytest.raises(AssertionError, match="audit.sqlite3-wal"):
        assert_not_in_files(directory, ["NL91ABNA0417164300"])


def test_absent_values_pass(tmp_path: Path) -> None:
    (tmp_path / "audit.sqlite3-shm").write_bytes(b"\x00" * 64)
    assert_not_in_files(tmp_path, ["111222333", "Jan Jansen"])
