"""One turn: fast tests with fakes at the seams, and the real llama.cpp, Chroma and embedder end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.llm import FakeLLM
from assistant.turn import Actor, Assistant, NoRedaction, NullJournal, TurnResult
from baken.settings import Settings
from baken.wiring import build_assistant, build_index
from core.errors import AuditError, BackendUnavailable, UserError
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore


class RecordingJournal:
    """Keeps every turn, and the order of all events (shared with the LLM and on_token when given)."""

    def __init__(self, events: list[tuple[str, str]] | None = None, fail: str | None = None) -> None:
        self.turns: list[TurnResult] = []
        self.events = events if events is not None else []
        self._fail = fail

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        if self._fail == "question":
            raise AuditError("audit store unavailable")
        self.events.append(("question", result.event_id))

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        if self._fail == "turn":
            raise AuditError("audit store unavailable")
        self.turns.append(result)
        self.events.append(("turn", result.event_id))


class OrderedLLM(FakeLLM):
    """A FakeLLM that notes in ``events`` when it is asked to generate."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        super().__init__("Het kost veertig euro [1].")
        self.events = events

    def stream(self, messages, params):
        self.events.append(("llm", ""))
        yield from super().stream(messages, params)


def fake_assistant(tmp_path: Path, llm: FakeLLM, journal=None) -> Assistant:
    settings = Settings(data_dir=tmp_path)
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "f", settings.ingestion)
    (tmp_path / "p.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n")
    index.ingest_file(tmp_path / "p.md")
    return Assistant(index, llm, NoRedaction(), journal or NullJournal(), settings)


def test_answer_cites_the_retrieved_chunk_and_streams(tmp_path: Path) -> None:
    llm, journal, streamed = FakeLLM("Het kost veertig euro [1]."), RecordingJournal(), []
    result = fake_assistant(tmp_path, llm, journal).ask("Wat kost een parkeervergunning?", on_token=streamed.append)
    assert result.outcome == "answered" and result.answer == "Het kost veertig euro [1]."
    assert "".join(streamed) == result.answer
    assert result.sources[0].cited and result.sources[0].title == "Parkeren"
    assert "veertig euro per jaar" in llm.prompts[0][-1]["content"]
    assert journal.turns == [result]


def test_no_relevant_source_answers_without_calling_the_model(tmp_path: Path) -> None:
    llm, journal = FakeLLM(), RecordingJournal()
    assistant = fake_assistant(tmp_path, llm, journal)
    dutch = assistant.ask("Hoe laat vertrekt de veerboot naar Texel?")
    english = assistant.ask("When does the ferry to Texel leave?")
    assert llm.prompts == []
    assert dutch.outcome == english.outcome == "no_source"
    assert "geen informatie gevonden" in dutch.answer and "could not find" in english.answer
    assert [t.outcome for t in journal.turns] == ["no_source", "no_source"]


def test_the_question_is_on_record_before_the_model_is_called_or_a_token_is_shown(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    journal = RecordingJournal(events)
    result = fake_assistant(tmp_path, OrderedLLM(events), journal).ask(
        "Wat kost een parkeervergunning?", on_token=lambda piece: events.append(("token", piece)))
    kinds = [kind for kind, _ in events]
    assert kinds[:2] == ["question", "llm"] and kinds[-1] == "turn" and kinds.count("question") == 1
    assert set(kinds[2:-1]) == {"token"}
    assert events[0][1] == events[-1][1] == result.event_id  # an auditor pairs the two records by event id


@pytest.mark.parametrize("fail", ["question", "turn"])
def test_a_failing_audit_write_stops_the_turn_with_the_same_error(tmp_path: Path, fail: str) -> None:
    llm, streamed = FakeLLM("Het kost veertig euro [1]."), []
    with pytest.raises(AuditError):
        fake_assistant(tmp_path, llm, RecordingJournal(fail=fail)).ask("Wat kost een parkeervergunning?",
                                                                      on_token=streamed.append)
    if fail == "question":  # nothing generated, nothing shown
        assert llm.prompts == [] and streamed == []


def test_a_failed_question_record_is_followed_by_an_error_turn_record(tmp_path: Path) -> None:
    class QuestionFails(RecordingJournal):
        def record_question(self, result: TurnResult, actor: Actor) -> None:
            raise AuditError("disk full")

    journal = QuestionFails()
    with pytest.raises(AuditError):
        fake_assistant(tmp_path, FakeLLM(), journal).ask("Wat kost een parkeervergunning?")
    assert [(t.outcome, t.error) for t in journal.turns] == [("error", "AuditError")]


def test_no_source_writes_only_the_turn_record_and_shows_the_answer_after_it(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    assistant = fake_assistant(tmp_path, FakeLLM(), RecordingJournal(events))
    result = assistant.ask("Hoe laat vertrekt de veerboot naar Texel?",
                           on_token=lambda piece: events.append(("token", piece)))
    assert events == [("turn", result.event_id), ("token", result.answer)]


def test_no_source_shows_nothing_when_the_turn_record_fails(tmp_path: Path) -> None:
    streamed: list[str] = []
    with pytest.raises(AuditError):
        fake_assistant(tmp_path, FakeLLM(), RecordingJournal(fail="turn")).ask(
            "Hoe laat vertrekt de veerboot naar Texel?", on_token=streamed.append)
    assert streamed == []


def test_history_is_part_of_the_next_prompt(tmp_path: Path) -> None:
    llm = FakeLLM("Veertig euro [1].")
    assistant = fake_assistant(tmp_path, llm)
    conversation = assistant.new_conversation()
    assistant.ask("Wat kost een parkeervergunning?", conversation)
    assistant.ask("En per jaar, die parkeervergunning?", conversation)
    assert [m["role"] for m in llm.prompts[1]] == ["system", "user", "assistant", "user"]


def test_empty_question_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        fake_assistant(tmp_path, FakeLLM()).ask("   ")


def test_failing_model_is_logged_as_an_error_turn(tmp_path: Path) -> None:
    class BrokenLLM(FakeLLM):
        def stream(self, messages, params):
            raise BackendUnavailable("model server down")
            yield ""

    journal = RecordingJournal()
    with pytest.raises(BackendUnavailable):
        fake_assistant(tmp_path, BrokenLLM(), journal).ask("Wat kost een parkeervergunning?")
    assert journal.turns[0].outcome == "error" and journal.turns[0].error == "BackendUnavailable"


@pytest.mark.slow
def test_real_models_answer_the_logging_question_from_the_logging_page(
        small_index_dir: Path, models_dir: Path, embedder, llm) -> None:
    settings = Settings(data_dir=small_index_dir, models_dir=models_dir)
    assistant = build_assistant(settings, index=build_index(settings, embedder=embedder), llm=llm)
    streamed: list[str] = []
    result = assistant.ask("Wat moet er in de logbestanden staan?", on_token=streamed.append)
    assert result.outcome == "answered" and result.answer.strip()
    assert streamed == [result.answer] and result.completion_tokens > 1  # shown once checked
    assert any("4-owk-04-logging" in s.document for s in result.sources)
    assert result.model == "smollm2-135m-instruct" and result.model_sha256
    assert result.prompt_tokens < llm.n_ctx


@pytest.mark.slow
def test_real_pdf_sources_carry_page_numbers(small_index_dir: Path, models_dir: Path, embedder) -> None:
    index = build_index(Settings(data_dir=small_index_dir, models_dir=models_dir), embedder=embedder)
    hits = index.search("generatieve AI compliance vragen AVG", k=10, min_score=0.0)
    pdf_hits = [h for h in hits if h.source.endswith(".pdf")]
    assert pdf_hits and all(h.page and h.page >= 1 for h in pdf_hits)


@pytest.mark.slow
def test_real_llm_streams_and_counts_tokens(llm) -> None:
    from assistant.llm import GenerationParams

    pieces = list(llm.stream([{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=8)))
    assert 1 <= len(pieces) <= 8 and llm.count_tokens("hallo wereld") >= 2


def test_a_looping_model_is_stopped_and_its_repeats_removed(tmp_path: Path) -> None:
    line = "Een parkeervergunning kost veertig euro per jaar [1]."
    llm = FakeLLM(f"{line}\nDat staat in de regeling.\n{line}\n{line}\n{line}")
    result = fake_assistant(tmp_path, llm).ask("Wat kost een parkeervergunning?")
    assert result.generated == f"{line}\nDat staat in de regeling."
    assert result.answer == line  # the unsupported second sentence is not shown (auto mode)
    assert result.completion_tokens < len(llm.answer.split(" "))  # generation stopped early


def test_evidence_is_shown_after_the_question_record_and_before_the_model(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    result = fake_assistant(tmp_path, OrderedLLM(events), RecordingJournal(events)).ask(
        "Wat kost een parkeervergunning?", on_evidence=lambda r: events.append(("evidence", r.evidence[0].text)),
        on_token=lambda piece: events.append(("token", piece)))
    assert [kind for kind, _ in events] == ["question", "evidence", "llm", "token", "turn"]
    assert events[1][1] == "Een parkeervergunning kost veertig euro per jaar."
    assert result.evidence_records()[0]["title"] == "Parkeren" and result.evidence[0].start >= 0


@pytest.mark.parametrize(("mode", "answer", "llm_called"), [
    ("extractive", "“Een parkeervergunning kost veertig euro per jaar.” [1]", False),
    ("generative", "Het kost veertig euro [1]. Het loket is op zondag open. (niet onderbouwd door de documenten)",
     True),
    ("auto", "Het kost veertig euro [1].", True),
])
def test_the_answer_mode_decides_what_is_shown(tmp_path: Path, mode: str, answer: str, llm_called: bool) -> None:
    llm = FakeLLM("Het kost veertig euro [1]. Het loket is op zondag open.")
    assistant = fake_assistant(tmp_path, llm)
    assistant._settings = assistant._settings.model_copy(
        update={"answer": assistant._settings.answer.model_copy(update={"mode": mode})})
    result = assistant.ask("Wat kost een parkeervergunning?")
    assert result.answer == answer and bool(llm.prompts) is llm_called and result.mode == mode
    assert result.sources[0].cited


def test_auto_mode_withholds_an_answer_the_documents_do_not_support(tmp_path: Path) -> None:
    result = fake_assistant(tmp_path, FakeLLM("Een vergunning kost 75 euro [1]. Het loket is op zondag open.")).ask(
        "Wat kost een parkeervergunning?")
    assert result.withheld and "weggelaten" in result.answer
    assert [s.status for s in result.sentences] == ["withheld", "withheld"]
    assert result.sentences[0].check.reason == "number"
    assert result.evidence and result.supported  # the evidence still answers, with its citation


def test_an_unrelated_second_question_is_retrieved_alone_and_sent_without_history(tmp_path: Path) -> None:
    llm = FakeLLM("Het kost veertig euro [1].")
    assistant = fake_assistant(tmp_path, llm)
    conversation = assistant.new_conversation()
    assistant.ask("Wat kost een parkeervergunning?", conversation)
    second = assistant.ask("Hoeveel kost een parkeervergunning voor een bedrijf?", conversation)
    assert not second.follow_up and second.query == second.redacted_question
    assert [m["role"] for m in llm.prompts[1]] == ["system", "user"]


def test_the_turn_record_says_what_was_shown_withheld_or_marked(tmp_path: Path) -> None:
    from assistant.journal import turn_record

    assistant = fake_assistant(tmp_path, FakeLLM("Het kost veertig euro [7]. Het loket is op zondag open."))
    record, content = turn_record(assistant.ask("Wat kost een parkeervergunning?"))
    assert record["baken.answer_mode"] == "auto" and record["baken.withheld"] is False
    assert [s["status"] for s in record["baken.sentences"]] == ["shown", "removed"]
    assert record["baken.sentences"][0]["model_cited"] == [7] and record["baken.invalid_citations"] == [7]
    assert record["baken.evidence"][0]["n"] == 1
    assert content["evidence"] == ["Een parkeervergunning kost veertig euro per jaar."]
    assert content["sentences"][1] == "Het loket is op zondag open."


@pytest.mark.parametrize("question", [
    "de het een van en?", "12345", "Wat kost een parkeervergunning? " * 125,
    "What does a parkeervergunning cost per jaar, please?",
])
def test_odd_questions_get_a_clear_result(tmp_path: Path, question: str) -> None:
    result = fake_assistant(tmp_path, FakeLLM("Het kost veertig euro [1].")).ask(question[:4000])
    assert result.outcome in ("answered", "no_source") and result.answer


@pytest.mark.parametrize("body", [
    "| Vergunning | Prijs |\n|---|---|\n| Parkeervergunning | veertig euro per jaar |\n| Tweede auto | 80 euro |\n",
    "\n".join(f"- parkeervergunning zone {n}: {n * 10} euro per jaar" for n in range(1, 60)),
    "parkeervergunning kost veertig euro per jaar " * 150,
])
def test_tables_long_lists_and_text_without_boundaries_give_evidence_and_no_unsupported_number(
        tmp_path: Path, body: str) -> None:
    settings = Settings(data_dir=tmp_path)
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "f", settings.ingestion)
    (tmp_path / "p.md").write_text(f"# Parkeren\n\n{body}\n")
    index.ingest_file(tmp_path / "p.md")
    assistant = Assistant(index, FakeLLM("Een parkeervergunning kost 7,25 euro per jaar [1]."), NoRedaction(),
                          NullJournal(), settings)
    result = assistant.ask("Wat kost een parkeervergunning per jaar?")
    assert result.outcome == "answered" and result.evidence
    assert all(len(e.text) <= 600 for e in result.evidence)
    assert "7,25" not in result.answer and result.sentences[0].check.reason == "number"
