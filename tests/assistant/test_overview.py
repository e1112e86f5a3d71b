"""The overviews built from a real audit log and index: every day of the period (zeros too), the endings,
gaps, feedback and documents per collection, chain and witness status, and each opening logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.records import prepare_record
from assistant.overview import DEFAULT_PERIOD, Overviews, period_of
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.settings import IngestionSettings
from ingestion.store import FakeStore

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def index(tmp_path: Path) -> Index:
    """An index over fake models with two documents."""
    built = Index(FakeEmbedder(), FakeStore(), Registry(tmp_path / "index.sqlite3"), tmp_path / "documents",
                  IngestionSettings())
    for name, text in (("thuiswerken.md", "# Thuiswerken\n\nU werkt maximaal drie dagen thuis.\n"),
                       ("archief.md", "# Archief\n\nStukken gaan na twintig jaar naar het archief.\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        built.ingest_file(path)
    return built


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    """An audit log in tmp_path."""
    opened = AuditLog.open(AuditSettings(durable=False, checkpoint_every=1000), tmp_path)
    yield opened
    opened.close()


def doc_id(index: Index, title: str) -> str:
    return next(d.doc_id for d in index.documents() if d.title == title)


def put(log: AuditLog, at: datetime, action: str, record: dict[str, Any], outcome: str,
        content: dict[str, Any] | None = None) -> int:
    """One record at a chosen time, straight into the store."""
    return log.store.append(lambda seq, head: prepare_record(
        seq, head, time=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), action=action, actor="p-user", role="medewerker",
        attributes=record, content=content, conversation_id="c", outcome=outcome)).seq


def turn(log: AuditLog, at: datetime, outcome: str, sources: list[dict[str, Any]], withheld: bool = False,
         question: str = "Hoe zit het?") -> int:
    return put(log, at, "conversation.turn", {"baken.sources": sources, "baken.withheld": withheld,
                                              "baken.redactions": [{"type": "BSN"}]}, outcome,
               {"question": question})


def test_the_period_is_one_of_seven_thirty_or_ninety_days() -> None:
    assert [period_of(n) for n in (7, 30, 90, 0, 365, -1)] == [7, 30, 90, DEFAULT_PERIOD, DEFAULT_PERIOD,
                                                                DEFAULT_PERIOD]


def test_the_managers_overview_counts_endings_gaps_feedback_and_documents(log: AuditLog, index: Index) -> None:
    home = doc_id(index, "Thuiswerken")
    cited = turn(log, NOW - timedelta(days=1), "answered", [{"doc_id": home, "cited": True}])
    turn(log, NOW, "answered", [{"doc_id": home, "cited": True}], withheld=True)
    turn(log, NOW, "no_source", [], question="Wat kost een <PERSON_1>-vergunning?")
    turn(log, NOW, "error:timeout", [])
    turn(log, NOW - timedelta(days=40), "answered", [{"doc_id": home, "cited": True}])  # before the period
    put(log, NOW, "feedback.given", {"baken.feedback.turn_seq": cited, "baken.feedback.rating": "useful"},
        "recorded")
    overview = Overviews(log, index, clock=lambda: NOW).manager(30, frozenset({"algemeen"}), viewer="ib",
                                                                role="informatiebeheerder")
    q = overview.questions
    assert len(q.days) == 30 and q.days[-1] == "2026-11-20" and q.day_total("2026-11-01") == 0
    assert {k: q.total(k) for k in q.series} == {"answered": 1, "withheld": 1, "no_source": 1, "failed": 1}
    assert q.share("answered") == 0.25
    assert [g.question for g in overview.gaps] == ["Wat kost een <PERSON_1>-vergunning?"]
    assert overview.feedback.count("2026-11-20", "useful") == 1 and overview.feedback.total() == 1
    [algemeen] = overview.collections
    assert [(d.title, d.cited, d.given) for d in algemeen.most_cited] == [("Thuiswerken", 2, 2)]
    assert [d.title for d in algemeen.never_cited] == ["Archief"]
    [opened] = log.search(action="overview.view")
    assert opened.actor == log.pseudonym("ib")  # the opening is logged, pseudonymised


def test_a_viewer_without_the_collection_sees_neither_its_turns_nor_its_documents(log: AuditLog,
                                                                                 index: Index) -> None:
    turn(log, NOW, "answered", [{"doc_id": "hr-doc", "collection": "hr", "cited": True}])
    turn(log, NOW, "answered", [{"doc_id": doc_id(index, "Archief"), "cited": True}])
    overviews = Overviews(log, index, clock=lambda: NOW)
    outside = overviews.manager(7, frozenset({"algemeen"}), viewer="ib", role="informatiebeheerder")
    assert outside.questions.total() == 1 and [c.name for c in outside.collections] == ["algemeen"]
    inside = overviews.manager(7, frozenset({"algemeen", "hr"}), viewer="ib", role="informatiebeheerder")
    assert inside.questions.total() == 2
    assert [c.name for c in inside.collections] == ["algemeen", "hr"]
    assert inside.collections[1].most_cited[0].doc_id == "hr-doc"


def test_the_auditors_overview_logs_its_opening_first_and_counts_it(log: AuditLog, index: Index) -> None:
    turn(log, NOW, "answered", [])
    log.search(action="conversation.turn", auditor="auditor-1")
    overview = Overviews(log, index, clock=lambda: NOW).auditor(7, frozenset({"algemeen"}), auditor="auditor-1", witness=None)
    [reader] = overview.readers
    assert reader.actor == log.pseudonym("auditor-1")
    assert reader.counts == {"audit.search": 1, "audit.overview": 1}
    assert overview.redactions.series == ("BSN",)
    assert overview.chain.verified is None and not overview.witness.configured


def test_the_chain_status_is_the_last_verification_in_the_log(log: AuditLog, index: Index) -> None:
    turn(log, NOW, "answered", [])
    log.checkpoint()
    log.verify(auditor="auditor-1")
    chain = Overviews(log, index).auditor(7, frozenset(), auditor="auditor-1", witness=None).chain
    assert chain.intact is True and chain.verified_records == 1 and chain.checkpoints == 1
    assert chain.verified_by == log.pseudonym("auditor-1")
    assert chain.last_seq == 3  # the turn, the verification, the opening of this overview


def test_the_witness_status_tells_missing_behind_and_up_to_date(log: AuditLog, index: Index,
                                                                tmp_path: Path) -> None:
    overviews = Overviews(log, index)
    turn(log, NOW, "answered", [])
    missing = overviews.auditor(7, frozenset(), auditor="a", witness=tmp_path / "absent").witness
    assert missing.configured and missing.problem
    witness = tmp_path / "witness"
    witness.mkdir()
    witnessed = AuditLog(log.store, log.keys, log.settings.model_copy(update={"witness_dir": witness}))
    witnessed.checkpoint()
    assert not overviews.auditor(7, frozenset(), auditor="a", witness=witness).witness.behind
    log.checkpoint()  # signed without the witness: it now lags behind
    behind = overviews.auditor(7, frozenset(), auditor="a", witness=witness).witness
    assert behind.behind and behind.witnessed == 1
