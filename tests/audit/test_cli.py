"""`baken audit ...` through the real entry point, acting as the OS user with the auditor role."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from assistant.audit import AuditLog, AuditSettings

from .conftest import append_turns
from .test_export import verifier


def _fill(tmp_path: Path, count: int = 3) -> None:
    log = AuditLog.open(AuditSettings(), tmp_path)
    append_turns(log, count, conversation_id="conv-1")
    log.close()


def _actions(tmp_path: Path) -> list[str]:
    log = AuditLog.open(AuditSettings(), tmp_path)
    actions = [row.action for row in log.search(limit=1000)]
    log.close()
    return actions


def test_checkpoint_public_key_and_export_round_trip_through_the_standalone_verifier(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    assert cli("checkpoint", "--output", str(tmp_path / "cp.json"))[0] == 0
    assert cli("public-key", "--output", str(tmp_path / "pub.pem"))[0] == 0
    status, out = cli("export", "--format", "jsonl", "--output", str(tmp_path / "audit.jsonl"))
    assert status == 0 and "exported 5 record(s)" in out  # 3 turns, the checkpoint and the export itself
    summary = verifier.verify_export((tmp_path / "audit.jsonl").read_bytes(),
                                     json.loads((tmp_path / "cp.json").read_text()),
                                     (tmp_path / "pub.pem").read_bytes())
    assert summary.startswith("OK: 5 chained records")


def test_export_filters_by_user_id_and_writes_csv(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    status, _ = cli("export", "--format", "csv", "--actor", "alice", "--since", "2000-01-01",
                    "--output", str(tmp_path / "audit.csv"))
    assert status == 0
    assert len((tmp_path / "audit.csv").read_text().splitlines()) == 4  # header and three turns


def test_a_bad_date_is_a_user_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status, out = cli("export", "--since", "yesterday")
    assert status == 2 and "ISO-8601" in out


def test_show_prints_a_record_and_is_logged_as_a_view(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    status, out = cli("show", "2")
    assert status == 0 and json.loads(out)["content"]["answer"] == "Antwoord 1 (bron 1)."
    assert _actions(tmp_path)[0] == "audit.view"
    assert cli("show", "99")[0] == 2


def test_holds_are_added_listed_and_removed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    assert cli("hold", "add", "--conversation", "conv-1", "--reason", "Woo 2026-4")[0] == 0
    assert cli("hold", "add", "--seqs", "2-3", "--reason", "case 9")[0] == 0
    status, out = cli("hold", "list")
    assert status == 0 and "conversation conv-1" in out and "seqs 2-3" in out
    assert cli("hold", "remove", "1")[0] == 0
    assert cli("hold", "remove", "1")[0] == 2
    assert "Woo" not in cli("hold", "list")[1]


def test_purge_reports_what_it_destroys_and_the_log_still_verifies(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    status, out = cli("purge", "--dry-run")
    assert status == 0 and "would destroy the content of 0 record(s)" in out
    status, out = cli("purge")
    assert status == 0 and "purge record: 5" in out  # 4 is the dry run's preview
    assert cli("verify")[0] == 0


def test_every_auditor_command_is_logged_with_the_os_user(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fill(tmp_path)
    cli("verify")
    cli("export", "--output", str(tmp_path / "x.jsonl"))
    log = AuditLog.open(AuditSettings(), tmp_path)
    newest = [json.loads(row.record_json) for row in log.search(limit=2)]
    assert [r["action"] for r in newest] == ["audit.export", "audit.verify"]
    assert {r["actor"] for r in newest} == {log.pseudonym(getpass.getuser())}
    assert {r["role"] for r in newest} == {"auditor"}
    log.close()
