"""The checked answer as the model writes it: generative mode shows each sentence once it is checked, and the
text shown while streaming is the answer the turn records; auto mode waits for the whole answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.check import CheckedSentence
from assistant.llm import FakeLLM
from assistant.release import SentenceRelease
from assistant.turn import Assistant, NoRedaction, NullJournal
from baken.settings import Settings
from core.errors import BackendUnavailable
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore

SOURCE = "# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar. De vergunning geldt in de hele binnenstad.\n"
ANSWER = ("Een parkeervergunning kost veertig euro per jaar [1]. De vergunning geldt in de hele binnenstad [1]. "
          "Op de maan parkeert iedereen altijd gratis.")


class NotingLLM(FakeLLM):
    """A FakeLLM that notes each piece it yields in ``events`` (and fails after ``fail_after`` pieces)."""

    def __init__(self, events: list[tuple[str, str]], fail_after: int | None = None) -> None:
        super().__init__(ANSWER)
        self.events = events
        self.fail_after = fail_after

    def stream(self, messages, params):
        for n, piece in enumerate(super().stream(messages, params)):
            if n == self.fail_after:
                raise BackendUnavailable("the model server went away")
            self.events.append(("piece", piece))
            yield piece


class KeptJournal(NullJournal):
    """Keeps the turn records."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str, str]] = []

    def record_turn(self, result, actor) -> None:
        self.turns.append((result.outcome, result.answer, result.redacted_answer))


def _assistant(tmp_path: Path, mode: str, events: list[tuple[str, str]], llm: FakeLLM | None = None,
               journal: NullJournal | None = None) -> Assistant:
    settings = Settings(data_dir=tmp_path, answer={"mode": mode})
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "f", settings.ingestion)
    (tmp_path / "p.md").write_text(SOURCE, encoding="utf-8")
    index.ingest_file(tmp_path / "p.md")
    return Assistant(index, llm or NotingLLM(events), NoRedaction(), journal or NullJournal(), settings)


def test_generative_mode_shows_each_checked_sentence_while_the_model_still_writes(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    assistant = _assistant(tmp_path, "generative", events)
    result = assistant.ask("Wat kost een parkeervergunning?", on_token=lambda text: events.append(("shown", text)))
    shown = [text for kind, text in events if kind == "shown"]
    last_piece = max(i for i, (kind, _) in enumerate(events) if kind == "piece")
    first_shown = min(i for i, (kind, _) in enumerate(events) if kind == "shown")
    assert first_shown < last_piece and len(shown) == 3  # two sentences while writing, the rest at the end
    assert shown[0].startswith("Een parkeervergunning kost veertig euro per jaar [1]")
    assert "".join(shown) == result.answer
    assert [s.status for s in result.sentences] == ["shown", "shown", "marked"]
    unstreamed = assistant.ask("Wat kost een parkeervergunning?")  # no on_token: checked whole, as before
    assert unstreamed.answer == result.answer
    assert [s.record() for s in unstreamed.sentences] == [s.record() for s in result.sentences]


def test_a_model_that_fails_after_a_shown_sentence_leaves_that_sentence_in_the_turn_record(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    journal = KeptJournal()
    assistant = _assistant(tmp_path, "generative", events, NotingLLM(events, fail_after=12), journal)
    with pytest.raises(BackendUnavailable):
        assistant.ask("Wat kost een parkeervergunning?", on_token=lambda text: events.append(("shown", text)))
    shown = "".join(text for kind, text in events if kind == "shown")
    assert shown.startswith("Een parkeervergunning kost veertig euro per jaar [1]")
    assert journal.turns == [("error", shown, shown)]


def test_auto_mode_waits_for_the_whole_answer(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    result = _assistant(tmp_path, "auto", events).ask("Wat kost een parkeervergunning?",
                                                      on_token=lambda text: events.append(("shown", text)))
    assert [kind for kind, _ in events][-1] == "shown" and [k for k, _ in events].count("shown") == 1
    assert events[-1][1] == result.answer


def test_the_release_stops_at_the_first_sentence_that_fails_and_leaves_out_a_repeat() -> None:
    def words(text: str) -> list[CheckedSentence]:
        body = text.strip()
        return [CheckedSentence(body, "fout" not in body, 1, "supported", 1.0)] if body else []

    release = SentenceRelease(words)
    said = [c.text for piece in ("Dit is de eerste zin. ", "Dit is de eerste zin. ", "Een fout ", "zin. ",
                                 "Dit is de laatste zin. ", "Nog een.")
            for c in release.feed(piece)]
    assert said == ["Dit is de eerste zin."]  # the repeat is left out; the release ends at the failing one
    assert release.start == len("Dit is de eerste zin. Dit is de eerste zin. ")
