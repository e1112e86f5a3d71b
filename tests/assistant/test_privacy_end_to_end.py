"""Personal data through the whole turn: never in the prompt, restored for the asker, never in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audit.forensics import assert_not_in_files
from assistant.llm import FakeLLM
from assistant.turn import Actor
from baken.settings import Settings
from baken.wiring import build_assistant, build_audit
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore

BSN, IBAN, PHONE, NAME = "111222333", "NL91ABNA0417164300", "06-12345678", "Jan de Vries"
VALUES = [BSN, IBAN, PHONE, NAME, "Vries", "NL91 ABNA", "0417164300", "12345678"]


class EchoingLLM(FakeLLM):
    """Answers with every placeholder it was given, so restoring can be checked."""

    def stream(self, messages, params):
        import re

        self.prompts.append(list(messages))
        placeholders = re.findall(r"\[[A-Z]+_\d+\]", messages[-1]["content"].rsplit("Vraag:", 1)[-1])
        yield f"Brief aan {' '.join(placeholders)} [1]."


@pytest.fixture
def assistant_with_audit(tmp_path: Path, models_dir: Path, redactor):
    # Generative mode shows the echoed placeholders (marked as unsupported), so their restoring can be checked.
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, answer={"mode": "generative"})
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "files",
                  settings.ingestion)
    (tmp_path / "brief.md").write_text("# Brieven\n\nEen brief aan een inwoner over de uitkering vermeldt het"
                                       " BSN niet. Dossier van Piet Jansen, telefoon 0612345679.\n")
    index.ingest_file(tmp_path / "brief.md")
    llm = EchoingLLM()
    audit = build_audit(settings)
    return build_assistant(settings, index=index, llm=llm, redactor=redactor, audit=audit), llm, audit, settings


def test_personal_data_never_reaches_the_model_and_is_restored_for_the_asker(assistant_with_audit) -> None:
    assistant, llm, audit, settings = assistant_with_audit
    question = (f"Schrijf een brief aan {NAME}, BSN {BSN}, IBAN {IBAN}, telefoon {PHONE}, over de uitkering"
                " en de brief aan een inwoner.")
    result = assistant.ask(question, actor=Actor("jan.ambtenaar", "medewerker"))

    prompt = "\n".join(m["content"] for m in llm.prompts[0])
    for value in [*VALUES, "Piet Jansen", "0612345679"]:
        assert value not in prompt, value
    assert "[BSN_1]" in prompt and "[IBAN_1]" in prompt and "[TELEFOON_1]" in prompt and "[PERSOON_1]" in prompt
    for value in (BSN, IBAN, PHONE, NAME):
        assert value in result.answer
    assert BSN not in result.redacted_answer and {f.type for f in result.findings} >= {"BSN", "IBAN", "TELEFOON",
                                                                                         "PERSOON"}

    records = {r.action: r for r in audit.search(conversation_id=result.conversation_id)}
    assert set(records) == {"conversation.question", "conversation.turn"}  # both in the bytes searched below
    assert "[BSN_1]" in (records["conversation.question"].content_json or "")
    assert audit.verify().ok
    audit.close()
    assert_not_in_files(settings.data_dir / "audit", [v.encode() for v in [*VALUES, "jan.ambtenaar"]])


def test_follow_up_uses_the_same_placeholder_for_the_same_person(assistant_with_audit) -> None:
    assistant, llm, _, _ = assistant_with_audit
    conversation = assistant.new_conversation()
    assistant.ask(f"Een brief aan {NAME} over de uitkering.", conversation)
    assistant.ask(f"En nog een brief aan {NAME}, BSN {BSN}, over de uitkering.", conversation)
    second = llm.prompts[1][-1]["content"]
    assert "[PERSOON_1]" in second and NAME not in second and BSN not in second


def test_audit_write_failure_stops_the_turn(assistant_with_audit) -> None:
    from core.errors import AuditError

    assistant, llm, audit, _ = assistant_with_audit
    audit.close()
    streamed: list[str] = []
    with pytest.raises(AuditError):
        assistant.ask("Een brief over de uitkering aan een inwoner.", on_token=streamed.append)
    assert llm.prompts == [] and streamed == []  # the question record failed: nothing generated or shown


LOWER_QUESTION = ("schrijf een brief aan jan de vries, bsn 111222333, iban nl91 abna 0417 1643 00, telefoon "
                  "06-12345678, over de uitkering en de brief aan een inwoner. hij woont op kerkstraat 12, 1234 ab "
                  "utrecht")
TYPED_VALUES = ["jan de vries", "vries", "111222333", "nl91 abna", "0417 1643", "06-12345678", "kerkstraat 12",
                "1234 ab"]


@pytest.mark.parametrize("question", [LOWER_QUESTION, LOWER_QUESTION.upper(),
                                      ("ik ben jan de vries en woon op kerkstraat 12 in hilversum. iban: nl91 abna "
                                       "0417 1643 00, bsn 111222333, bel 06-12345678. wat staat er in de brief aan "
                                       "een inwoner over de uitkering")],
                         ids=["lower case", "capitals", "chat"])
def test_personal_data_typed_in_any_case_never_reaches_the_model_or_the_log(assistant_with_audit, question
                                                                            ) -> None:
    assistant, llm, audit, settings = assistant_with_audit
    result = assistant.ask(question, actor=Actor("jan.ambtenaar", "medewerker"))

    prompt = "\n".join(m["content"] for m in llm.prompts[0]).lower()
    present = [v for v in TYPED_VALUES if v in question.lower()]
    for value in present:
        assert value not in prompt, value
    assert "[bsn_1]" in prompt and "[iban_1]" in prompt and "[persoon_1]" in prompt
    for value in ("111222333", "06-12345678"):
        assert value in result.answer  # restored for the asker

    audit.close()
    needles = [v.encode() for v in present] + [v.upper().encode() for v in present] + [
        v.title().encode() for v in present] + [b"jan.ambtenaar"]
    assert_not_in_files(settings.data_dir / "audit", needles)


@pytest.mark.parametrize("question", [LOWER_QUESTION, LOWER_QUESTION.upper()], ids=["lower case", "capitals"])
def test_baken_redact_shows_what_the_chat_sends(assistant_with_audit, redactor, monkeypatch, capsys, question):
    """`baken redact` and a chat question go through the same redactor in the same (typed) setting."""
    import argparse
    import io
    from types import SimpleNamespace

    import baken.cli.redact as command

    assistant, _, _, settings = assistant_with_audit
    chat = assistant.ask(question, actor=Actor("jan.ambtenaar", "medewerker")).redacted_question
    monkeypatch.setattr(command, "Redactor", lambda pii, directory: redactor)
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(question.encode())))
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["redact"])
    assert args.handler(args, settings) == 0
    assert capsys.readouterr().out == chat + "\n"
