"""The contract every AuditStore keeps; run against each adapter (SQLite today, PostgreSQL later)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.audit.chain import GENESIS_HEAD, next_head
from assistant.audit.checkpoint import Checkpoint
from assistant.audit.records import PreparedRecord, prepare_record
from assistant.audit.sqlite_store import SQLiteAuditStore
from assistant.audit.store import AuditStore, RecordQuery
from core.errors import AuditError

STORES: dict[str, Callable[[Path], AuditStore]] = {
    "sqlite": lambda tmp: SQLiteAuditStore(tmp / "audit.sqlite3", durable=False),
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    """Each store adapter, empty."""
    adapter = STORES[request.param](tmp_path)
    yield adapter
    adapter.close()


def preparer(action: str = "conversation.turn", *, time: str = "2026-01-01T00:00:00.000000Z",
             conversation_id: str | None = "c1", content: dict | None = None,  # type: ignore[type-arg]
             attributes: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    """A preparer as AuditLog builds them."""
    def prepare(seq: int, prev_head: bytes) -> PreparedRecord:
        return prepare_record(seq, prev_head, time=time, action=action, actor="p-alice", role="user",
                              attributes=attributes or {}, content=content, conversation_id=conversation_id,
                              outcome="answered")
    return prepare


def test_appends_get_gap_free_seqs_from_one_chained_from_the_genesis_head(store: AuditStore) -> None:
    first = store.append(preparer())
    second = store.append(preparer())
    assert (first.seq, second.seq) == (1, 2)
    assert store.last() == (2, second.head)
    rows = list(store.records())
    assert [r.seq for r in rows] == [1, 2]
    assert first.head == next_head(GENESIS_HEAD, first.record_hash)
    assert second.head == next_head(first.head, second.record_hash)


def test_an_empty_store_has_no_last_record(store: AuditStore) -> None:
    assert store.last() is None and list(store.records()) == []


def test_a_failing_preparer_writes_nothing_and_uses_no_seq(store: AuditStore) -> None:
    def broken(seq: int, prev_head: bytes) -> PreparedRecord:
        raise ValueError("not JSON")

    with pytest.raises(ValueError):
        store.append(broken)
    assert store.append(preparer()).seq == 1


def test_append_many_writes_records_in_order_in_one_go(store: AuditStore) -> None:
    written = store.append_many([preparer() for _ in range(3)])
    assert [r.seq for r in written] == [1, 2, 3]
    assert [r.head for r in store.records()] == [r.head for r in written]


def test_records_come_with_their_content_and_salt(store: AuditStore) -> None:
    written = store.append(preparer(content={"question": "q"}))
    row = store.get(1)
    assert row is not None and row.content_json == written.content_json and row.salt == written.salt
    assert store.get(2) is None


def test_records_can_be_read_from_a_range(store: AuditStore) -> None:
    store.append_many([preparer() for _ in range(5)])
    assert [r.seq for r in store.records(2, 4)] == [2, 3, 4]


@pytest.mark.parametrize(("query", "expected"), [
    (RecordQuery(action="document.upload"), [2]),
    (RecordQuery(conversation_id="c2"), [3]),
    (RecordQuery(since="2026-02-01T00:00:00.000000Z"), [3, 2]),
    (RecordQuery(until="2026-02-01T00:00:00.000000Z"), [1]),
    (RecordQuery(document="doc-9"), [3, 2]),
    (RecordQuery(redaction_type="IBAN"), [1]),
    (RecordQuery(actor="p-alice", outcome="answered"), [3, 2, 1]),
    (RecordQuery(actor="p-bob"), []),
])
def test_find_applies_every_filter_newest_first(store: AuditStore, query: RecordQuery, expected: list[int]) -> None:
    store.append(preparer(attributes={"baken.redactions": [{"type": "IBAN", "start": 0, "end": 5}]}))
    store.append(preparer("document.upload", time="2026-02-01T00:00:00.000000Z",
                          attributes={"baken.document.id": "doc-9", "baken.document.sha256": "ee" * 32}))
    store.append(preparer(time="2026-03-01T00:00:00.000000Z", conversation_id="c2",
                          attributes={"baken.sources": [{"doc_id": "doc-9", "content_hash": "x"}]}))
    assert [r.seq for r in store.find(query)] == expected


def test_checkpoints_are_kept_once_per_seq(store: AuditStore) -> None:
    store.append(preparer())
    checkpoint = Checkpoint(seq=1, head="aa" * 32, time="t", key_id="k", signature="bb" * 64)
    store.add_checkpoint(checkpoint)
    store.add_checkpoint(checkpoint)
    assert store.checkpoints() == [checkpoint]


def test_holds_can_be_added_listed_and_removed(store: AuditStore) -> None:
    first = store.add_hold("c1", None, None, "Woo request 12", "t", "p-alice")
    second = store.add_hold(None, 3, 9, "case 7", "t", "p-alice")
    assert [h.id for h in store.holds()] == [first, second]
    assert store.remove_hold(first) and not store.remove_hold(first)
    assert [h.reason for h in store.holds()] == ["case 7"]


def test_purge_destroys_content_and_metadata_but_keeps_hash_and_head(store: AuditStore) -> None:
    written = store.append_many([preparer(content={"question": f"q{n}"}) for n in range(3)])
    purge = store.purge([1], [2], preparer("audit.purge", conversation_id=None))
    assert purge.seq == 4
    rows = {r.seq: r for r in store.records()}
    assert rows[1].content_json is None and rows[1].record_json is not None
    assert rows[2].content_json is None and rows[2].record_json is None
    assert (rows[2].record_hash, rows[2].head) == (written[1].record_hash, written[1].head)
    assert rows[3].content_json is not None
    assert [(r.seq, r.has_content, r.has_metadata) for r in store.retention_rows("2027")] == [
        (1, False, True), (3, True, True), (4, False, True)]


def test_a_closed_store_fails_with_an_audit_error(store: AuditStore) -> None:
    store.close()
    with pytest.raises(AuditError):
        store.append(preparer())


def test_records_come_with_their_indexed_columns_format_and_body_hash(store: AuditStore) -> None:
    written = store.append_many([preparer(content={"question": "q"}), preparer()])
    row = store.get(1)
    assert row is not None
    assert (row.actor, row.conversation_id, row.outcome, row.format) == ("p-alice", "c1", "answered", 2)
    assert row.body_hash == written[0].body_hash and len(row.body_hash or b"") == 32
    store.purge([1], [1], preparer("audit.purge", conversation_id=None))
    purged = store.get(1)
    assert purged is not None and purged.record_json is None
    assert (purged.actor, purged.conversation_id, purged.outcome) == (None, None, None)
    assert (purged.time, purged.action, purged.format, purged.body_hash) == (row.time, row.action, 2, row.body_hash)
