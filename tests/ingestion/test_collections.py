"""Collections: deny by default, filtered inside both indexes (real Chroma `where`, BM25 mask), moves at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.database import Database
from core.errors import NotFound, UserError
from ingestion.collection import Collections
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.settings import IngestionSettings
from ingestion.store import ChromaStore, FakeStore

HR = "# Verzuim\n\nHet re-integratiedossier van medewerkers staat in het personeelsdossier."
OPEN = "# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar."
MODES = ("dense", "lexical", "hybrid")


def make_index(tmp_path: Path, store=None) -> Index:
    index = Index(FakeEmbedder(), store if store is not None else ChromaStore(tmp_path / "chroma"),
                  Registry(tmp_path / "registry.sqlite3"), tmp_path / "files", IngestionSettings())
    index.recover()
    return index


@pytest.fixture
def index(tmp_path: Path) -> Index:
    index = make_index(tmp_path)
    index.collections.add("hr", "Personeelszaken")
    index.collections.grant("hr", "team-hr")
    (tmp_path / "hr.md").write_text(HR, encoding="utf-8")
    (tmp_path / "open.md").write_text(OPEN, encoding="utf-8")
    index.ingest_file(tmp_path / "hr.md", collection="hr")
    index.ingest_file(tmp_path / "open.md")
    return index


def titles(index: Index, query: str, collections, mode: str) -> set[str]:
    return {h.title for h in index.search(query, 5, -1.0, mode=mode, collections=collections)}


def test_collections_grant_reading_to_groups_and_algemeen_is_open(database: Database) -> None:
    Registry(database)
    collections = Collections(database)
    collections.add("hr")
    collections.add("jeugd")
    collections.grant("hr", "team-hr")
    collections.grant("jeugd", "team-jeugd")
    assert collections.readable([]) == {"algemeen"}
    assert collections.readable(["team-hr"]) == {"algemeen", "hr"}
    assert collections.readable(["team-hr", "team-jeugd", "elders"]) == {"algemeen", "hr", "jeugd"}
    collections.revoke("hr", "team-hr")
    assert collections.readable(["team-hr"]) == {"algemeen"}
    assert [c.name for c in collections.list()] == ["algemeen", "hr", "jeugd"]


@pytest.mark.parametrize("name", ["", "HR Team", "a" * 41, "../x", "hr;drop"])
def test_a_bad_collection_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError):
        Collections(Database(tmp_path / "c.sqlite3")).add(name)


def test_algemeen_and_existing_names_cannot_be_added_again(tmp_path: Path) -> None:
    collections = Collections(Database(tmp_path / "c.sqlite3"))
    collections.add("hr")
    for name in ("hr", "algemeen"):
        with pytest.raises(UserError):
            collections.add(name)


@pytest.mark.parametrize("mode", MODES)
def test_a_restricted_document_is_never_found_outside_its_collection(index: Index, mode: str) -> None:
    assert titles(index, "re-integratiedossier personeelsdossier", {"algemeen"}, mode) <= {"Parkeren"}
    assert "Verzuim" in titles(index, "re-integratiedossier personeelsdossier", {"algemeen", "hr"}, mode)


def test_filtering_happens_inside_the_query_so_the_reader_still_gets_k_hits(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    index.collections.add("hr")
    for n in range(12):  # many restricted chunks that rank above the one open chunk
        (tmp_path / f"hr{n}.md").write_text(f"# HR {n}\n\nparkeervergunning parkeervergunning {n}", encoding="utf-8")
        index.ingest_file(tmp_path / f"hr{n}.md", collection="hr")
    (tmp_path / "open.md").write_text(OPEN, encoding="utf-8")
    index.ingest_file(tmp_path / "open.md")
    for mode in MODES:
        assert titles(index, "parkeervergunning", {"algemeen"}, mode) == {"Parkeren"}


def test_no_readable_collection_finds_nothing(index: Index) -> None:
    for mode in MODES:
        assert titles(index, "parkeervergunning", set(), mode) == set()


def test_a_move_takes_effect_at_once(index: Index) -> None:
    doc = next(d for d in index.documents() if d.title == "Verzuim")
    index.move(doc.doc_id, "algemeen")
    assert "Verzuim" in titles(index, "re-integratiedossier", {"algemeen"}, "hybrid")
    index.move(doc.doc_id, "hr")
    assert "Verzuim" not in titles(index, "re-integratiedossier", {"algemeen"}, "hybrid")
    assert index.collections.get("hr").documents == 1


def test_a_move_stopped_half_way_leaks_nothing_and_recover_finishes_it(tmp_path: Path, index: Index) -> None:
    doc = next(d for d in index.documents() if d.title == "Parkeren")
    registry = Registry(tmp_path / "registry.sqlite3")
    registry.move(doc.doc_id, "hr")  # killed before the chunks were re-tagged: they still say algemeen
    for mode in MODES:
        assert "Parkeren" not in titles(index, "parkeervergunning", {"algemeen"}, mode)
    assert [r.doc_id for r in registry.unstamped()] == [doc.doc_id]
    index.recover()
    assert registry.unstamped() == []
    assert "Parkeren" in titles(index, "parkeervergunning", {"hr"}, "dense")


def test_an_index_from_before_collections_is_stamped_by_recover(tmp_path: Path) -> None:
    store = FakeStore()
    index = make_index(tmp_path, store)
    (tmp_path / "open.md").write_text(OPEN, encoding="utf-8")
    doc = index.ingest_file(tmp_path / "open.md")
    for _, _, meta in store._rows.values():
        del meta["collection"]  # as chunks written before collections carry no collection
    registry = Registry(tmp_path / "registry.sqlite3")
    registry.stamp(doc.doc_id, None)  # type: ignore[arg-type]
    assert store.query([1.0] * 8, 5, {"algemeen"}) == []  # the store's own filter cannot find them yet
    index.recover()
    assert registry.unstamped() == []
    assert {h.metadata["collection"] for h in store.document_chunks(doc.doc_id)} == {"algemeen"}
    assert titles(index, "parkeervergunning", {"algemeen"}, "dense") == {"Parkeren"}


def test_documents_find_and_original_respect_collections(index: Index) -> None:
    hr = next(d for d in index.documents() if d.title == "Verzuim")
    assert {d.title for d in index.documents({"algemeen"})} == {"Parkeren"}
    assert index.find(hr.doc_id, {"algemeen", "hr"}).title == "Verzuim"
    with pytest.raises(NotFound):
        index.find(hr.doc_id, {"algemeen"})
    with pytest.raises(NotFound):
        index.original(hr.doc_id, {"algemeen"})
    assert index.original(hr.doc_id, {"hr"}).read_text(encoding="utf-8") == HR
    assert not index.readable(hr.doc_id, {"algemeen"}) and index.readable(hr.doc_id, {"hr"})


def test_ingesting_into_an_unknown_collection_is_refused(tmp_path: Path) -> None:
    index = make_index(tmp_path, FakeStore())
    (tmp_path / "a.md").write_text(OPEN, encoding="utf-8")
    with pytest.raises(NotFound):
        index.ingest_file(tmp_path / "a.md", collection="geheim")
    assert index.documents() == []


def test_an_unchanged_file_ingested_into_another_collection_moves_there(index: Index, tmp_path: Path) -> None:
    assert index.ingest_file(tmp_path / "open.md", collection="hr").status == "unchanged"
    assert {d.title for d in index.documents({"algemeen"})} == set()
    assert "Parkeren" in titles(index, "parkeervergunning", {"hr"}, "hybrid")


def test_sources_carry_their_collection_into_records(index: Index) -> None:
    hit = index.search("re-integratiedossier", 1, -1.0, mode="lexical", collections={"hr"})[0]
    assert hit.collection == "hr"
    assert hit.record()["collection"] == "hr" and hit.audit_record(with_cited=False)["collection"] == "hr"


class CountingStore(FakeStore):
    """A fake store that notes whether each query carried a collection filter."""

    def __init__(self) -> None:
        super().__init__()
        self.filters: list[object] = []

    def query(self, vector, k, collections=None):
        self.filters.append(collections)
        return super().query(vector, k, collections)


def test_the_filter_is_asked_of_the_store_only_when_the_nearest_chunks_are_not_enough(tmp_path: Path) -> None:
    store = CountingStore()
    index = make_index(tmp_path, store)
    index.collections.add("hr")
    for n in range(40):
        (tmp_path / f"open{n}.md").write_text(f"# Open {n}\n\nparkeervergunning nummer {n}", encoding="utf-8")
    (tmp_path / "hr.md").write_text(HR, encoding="utf-8")
    index.ingest_files([*(tmp_path / f"open{n}.md" for n in range(40))])
    index.ingest_file(tmp_path / "hr.md", collection="hr")
    store.filters.clear()
    assert "Verzuim" not in titles(index, "parkeervergunning", {"algemeen"}, "dense")
    assert store.filters == [None]  # 30 readable among the 60 nearest: no `where` needed
    store.filters.clear()
    assert titles(index, "re-integratiedossier", {"hr"}, "dense") == {"Verzuim"}
    assert store.filters == [None, None, {"hr"}]  # too few hr chunks among the nearest: deeper, then filtered
