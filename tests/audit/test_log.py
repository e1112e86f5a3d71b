"""AuditLog: what a record holds, when writing fails, checkpoints, searching, and the log logging its readers."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from core.errors import AuditError, NotFound

from .conftest import append_turns, turn_content, turn_record


def _record(log: AuditLog, seq: int) -> dict:  # type: ignore[type-arg]
    row = log.get(seq)
    assert row.record_json is not None
    return json.loads(row.record_json)


def test_a_turn_record_gets_seq_time_actor_pseudonym_and_the_callers_fields(log: AuditLog) -> None:
    seq = log.append("conversation.turn", actor="alice@gemeente.nl", role="user", record=turn_record(),
                     content=turn_content(), conversation_id="conv-9", outcome="answered")
    record = _record(log, seq)
    assert seq == 1 and record["seq"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"])
    assert record["actor"] == log.pseudonym("alice@gemeente.nl") != "alice@gemeente.nl"
    assert (record["role"], record["conversation_id"], record["action"], record["outcome"]) == (
        "user", "conv-9", "conversation.turn", "answered")
    assert record["gen_ai.request.model"] == "smollm2-135m-instruct" and record["event_id"]
    assert len(record["content_commitment"]) == 64 and "question" not in record


def test_the_callers_event_id_is_kept(log: AuditLog) -> None:
    seq = log.append("auth.login", actor="a", role="user", record={"event_id": "e-1"}, outcome="ok")
    assert _record(log, seq)["event_id"] == "e-1"


def test_the_raw_user_id_is_never_stored(log: AuditLog) -> None:
    append_turns(log, 2, actor="jan.jansen@gemeente.nl")
    assert b"jan.jansen" not in log.store.path.read_bytes() + Path(f"{log.store.path}-wal").read_bytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("record", [
    {"seq": 5}, {"actor": "someone"}, {"value": float("nan")}, {"value": object()},
])
def test_a_record_that_cannot_be_written_raises_an_audit_error_and_uses_no_seq(log: AuditLog, record) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuditError):
        log.append("conversation.turn", actor="a", role="user", record=record)
    assert log.append("conversation.turn", actor="a", role="user", record={}) == 1


def test_a_failing_store_raises_an_audit_error(log: AuditLog) -> None:
    log.store.close()
    with pytest.raises(AuditError):
        append_turns(log, 1)


def test_an_unwritable_database_location_raises_an_audit_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(AuditError):
        AuditLog.open(AuditSettings(path=tmp_path / "file" / "audit.sqlite3"), tmp_path)


def test_a_checkpoint_is_signed_for_the_first_record_and_every_n(log: AuditLog) -> None:
    append_turns(log, 11)
    assert [cp.seq for cp in log.store.checkpoints()] == [1, 5, 10]  # the first ties the log to its key
    assert log.checkpoint().seq == 11


def test_event_helpers_log_feedback_documents_and_logins(log: AuditLog) -> None:
    log.append_feedback(actor="a", role="user", conversation_id="c", turn_seq=1, rating="down", comment="te vaag")
    log.append_document_event("document.upload", actor="b", role="editor", doc_id="d", sha256="ff" * 32)
    log.append_auth_event("auth.login_failed", actor="c", role="anonymous", outcome="bad_password",
                          origin="10.0.0.7")
    assert [r.action for r in log.search()] == ["auth.login_failed", "document.upload", "feedback.given"]
    assert log.search(document="d")[0].action == "document.upload"
    assert log.verify().ok


@pytest.mark.parametrize(("call", "action"), [
    (lambda log: log.search(actor="x", auditor="aud"), "audit.search"),
    (lambda log: log.get(1, auditor="aud"), "audit.view"),
    (lambda log: log.export(io.StringIO(), "csv", auditor="aud"), "audit.export"),
    (lambda log: log.verify(auditor="aud"), "audit.verify"),
])
def test_the_log_logs_its_readers(log: AuditLog, call, action: str) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 1)
    call(log)
    last = _record(log, 2)
    assert last["action"] == action and last["actor"] == log.pseudonym("aud") and last["role"] == "auditor"


def test_viewing_a_missing_record_is_not_found_and_still_logged(log: AuditLog) -> None:
    with pytest.raises(NotFound):
        log.get(42, auditor="aud")
    assert _record(log, 1)["outcome"] == "not_found"


def test_search_filters_by_actor_pseudonym_date_and_document(log: AuditLog) -> None:
    append_turns(log, 2, actor="alice", doc_id="doc-a")
    append_turns(log, 3, actor="bob", doc_id="doc-b")
    assert len(log.search(actor=log.pseudonym("bob"))) == 3
    assert len(log.search(document="doc-a")) == 2
    assert len(log.search(since="2000-01-01", until="2999-01-01", redaction_type="BSN")) == 5
    assert log.search(until="2000-01-01") == []


def test_threads_appending_at_once_keep_one_gap_free_chain(settings: AuditSettings, tmp_path: Path) -> None:
    logs = [AuditLog.open(settings, tmp_path) for _ in range(4)]  # one connection each, as processes would
    errors: list[BaseException] = []

    def work(log: AuditLog) -> None:
        try:
            append_turns(log, 25)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = logs[0].verify()
    assert result.ok and result.records == 100
    for log in logs:
        log.close()
