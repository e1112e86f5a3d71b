"""One contract for every Journal: the audit journal (alone and metered) and the null journal take the
question before the model and the turn after it, for answered and no-source turns; the audit journal fails
closed when its store is down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.journal import AuditJournal
from assistant.llm import FakeLLM
from assistant.metrics import MeteredJournal, Metrics
from assistant.turn import Actor, Assistant, Journal, NullJournal, TurnResult
from baken.settings import Settings
from core.errors import BakenError
from guardrails import FakeRedactor, Vault
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore


class Spy:
    """A journal in front of another that notes what reached it (to see the order of the two records)."""

    def __init__(self, inner: Journal) -> None:
        self.inner, self.calls = inner, []  # type: list[tuple[str, str]]

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        self.inner.record_question(result, actor)
        self.calls.append(("question", result.event_id))

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        self.inner.record_turn(result, actor)
        self.calls.append(("turn", result.event_id))


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog.open(AuditSettings(path=tmp_path / "audit.sqlite3", key_dir=tmp_path / "keys", durable=False),
                        tmp_path)
    yield log
    log.close()


@pytest.fixture(params=["null", "audit", "metered"])
def journal(request: pytest.FixtureRequest, audit: AuditLog) -> Journal:
    """Every journal: the fake, the real one and the real one metered."""
    return {"null": NullJournal, "audit": lambda: AuditJournal(audit),
            "metered": lambda: MeteredJournal(AuditJournal(audit), Metrics())}[request.param]()


def _assistant(tmp_path: Path, journal: Journal) -> Assistant:
    settings = Settings(data_dir=tmp_path)
    index = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "r.sqlite3"), tmp_path / "f", settings.ingestion)
    (tmp_path / "p.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n")
    index.ingest_file(tmp_path / "p.md")
    return Assistant(index, FakeLLM("Veertig euro [1]."), FakeRedactor(), journal, settings, vault_factory=Vault)


@pytest.mark.parametrize(("question", "records"), [
    ("Wat kost een parkeervergunning?", ["question", "turn"]),
    ("Hoe laat vertrekt de veerboot naar Texel?", ["turn"]),  # no source: the model is never asked
])
def test_a_turn_is_recorded_question_first_and_once_each(tmp_path: Path, journal: Journal, question: str,
                                                         records: list[str]) -> None:
    spy = Spy(journal)
    result = _assistant(tmp_path, spy).ask(question, actor=Actor("jan"))
    assert [kind for kind, _ in spy.calls] == records
    assert {event for _, event in spy.calls} == {result.event_id}


@pytest.fixture(params=["audit", "metered"])
def breakable(request: pytest.FixtureRequest, audit: AuditLog) -> tuple[Journal, Callable[[], None]]:
    """A journal over a store, and how to take that store down."""
    inner = AuditJournal(audit)
    return (inner if request.param == "audit" else MeteredJournal(inner, Metrics())), audit.store.close


def test_a_journal_whose_store_is_down_stops_the_turn(tmp_path: Path,
                                                      breakable: tuple[Journal, Callable[[], None]]) -> None:
    journal, take_down = breakable
    assistant = _assistant(tmp_path, journal)
    take_down()
    with pytest.raises(BakenError):
        assistant.ask("Wat kost een parkeervergunning?", actor=Actor("jan"))
