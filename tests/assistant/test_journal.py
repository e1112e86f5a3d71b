"""AuditJournal: a generated answer leaves a question record before generation and a turn record after, paired
by event id, with only redacted text; a question record that cannot be written stops the turn."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.forensics import assert_not_in_files
from assistant.journal import AuditJournal
from assistant.llm import FakeLLM
from assistant.turn import Actor, Assistant
from baken.settings import Settings
from core.errors import AuditError
from guardrails import FakeRedactor, Vault
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore

BSN, IBAN = "111222333", "NL91ABNA0417164300"
QUESTION = f"Wat kost een parkeervergunning voor BSN {BSN} met IBAN {IBAN}?"


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    settings = AuditSettings(path=tmp_path / "audit" / "audit.sqlite3", key_dir=tmp_path / "keys",
                             durable=False)
    audit_log = AuditLog.open(settings, tmp_path)
    yield audit_log
    audit_log.close()


def _assistant(tmp_path: Path, log: AuditLog, llm: FakeLLM) -> Assistant:
    settings = Settings(data_dir=tmp_path)
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "f",
                  settings.ingestion)
    (tmp_path / "p.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n")
    index.ingest_file(tmp_path / "p.md")
    return Assistant(index, llm, FakeRedactor(), AuditJournal(log), settings, vault_factory=Vault)


def _records(log: AuditLog) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.record_json) for r in reversed(log.search()) if r.record_json]


def test_an_answer_leaves_a_question_record_then_a_turn_record_with_one_event_id(tmp_path: Path,
                                                                                log: AuditLog) -> None:
    assistant = _assistant(tmp_path, log, FakeLLM("Veertig euro [1]."))
    result = assistant.ask(QUESTION, actor=Actor("jan", "medewerker"))
    question, turn = _records(log)
    assert (question["action"], question["outcome"]) == ("conversation.question", "started")
    assert (turn["action"], turn["outcome"]) == ("conversation.turn", "answered")
    assert question["event_id"] == turn["event_id"] == result.event_id and question["seq"] < turn["seq"]
    assert question["conversation_id"] == turn["conversation_id"] and question["actor"] == turn["actor"]
    assert question["gen_ai.request.model"] == "fake-llm" and "baken.model.sha256" in question
    assert [(s["doc_id"], s["chunk_id"], s["score"]) for s in question["baken.sources"]] == [
        (s["doc_id"], s["chunk_id"], s["score"]) for s in turn["baken.sources"]]
    assert all("cited" not in s for s in question["baken.sources"])  # not known before the answer
    assert {r["type"] for r in question["baken.redactions"]} == {"BSN", "IBAN"}
    content = json.loads(log.get(question["seq"]).content_json or "{}")
    assert content == {"question": result.redacted_question} and "[BSN_1]" in content["question"]
    assert log.verify().ok


def test_the_question_record_holds_no_raw_personal_data(tmp_path: Path, log: AuditLog) -> None:
    _assistant(tmp_path, log, FakeLLM("Veertig euro [1].")).ask(QUESTION, actor=Actor("jan.ambtenaar"))
    assert [r["action"] for r in _records(log)] == ["conversation.question", "conversation.turn"]
    assert_not_in_files(tmp_path / "audit", [BSN, IBAN, "0417164300", "jan.ambtenaar"])


def test_a_question_record_that_cannot_be_written_stops_the_turn_before_the_model(tmp_path: Path,
                                                                                  log: AuditLog) -> None:
    llm, streamed = FakeLLM(), []
    assistant = _assistant(tmp_path, log, llm)
    log.store.close()
    with pytest.raises(AuditError):
        assistant.ask(QUESTION, on_token=streamed.append)
    assert llm.prompts == [] and streamed == []


def test_search_and_exports_find_both_records_and_pair_them_by_event_id(tmp_path: Path,
                                                                        log: AuditLog) -> None:
    result = _assistant(tmp_path, log, FakeLLM("Veertig euro [1].")).ask(QUESTION)
    doc_id = result.sources[0].doc_id
    assert [r.action for r in log.search(document=doc_id)] == ["conversation.turn", "conversation.question"]
    assert len(log.search(redaction_type="BSN")) == 2
    assert [r.action for r in log.search(action="conversation.question")] == ["conversation.question"]
    out = io.StringIO()
    assert log.export(out, "csv", document=doc_id) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["event_id"] for r in rows] == [result.event_id] * 2 and rows[0]["answer"] == ""
    out = io.StringIO()
    log.export(out, "jsonl")
    assert out.getvalue().count("conversation.turn") == 1  # the question record is not counted as a turn
