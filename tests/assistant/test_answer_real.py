"""Evidence first and every sentence checked, with the real parts: llama.cpp with SmolLM2, MiniLM, Chroma,
BM25, Presidio, and the audit log, over the demo corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.check import Checker
from assistant.terms import Terms
from assistant.turn import Actor
from baken.settings import Settings
from baken.wiring import build_assistant, build_audit, build_index
from ingestion.lexical import Tokenizer

pytestmark = pytest.mark.slow
QUESTION = "Hoeveel dagen per week mag ik thuiswerken?"


class WatchedLLM:
    """The real model, noting when it is asked to generate (to check that evidence came first)."""

    def __init__(self, llm, events: list[str]) -> None:
        self._llm, self._events = llm, events
        self.name, self.sha256, self.n_ctx = llm.name, llm.sha256, llm.n_ctx

    def stream(self, messages, params):
        self._events.append("model")
        yield from self._llm.stream(messages, params)

    def count_tokens(self, text: str) -> int:
        return self._llm.count_tokens(text)

    @property
    def waiting(self) -> int:
        return self._llm.waiting

    def check(self) -> str:
        return self._llm.check()


def _settings(data_dir: Path, models_dir: Path, mode: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=data_dir, models_dir=models_dir, answer={"mode": mode},
                    audit={"path": tmp_path / "audit.sqlite3", "key_dir": tmp_path / "keys", "durable": False})


@pytest.fixture
def assistant_for(demo_index_dir: Path, models_dir: Path, embedder, llm, redactor, tmp_path: Path):
    def make(mode: str, events: list[str] | None = None):
        settings = _settings(demo_index_dir, models_dir, mode, tmp_path)
        audit = build_audit(settings)
        model = WatchedLLM(llm, events if events is not None else [])
        assistant = build_assistant(settings, index=build_index(settings, embedder=embedder), llm=model,
                                    redactor=redactor, audit=audit)
        return assistant, audit
    return make


def test_the_policy_sentence_is_shown_before_the_model_starts(assistant_for) -> None:
    events: list[str] = []
    assistant, _ = assistant_for("auto", events)
    result = assistant.ask(QUESTION, on_evidence=lambda r: events.append("evidence:" + r.evidence[0].text))
    assert events[0].startswith("evidence:") and events[1] == "model"
    assert "maximaal 3 dagen per week thuis" in result.evidence[0].text
    source = next(s for s in result.sources if s.n == result.evidence[0].n)
    assert source.text[result.evidence[0].start:result.evidence[0].end] == result.evidence[0].text
    assert source.cited and "thuiswerkbeleid" in source.document
    assert result.timings_ms["evidence_shown"] < result.timings_ms["first_token"]


@pytest.mark.parametrize("mode", ["extractive", "generative", "auto"])
def test_every_mode_shows_evidence_and_never_an_unsupported_sentence_as_fact(assistant_for, mode: str) -> None:
    events: list[str] = []
    assistant, _ = assistant_for(mode, events)
    result = assistant.ask(QUESTION)
    assert result.outcome == "answered" and result.evidence
    assert ("model" in events) is (mode != "extractive")
    for sentence in result.sentences:
        if not sentence.check.supported:
            assert sentence.status in ({"marked"} if mode == "generative" else {"removed", "withheld"})
            if sentence.status == "marked":
                assert f"{sentence.text} (niet onderbouwd" in result.answer
            else:
                assert sentence.text not in result.answer
    if mode == "extractive":
        assert result.completion_tokens == 0 and "maximaal 3 dagen per week" in result.answer
    if mode == "auto" and result.withheld:
        assert "weggelaten" in result.answer


def test_the_check_catches_a_wrong_number_an_invented_citation_and_an_unsupported_sentence(
        demo_index_dir: Path, models_dir: Path, embedder) -> None:
    index = build_index(Settings(data_dir=demo_index_dir, models_dir=models_dir), embedder=embedder)
    sources = [(n, h.text, f"{h.title}\n{h.heading}") for n, h in enumerate(index.retrieve(QUESTION, 4).hits, 1)]
    checker = Checker(Terms(Tokenizer().stems, index.word_weights), embedder.embed_passages)
    right, wrong, invented, unsupported = checker.check(
        "Bij een voltijds dienstverband werk je maximaal 3 dagen per week thuis. "
        "Bij een voltijds dienstverband werk je maximaal 5 dagen per week thuis. "
        "Je werkt minimaal 2 dagen per week op kantoor [7]. "
        "De gemeente betaalt elke medewerker een elektrische fiets.", sources)
    assert right.supported and "maximaal 3 dagen" in sources[right.source - 1][1]
    assert not wrong.supported  # 5 occurs elsewhere in the sources, so its words give it away here
    assert invented.supported and invented.source != 7 and invented.model_cited == (7,)
    assert not unsupported.supported


@pytest.mark.parametrize("question", [
    "Wie is de wethouder van financiën?",  # the documents name the college of burgemeester en wethouders
    "Welke kledingvoorschriften gelden er voor baliemedewerkers?",  # they name baliemedewerkers
    "Hoe hoog is de reiskostenvergoeding voor woon-werkverkeer met het openbaar vervoer?",  # none on a thuiswerkdag
    "Hoeveel kost een extern beeldscherm van de gemeente?",  # "24 inch" is a number, not a price
    "Hoe laat gaat de receptie van het gemeentehuis dicht?",  # the receptie is named, no clock time
    "Hoe heet de gemeentearchivaris?",  # named beside the gemeentesecretaris, with no name of their own
])
def test_a_question_near_a_topic_the_documents_do_not_answer_is_refused(assistant_for, question: str) -> None:
    assistant, _ = assistant_for("extractive")
    result = assistant.ask(question)
    assert result.outcome == "no_source" and result.evidence == [] and result.signals["topical"] == 0.0


def test_the_evidence_veto_keeps_answerable_questions(assistant_for) -> None:
    assistant, _ = assistant_for("extractive")
    for question in (QUESTION, "Hoe lang wordt firewalllogging bewaard?",
                     "Wie beslist over een klacht over een afdelingshoofd?",
                     "Binnen hoeveel werkdagen krijgt een klager een ontvangstbevestiging?",
                     "Vanaf hoe laat hoef ik 's avonds geen werkberichten meer te lezen?",  # a clock time: 18.00
                     "Wie stelt de vernietigingslijst vast?", "Hoe hoog is de thuiswerkvergoeding per dag?"):
        result = assistant.ask(question)
        assert result.outcome == "answered" and result.signals["topical"] == 1.0, question


def test_a_follow_up_is_retrieved_with_its_question_and_an_unrelated_one_alone(assistant_for) -> None:
    assistant, _ = assistant_for("extractive")
    conversation = assistant.new_conversation()
    assistant.ask(QUESTION, conversation)
    follow_up = assistant.ask("en bij een deeltijdaanstelling?", conversation)
    assert follow_up.follow_up and "thuiswerken" in follow_up.query
    assert any("deeltijdaanstelling" in e.text for e in follow_up.evidence)
    unrelated = assistant.ask("Hoe lang wordt firewalllogging bewaard?", conversation)
    assert not unrelated.follow_up and unrelated.outcome == "answered"  # no false refusal on a compound
    assert "firewalllogging: 6 maanden" in unrelated.evidence[0].text


def test_the_audit_record_holds_the_evidence_and_what_became_of_each_sentence(assistant_for) -> None:
    assistant, audit = assistant_for("generative")
    result = assistant.ask(QUESTION, actor=Actor("jan", "medewerker"))
    [stored] = [r for r in audit.search(action="conversation.turn")
                if json.loads(r.record_json)["event_id"] == result.event_id]
    record, content = json.loads(stored.record_json), json.loads(stored.content_json)
    assert record["baken.answer_mode"] == "generative"
    assert [e["n"] for e in record["baken.evidence"]] == [e.n for e in result.evidence]
    assert [s["status"] for s in record["baken.sentences"]] == [s.status for s in result.sentences]
    assert set(record["baken.relevance"]) == {"cosine", "coverage", "evidence", "topical"}
    assert content["evidence"][0] == result.evidence[0].redacted and content["generated"] == result.generated
