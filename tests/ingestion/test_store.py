"""One contract for every VectorStore: the fake and real Chroma behave the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.store import ChromaStore, FakeStore


@pytest.fixture(params=["fake", "chroma"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    return FakeStore() if request.param == "fake" else ChromaStore(tmp_path / "chroma")


def _add(store, doc_id: str, vectors: list[list[float]]) -> None:
    ids = [f"{doc_id}-{i}" for i in range(len(vectors))]
    store.add(ids, vectors, [f"tekst {i}" for i in ids], [{"doc_id": doc_id, "page": 0} for _ in ids])


def test_query_returns_nearest_first_with_cosine_similarity(store) -> None:
    _add(store, "a", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.7, 0.7, 0.0]])
    hits = store.query([1.0, 0.1, 0.0], k=2)
    assert [h.id for h in hits] == ["a-0", "a-2"]
    assert hits[0].score == pytest.approx(0.995, abs=0.01)
    assert hits[0].metadata["doc_id"] == "a" and hits[0].text == "tekst a-0"


def test_delete_document_removes_only_its_chunks(store) -> None:
    _add(store, "a", [[1.0, 0.0], [0.9, 0.1]])
    _add(store, "b", [[0.0, 1.0]])
    store.delete_document("a")
    assert store.count() == 1
    assert [h.id for h in store.query([1.0, 0.0], k=5)] == ["b-0"]


def test_adding_the_same_id_twice_overwrites(store) -> None:
    _add(store, "a", [[1.0, 0.0]])
    _add(store, "a", [[0.0, 1.0]])
    assert store.count() == 1


def test_empty_store_returns_no_hits(store) -> None:
    assert store.query([1.0, 0.0], k=3) == []


def test_chroma_persists_across_clients(tmp_path: Path) -> None:
    _add(ChromaStore(tmp_path / "c"), "a", [[1.0, 0.0]])
    assert ChromaStore(tmp_path / "c").count() == 1


def test_get_returns_the_asked_chunks_in_order_and_skips_unknown_ids(store) -> None:
    _add(store, "a", [[1.0, 0.0], [0.0, 1.0]])
    hits = store.get(["a-1", "nope", "a-0"])
    assert [h.id for h in hits] == ["a-1", "a-0"]
    assert hits[0].text == "tekst a-1" and hits[0].metadata["doc_id"] == "a"
    assert store.get([]) == []


def test_document_chunks_lists_one_documents_chunks_by_ordinal(store) -> None:
    store.add(["a-x", "a-y", "b-z"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], ["tweede", "eerste", "ander"],
              [{"doc_id": "a", "ordinal": 1}, {"doc_id": "a", "ordinal": 0}, {"doc_id": "b", "ordinal": 0}])
    assert [h.text for h in store.document_chunks("a")] == ["eerste", "tweede"]
    assert store.document_chunks("missing") == []


def test_chunks_yields_every_chunk_with_its_vector_in_batches(store) -> None:
    vectors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]]
    _add(store, "a", vectors)
    batches = list(store.chunks(batch_size=2))
    assert [len(b.ids) for b in batches] == [2, 2, 1]
    copied = {i: (v, t, m) for b in batches for i, v, t, m in zip(b.ids, b.vectors, b.texts, b.metadatas)}
    assert sorted(copied) == [f"a-{i}" for i in range(5)]
    for i, vector in enumerate(vectors):
        stored, text, metadata = copied[f"a-{i}"]
        assert stored == pytest.approx(vector) and all(type(x) is float for x in stored)
        assert text == f"tekst a-{i}" and metadata == {"doc_id": "a", "page": 0}


def test_an_empty_store_yields_no_chunks(store) -> None:
    assert list(store.chunks()) == []


def test_a_store_copied_through_chunks_answers_like_the_original(store, tmp_path: Path) -> None:
    _add(store, "a", [[1.0, 0.0], [0.0, 1.0]])
    _add(store, "b", [[0.7, 0.7]])
    copy = ChromaStore(tmp_path / "copy", collection="kopie_chunks")
    for batch in store.chunks(batch_size=2):
        copy.add(batch.ids, batch.vectors, batch.texts, batch.metadatas)
    assert copy.count() == 3
    for question in ([1.0, 0.1], [0.1, 1.0], [0.6, 0.7]):
        assert [(h.id, h.text, h.metadata) for h in copy.query(question, k=3)] == \
               [(h.id, h.text, h.metadata) for h in store.query(question, k=3)]
        assert [h.score for h in copy.query(question, k=3)] == \
               pytest.approx([h.score for h in store.query(question, k=3)], abs=1e-6)
