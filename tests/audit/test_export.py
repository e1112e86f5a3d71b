"""Exports: the JSONL round trip through the standalone verifier, one-byte edits failing it, filters, CSV."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from assistant.audit import AuditLog

from .conftest import append_turns

ROOT = Path(__file__).resolve().parents[2]
VERIFIER_PATH = ROOT / "tools" / "verify_audit_export.py"


def _load_verifier():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("verify_audit_export", VERIFIER_PATH)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


verifier = _load_verifier()


def _export(log: AuditLog, **filters) -> bytes:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    log.export(out, "jsonl", **filters)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def exported(log: AuditLog):  # type: ignore[no-untyped-def]
    """(export bytes, checkpoint dict, public key PEM) of a small log with one purged record."""
    append_turns(log, 3)
    checkpoint = log.checkpoint().to_dict()
    return _export(log), checkpoint, log.public_key_pem()


def test_an_export_verifies_with_the_standalone_verifier(exported) -> None:  # type: ignore[no-untyped-def]
    summary = verifier.verify_export(*exported)
    assert summary.startswith("OK: 3 chained records (3 with data)")


def test_every_one_byte_edit_of_an_export_fails_the_standalone_verifier(exported) -> None:  # type: ignore[no-untyped-def]
    data, checkpoint, public_pem = exported
    passed = []
    for index in range(len(data)):
        edited = data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]
        try:
            verifier.verify_export(edited, checkpoint, public_pem)
            passed.append(index)
        except verifier.Invalid:
            pass
    assert passed == []


@pytest.mark.parametrize("edit", [
    lambda d: d.replace(b'"seq":2,', b'"seq": 2,', 1),  # harmless-looking whitespace
    lambda d: b"\n".join(d.split(b"\n")[:2]) + b"\n",  # the last record cut off
    lambda d: b"\n".join([d.split(b"\n")[1], d.split(b"\n")[0], *d.split(b"\n")[2:]]),  # reordered
    lambda d: d[:-1],  # final newline removed
])
def test_structural_edits_of_an_export_fail_the_standalone_verifier(exported, edit) -> None:  # type: ignore[no-untyped-def]
    data, checkpoint, public_pem = exported
    with pytest.raises(verifier.Invalid):
        verifier.verify_export(edit(data), checkpoint, public_pem)


def test_a_checkpoint_signed_by_another_key_fails_the_standalone_verifier(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.audit import AuditSettings

    other = AuditLog.open(AuditSettings(path=tmp_path / "o.sqlite3", key_dir=tmp_path / "other-keys"), tmp_path)
    data, checkpoint, _ = exported
    with pytest.raises(verifier.Invalid, match="signature"):
        verifier.verify_export(data, checkpoint, other.public_key_pem())
    other.close()


def test_a_filtered_export_carries_stubs_and_still_verifies(log: AuditLog) -> None:
    append_turns(log, 2, actor="alice", doc_id="doc-a")
    append_turns(log, 2, actor="bob", doc_id="doc-b")
    checkpoint = log.checkpoint().to_dict()
    data = _export(log, actor=log.pseudonym("bob"))
    lines = [json.loads(line) for line in data.splitlines()]
    assert ["record" in line for line in lines] == [False, False, True, True]
    assert b"doc-a" not in data
    assert "2 with data" in verifier.verify_export(data, checkpoint, log.public_key_pem())
    by_document = _export(log, document="doc-a", since="2000-01-01T00:00")
    assert "2 with data" in verifier.verify_export(by_document, checkpoint, log.public_key_pem())


def test_an_export_after_a_purge_still_verifies(log: AuditLog) -> None:
    from datetime import datetime, timedelta

    append_turns(log, 4)
    log.purge(datetime.now(UTC) + timedelta(days=3000))
    checkpoint = log.checkpoint().to_dict()
    data = _export(log)
    assert b"content" not in data.split(b"\n")[0]
    assert verifier.verify_export(data, checkpoint, log.public_key_pem()).startswith("OK: 5 chained records")


def test_the_verifier_command_exits_zero_then_one_after_an_edit(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, checkpoint, public_pem = exported
    (tmp_path / "audit.jsonl").write_bytes(data)
    (tmp_path / "checkpoint.json").write_text(json.dumps(checkpoint))
    (tmp_path / "public.pem").write_bytes(public_pem)
    command = [sys.executable, str(VERIFIER_PATH), str(tmp_path / "audit.jsonl"), "--checkpoint",
               str(tmp_path / "checkpoint.json"), "--public-key", str(tmp_path / "public.pem")]
    assert subprocess.run(command, capture_output=True, cwd=tmp_path, check=False).returncode == 0
    (tmp_path / "audit.jsonl").write_bytes(data.replace(b"Antwoord 1", b"Antwoord 7"))
    failed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "line 2 (seq 2)" in failed.stderr and "content" in failed.stderr


def test_the_verifier_imports_nothing_of_baken() -> None:
    source = VERIFIER_PATH.read_text()
    imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                if line.startswith(("import ", "from "))}
    assert imported <= {"__future__", "argparse", "hashlib", "json", "re", "sys", "pathlib", "cryptography"}


def test_a_csv_export_is_flat_and_for_people(log: AuditLog) -> None:
    log.append("conversation.turn", actor="a", role="user", record={}, content={"question": "=SUM(A1)"},
               conversation_id="c", outcome="answered")
    out = io.StringIO()
    assert log.export(out, "csv") == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["question"] == "'=SUM(A1)" and rows[0]["outcome"] == "answered"
