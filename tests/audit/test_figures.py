"""The overviews' figure queries, on the SQLite and the PostgreSQL store alike: counted per day inside the
database, with every turn and document outside the viewer's collections left out."""

from __future__ import annotations

from typing import Any

from assistant.audit.figures import DocumentCount, FigureQuery, Gap
from assistant.audit.records import prepare_record
from tests.audit.conftest import Backend

DAY1, DAY2, DAY3 = "2026-11-01", "2026-11-02", "2026-11-03"
ALL = FigureQuery(since="2026-11-01T00:00:00.000000Z")


def put(backend: Backend, day: str, action: str, record: dict[str, Any], *, outcome: str | None = None,
        content: dict[str, Any] | None = None, actor: str = "p-alice", hour: int = 9) -> int:
    """Append one record at a chosen time, straight into the store."""
    written = backend.log.store.append(lambda seq, head: prepare_record(
        seq, head, time=f"{day}T{hour:02d}:00:00.000000Z", action=action, actor=actor, role="medewerker",
        attributes=record, content=content, conversation_id="c-1", outcome=outcome))
    return written.seq


def source(doc_id: str, collection: str | None = None, cited: bool = False) -> dict[str, Any]:
    """A source as the turn record lists it (no collection: a record from before collections)."""
    entry: dict[str, Any] = {"n": 1, "doc_id": doc_id, "content_hash": doc_id, "chunk_id": f"{doc_id}:1",
                             "cited": cited}
    return entry if collection is None else {**entry, "collection": collection}


def turn(backend: Backend, day: str, outcome: str, sources: list[dict[str, Any]], *, withheld: bool = False,
         question: str = "Hoe werkt dit?", redactions: tuple[str, ...] = ()) -> int:
    """A turn record with its redacted content."""
    record = {"baken.sources": sources, "baken.withheld": withheld,
              "baken.redactions": [{"type": t, "start": 0, "end": 3, "placeholder": f"<{t}_1>"} for t in redactions]}
    return put(backend, day, "conversation.turn", record, outcome=outcome,
               content={"question": question, "answer": "…"})


def seeded(backend: Backend) -> dict[str, int]:
    """Turns on three days in `algemeen` and `hr`, feedback on some, readings by two auditors."""
    seqs = {
        "a1": turn(backend, DAY1, "answered", [source("doc-a", cited=True), source("doc-b")], redactions=("BSN",)),
        "a2": turn(backend, DAY1, "answered", [source("doc-a", "algemeen", cited=True)], withheld=True),
        "gap1": turn(backend, DAY1, "no_source", [], question="Waar staat <PERSON_1> in het rooster?",
                     redactions=("PERSON",)),
        "gap2": turn(backend, DAY2, "no_source", [], question="Waar staat <PERSON_1> in het rooster?"),
        "gap3": turn(backend, DAY2, "no_source", [], question="Wat kost een hondenpenning?"),
        "hr": turn(backend, DAY2, "answered", [source("doc-hr", "hr", cited=True), source("doc-a", "algemeen")],
                   redactions=("BSN", "IBAN")),
        "err": turn(backend, DAY3, "error:timeout", [source("doc-b", "algemeen")]),
    }
    put(backend, DAY1, "feedback.given", {"baken.feedback.turn_seq": seqs["a1"], "baken.feedback.rating": "useful"},
        outcome="recorded")
    put(backend, DAY2, "feedback.given", {"baken.feedback.turn_seq": seqs["a2"],
                                          "baken.feedback.rating": "not_useful"}, outcome="recorded")
    put(backend, DAY2, "feedback.given", {"baken.feedback.turn_seq": seqs["hr"], "baken.feedback.rating": "useful"},
        outcome="recorded")
    for actor, action in (("p-aud1", "audit.search"), ("p-aud1", "audit.search"), ("p-aud2", "audit.verify")):
        put(backend, DAY3, action, {"baken.audit.request": {}}, outcome="ok", actor=actor)
    put(backend, DAY3, "audit.overview", {"baken.audit.request": {"days": 7}}, outcome="ok", actor="p-aud1",
        hour=11)
    backend.log.store.update_figures()
    return seqs


def test_turns_are_counted_per_day_outcome_and_withheld_inside_the_readable_collections(backend: Backend) -> None:
    seeded(backend)
    assert backend.log.store.turn_days(ALL) == [
        (DAY1, "answered", False, 1), (DAY1, "answered", True, 1), (DAY1, "no_source", False, 1),
        (DAY2, "no_source", False, 2), (DAY3, "error:timeout", False, 1)]
    with_hr = FigureQuery(since=ALL.since, readable=frozenset({"algemeen", "hr"}))
    assert (DAY2, "answered", False, 1) in backend.log.store.turn_days(with_hr)


def test_the_period_bounds_the_figures(backend: Backend) -> None:
    seeded(backend)
    only_day2 = FigureQuery(since=f"{DAY2}T00:00:00.000000Z", until=f"{DAY3}T00:00:00.000000Z")
    assert backend.log.store.turn_days(only_day2) == [(DAY2, "no_source", False, 2)]


def test_no_readable_collection_leaves_only_the_turns_without_sources(backend: Backend) -> None:
    seeded(backend)
    none = FigureQuery(since=ALL.since, readable=frozenset())
    assert {row[1] for row in backend.log.store.turn_days(none)} == {"no_source"}
    assert backend.log.store.document_counts(none) == []


def test_feedback_is_counted_per_day_and_rating_only_on_visible_turns(backend: Backend) -> None:
    seeded(backend)
    assert backend.log.store.feedback_days(ALL) == [(DAY1, "useful", 1), (DAY2, "not_useful", 1)]
    with_hr = FigureQuery(since=ALL.since, readable=frozenset({"algemeen", "hr"}))
    assert backend.log.store.feedback_days(with_hr) == [(DAY1, "useful", 1), (DAY2, "not_useful", 1),
                                                        (DAY2, "useful", 1)]


def test_gaps_are_the_redacted_questions_without_a_source_most_asked_first(backend: Backend) -> None:
    seeded(backend)
    assert backend.log.store.gaps(ALL) == [
        Gap("Waar staat <PERSON_1> in het rooster?", 2, f"{DAY2}T09:00:00.000000Z"),
        Gap("Wat kost een hondenpenning?", 1, f"{DAY2}T09:00:00.000000Z")]
    assert len(backend.log.store.gaps(ALL, limit=1)) == 1


def test_documents_are_counted_per_collection_given_and_cited(backend: Backend) -> None:
    seeded(backend)
    counts = sorted(backend.log.store.document_counts(ALL), key=lambda c: c.doc_id)
    assert counts == [DocumentCount("doc-a", "algemeen", 3, 2), DocumentCount("doc-b", "algemeen", 2, 0)]
    with_hr = FigureQuery(since=ALL.since, readable=frozenset({"algemeen", "hr"}))
    assert DocumentCount("doc-hr", "hr", 1, 1) in backend.log.store.document_counts(with_hr)


def test_redaction_types_are_counted_per_day_in_visible_turns(backend: Backend) -> None:
    seeded(backend)
    assert backend.log.store.redaction_days(ALL) == [(DAY1, "BSN", 1), (DAY1, "PERSON", 1)]
    with_hr = FigureQuery(since=ALL.since, readable=frozenset({"algemeen", "hr"}))
    assert (DAY2, "IBAN", 1) in backend.log.store.redaction_days(with_hr)


def test_readings_of_the_log_are_counted_per_auditor_and_action(backend: Backend) -> None:
    seeded(backend)
    assert backend.log.store.reading_days(ALL) == [
        (DAY3, "p-aud1", "audit.overview", 1, f"{DAY3}T11:00:00.000000Z"),
        (DAY3, "p-aud1", "audit.search", 2, f"{DAY3}T09:00:00.000000Z"),
        (DAY3, "p-aud2", "audit.verify", 1, f"{DAY3}T09:00:00.000000Z")]


def test_an_empty_log_has_no_figures(backend: Backend) -> None:
    store = backend.log.store
    assert store.update_figures() == 0
    assert (store.turn_days(ALL), store.feedback_days(ALL), store.gaps(ALL), store.document_counts(ALL),
            store.redaction_days(ALL), store.reading_days(ALL)) == ([], [], [], [], [], [])


def test_figure_rows_are_added_in_batches_and_only_for_records_not_yet_counted(backend: Backend) -> None:
    for n in range(5):
        turn(backend, DAY1, "answered", [source(f"doc-{n}")])
    assert backend.log.store.update_figures(batch=2) == 5
    assert backend.log.store.update_figures() == 0
    turn(backend, DAY2, "no_source", [])
    assert backend.log.store.update_figures() == 1
    assert sum(row[3] for row in backend.log.store.turn_days(ALL)) == 6


def test_a_metadata_purge_takes_the_figure_rows_with_it(backend: Backend) -> None:
    seqs = seeded(backend)
    backend.log.store.purge([], [seqs["a1"]], lambda seq, head: prepare_record(
        seq, head, time=f"{DAY3}T12:00:00.000000Z", action="audit.purge", actor="system", role="system",
        attributes={}, outcome="purged"))
    assert (DAY1, "answered", False, 1) not in backend.log.store.turn_days(ALL)
    assert DocumentCount("doc-b", "algemeen", 1, 0) in backend.log.store.document_counts(ALL)
    assert (DAY1, "BSN", 1) not in backend.log.store.redaction_days(ALL)


def test_a_copied_log_counts_the_same_figures(backend: Backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.audit.sqlite_store import SQLiteAuditStore

    seeded(backend)
    copy = SQLiteAuditStore(tmp_path / "copy.sqlite3", durable=False)
    try:
        copy.import_rows(backend.log.store.export_rows())
        assert copy.update_figures() > 0
        assert copy.turn_days(ALL) == backend.log.store.turn_days(ALL)
        assert copy.gaps(ALL) == backend.log.store.gaps(ALL)
    finally:
        copy.close()
