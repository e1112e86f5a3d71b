"""Hybrid retrieval in the Index: both indexes stay in step on add, replace and delete; a crash between the two
writes is repaired at the next start; the modes and the relevance gate behave as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.embedder import FakeEmbedder
from ingestion.index import CALIBRATED, UNCALIBRATED, Index
from ingestion.lexical import LexicalIndex
from ingestion.registry import DocumentRecord, Registry, now
from ingestion.settings import IngestionSettings, RetrievalSettings
from ingestion.store import ChromaStore, FakeStore

PASSWORDS = "# Wachtwoorden\n\nAlle wachtwoorden van medewerkers worden minstens eens per jaar gewijzigd.\n"
LOGS = "# Logbestanden\n\nDe logbestanden van het systeem worden zes maanden bewaard.\n"
PARKING = "# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n"


def _open(tmp_path: Path, store=None) -> Index:
    """An index over tmp_path; a Chroma store is reopened from disk each time, as at a restart."""
    store = store if store is not None else FakeStore()
    index = Index(FakeEmbedder(), store, Registry(tmp_path / "index" / "documents.sqlite3"), tmp_path / "documents",
                  IngestionSettings(), retrieval=RetrievalSettings(min_score=0.1))
    index.recover()  # what `baken serve` and `baken ingest` do at start
    return index


def _lexical(tmp_path: Path) -> LexicalIndex:
    return LexicalIndex(tmp_path / "index" / "lexical")


def _in_step(index: Index, tmp_path: Path) -> set[str]:
    ready = {d.doc_id for d in index.documents()}
    assert _lexical(tmp_path).doc_ids() == ready
    return ready


def test_add_replace_and_delete_keep_both_indexes_in_step(tmp_path: Path) -> None:
    index = _open(tmp_path)
    first = index.ingest_bytes(PASSWORDS.encode(), "beleid.md", "beleid.md")
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    assert _in_step(index, tmp_path) == {first.doc_id, index.find("parkeren.md").doc_id}
    second = index.ingest_bytes(LOGS.encode(), "beleid.md", "beleid.md")
    assert second.status == "replaced" and first.doc_id not in _in_step(index, tmp_path)
    assert index.search("wachtwoorden", 4, 0.0, mode="lexical") == []
    assert index.search("logbestand", 4, 0.0, mode="lexical")[0].doc_id == second.doc_id
    index.delete(second.doc_id)
    assert second.doc_id not in _in_step(index, tmp_path)
    assert index.search("logbestand", 4, 0.0, mode="lexical") == []


def test_lexical_finds_inflected_words_that_dense_misses(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.ingest_bytes(LOGS.encode(), "logs.md", "logs.md")
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    question = "Hoe lang bewaren we een logbestand?"
    assert [h.title for h in index.search(question, 1, -1.0, mode="lexical")] == ["Logbestanden"]
    assert [h.title for h in index.search(question, 1, -1.0, mode="hybrid")] == ["Logbestanden"]


def test_hybrid_scores_are_fused_and_carry_the_cosine(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    hit = index.search("Wat kost een parkeervergunning per jaar?", 1, 0.0)[0]
    assert hit.score == pytest.approx(1.0) and hit.cosine is not None and 0 < hit.cosine <= 1
    dense = index.search("Wat kost een parkeervergunning per jaar?", 1, 0.0, mode="dense")[0]
    assert dense.score == dense.cosine == hit.cosine


def test_hybrid_returns_nothing_when_no_chunk_is_similar_enough(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    assert index.search("Hoe laat vertrekt de veerboot naar Texel?", 4, 0.25) == []
    index.retrieval = RetrievalSettings(min_coverage=1.0)
    assert index.search("parkeervergunning voor een fiets", 4, 0.99) == []


def test_crash_after_the_vector_write_is_repaired_at_the_next_start(tmp_path: Path) -> None:
    """Chunks in Chroma, registry row `indexing`, nothing in the lexical index: the restart removes it all."""
    store = ChromaStore(tmp_path / "index" / "chroma")
    registry = Registry(tmp_path / "index" / "documents.sqlite3")
    registry.begin(DocumentRecord("half", "x.md", "x.md", "X", "md", 1, 1, "indexing", None, now()))
    store.add(["half-0"], [[1.0, 0.0]], ["Logbestanden worden zes maanden bewaard."],
              [{"doc_id": "half", "source": "x.md", "title": "X", "heading": "", "page": 0, "ordinal": 0}])
    del store
    index = _open(tmp_path, ChromaStore(tmp_path / "index" / "chroma"))
    assert index.chunk_count() == 0 and registry.get("half") is None
    assert _lexical(tmp_path).doc_ids() == set()


def test_published_document_missing_from_the_lexical_index_is_rebuilt_at_the_next_start(tmp_path: Path) -> None:
    index = _open(tmp_path, ChromaStore(tmp_path / "index" / "chroma"))
    outcome = index.ingest_bytes(LOGS.encode(), "logs.md", "logs.md")
    (tmp_path / "index" / "lexical" / f"{outcome.doc_id}.json").unlink()  # lost, or never written
    del index
    index = _open(tmp_path, ChromaStore(tmp_path / "index" / "chroma"))
    assert _in_step(index, tmp_path) == {outcome.doc_id}
    hits = index.search("logbestand bewaren", 1, -1.0, mode="lexical")
    assert hits[0].doc_id == outcome.doc_id and hits[0].title == "Logbestanden"


def test_crash_between_the_two_deletes_is_repaired_at_the_next_start(tmp_path: Path) -> None:
    index = _open(tmp_path, ChromaStore(tmp_path / "index" / "chroma"))
    outcome = index.ingest_bytes(LOGS.encode(), "logs.md", "logs.md")
    registry = Registry(tmp_path / "index" / "documents.sqlite3")
    registry.mark_deleting(outcome.doc_id)
    ChromaStore(tmp_path / "index" / "chroma").delete_document(outcome.doc_id)  # then the process dies
    del index
    index = _open(tmp_path, ChromaStore(tmp_path / "index" / "chroma"))
    assert index.documents() == [] and _lexical(tmp_path).doc_ids() == set()


def test_lexical_entries_of_unknown_or_stale_documents_are_dropped_or_rebuilt(tmp_path: Path) -> None:
    store = FakeStore()
    index = _open(tmp_path, store)
    outcome = index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    directory = tmp_path / "index" / "lexical"
    (directory / "ghost.json").write_text(json.dumps({"version": 1, "doc_id": "ghost", "chunks": []}))
    (directory / f"{outcome.doc_id}.json").write_text('{"version": 0}')  # an older tokenisation
    index = _open(tmp_path, store)
    assert _in_step(index, tmp_path) == {outcome.doc_id}
    assert index.search("parkeervergunningen", 1, -1.0, mode="lexical")[0].doc_id == outcome.doc_id


def test_failed_ingest_leaves_neither_index_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = _open(tmp_path)
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")

    def explode(*args, **kwargs) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(LexicalIndex, "add_document", explode)
    with pytest.raises(OSError):
        index.ingest_bytes(LOGS.encode(), "logs.md", "logs.md")
    assert index.chunk_count() == 1 and len(_in_step(index, tmp_path)) == 1


def test_thresholds_default_to_the_embedders_calibration_and_settings_override_them(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.retrieval = RetrievalSettings()
    assert index.thresholds() == UNCALIBRATED  # the fake embedder was never calibrated
    index.embedder.name = "all-minilm-l6-v2"
    assert index.thresholds() == CALIBRATED["all-minilm-l6-v2"]
    index.retrieval = RetrievalSettings(min_score=0.5, min_coverage=0.2)
    assert index.thresholds() == (0.5, 0.2) and index.thresholds(0.1) == (0.1, 0.2)


def test_a_lexical_match_covering_the_question_gives_a_source_when_no_chunk_is_similar_enough(
        tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.ingest_bytes(LOGS.encode(), "logs.md", "logs.md")
    index.ingest_bytes(PARKING.encode(), "parkeren.md", "parkeren.md")
    index.retrieval = RetrievalSettings(min_score=0.99, min_coverage=0.6)
    assert index.relevance("Worden de logbestanden bewaard?")[1] == pytest.approx(1.0)
    assert [h.title for h in index.search("Worden de logbestanden bewaard?", 1)] == ["Logbestanden"]
    assert index.relevance("Worden de logbestanden van de hondenbelasting bewaard?")[1] < 0.6
    assert index.search("Worden de logbestanden van de hondenbelasting bewaard?", 1) == []
