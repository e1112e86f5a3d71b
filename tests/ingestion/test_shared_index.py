"""Two hosts, each with a data directory of its own, share one registry and one copy of the originals
(PostgreSQL) and one vector store: what one host ingests, replaces or deletes, the other sees, and its own
BM25 index follows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.database import Database
from core.errors import NotFound
from ingestion.embedder import FakeEmbedder
from ingestion.files import DatabaseOriginals
from ingestion.index import Index
from ingestion.lexical import LexicalIndex
from ingestion.registry import HEARTBEAT_TIMEOUT, DocumentRecord, Registry, now
from ingestion.settings import IngestionSettings
from ingestion.store import ChromaStore, FakeStore, VectorStore
from tests.servers import ChromaServer

GROFVUIL = "# Grofvuil\n\nGrofvuil wordt op dinsdag opgehaald.\n"
GROFVUIL_NEW = "# Grofvuil\n\nGrofvuil wordt voortaan op vrijdag opgehaald.\n"


def host(name: str, root: Path, database: Database, store: VectorStore) -> Index:
    """One host's index: its own data directory, the shared database and store."""
    data = root / name
    index = Index(FakeEmbedder(), store, Registry(database, host=name),
                  DatabaseOriginals(database, data / "documents"), IngestionSettings(),
                  lexical=LexicalIndex(data / "index" / "lexical"))
    index.recover()  # what `baken serve` does at start
    return index


def lexical_titles(index: Index, query: str) -> list[str]:
    return [h.title for h in index.search(query, 3, mode="lexical")]


def test_a_document_ingested_on_one_host_is_found_and_opened_on_the_other(tmp_path: Path, postgres: Database) -> None:
    store = FakeStore()
    a, b = host("a", tmp_path, postgres, store), host("b", tmp_path, postgres, store)
    outcome = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert lexical_titles(b, "grofvuil dinsdag") == ["Grofvuil"]
    assert (tmp_path / "b" / "index" / "lexical" / f"{outcome.doc_id}.json").exists()  # rebuilt on b
    assert b.original(outcome.doc_id).read_bytes() == GROFVUIL.encode()
    assert b.original(outcome.doc_id).parent == tmp_path / "b" / "documents"
    assert b.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md").status == "unchanged"


def test_a_document_deleted_on_one_host_is_gone_from_the_other(tmp_path: Path, postgres: Database) -> None:
    store = FakeStore()
    a, b = host("a", tmp_path, postgres, store), host("b", tmp_path, postgres, store)
    outcome = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert lexical_titles(a, "grofvuil") == ["Grofvuil"]
    b.delete(outcome.doc_id)
    assert lexical_titles(a, "grofvuil") == [] and a.search("grofvuil dinsdag", 3, -1.0) == []
    assert outcome.doc_id not in a._lexical.doc_ids()  # dropped from memory and disk, not only filtered
    assert list((tmp_path / "a" / "index" / "lexical").iterdir()) == []
    assert list((tmp_path / "a" / "documents").iterdir()) == []  # its local copy of the original too
    with pytest.raises(NotFound):
        a.original(outcome.doc_id)


def test_a_document_replaced_on_one_host_is_replaced_on_the_other(tmp_path: Path, postgres: Database) -> None:
    store = FakeStore()
    a, b = host("a", tmp_path, postgres, store), host("b", tmp_path, postgres, store)
    old = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert lexical_titles(b, "grofvuil dinsdag") == ["Grofvuil"]
    new = a.ingest_bytes(GROFVUIL_NEW.encode(), "grofvuil.md", "grofvuil.md")
    assert new.status == "replaced"
    assert [h.doc_id for h in b.search("grofvuil", 3, mode="lexical")] == [new.doc_id]
    assert b._lexical.doc_ids() == {new.doc_id} and old.doc_id not in {d.doc_id for d in b.documents()}


def test_a_host_indexing_a_document_says_so_and_the_other_leaves_it_until_it_falls_silent(
        tmp_path: Path, postgres: Database) -> None:
    store = FakeStore()
    a = host("a", tmp_path, postgres, store)
    touched: list[str] = []
    touch = a._registry.touch
    a._registry.touch = lambda doc_id: touched.append(doc_id) or touch(doc_id)  # type: ignore[method-assign]
    outcome = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert touched and set(touched) == {outcome.doc_id}

    Registry(postgres, host="a").begin(DocumentRecord("c" * 64, "c.md", "c.md", "C", "markdown", 1, 1,
                                                      "indexing", None, now()))
    store.add(["c-0"], [[1.0] * 8], ["half"], [{"doc_id": "c" * 64}])
    host("b", tmp_path, postgres, store)  # starts: runs recover()
    assert store.document_chunks("c" * 64) != []
    with postgres.connect() as conn:
        conn.execute("UPDATE owners SET touched = touched - ?", (HEARTBEAT_TIMEOUT.total_seconds() + 5,))
    host("b", tmp_path, postgres, store)
    assert store.document_chunks("c" * 64) == [] and Registry(postgres).get("c" * 64) is None


def test_two_hosts_share_a_chroma_server_and_postgresql(tmp_path: Path, postgres: Database,
                                                        chroma_server: ChromaServer) -> None:
    collection = f"t{uuid.uuid4().hex}"
    a = host("a", tmp_path, postgres, ChromaStore.connect(chroma_server.url, collection=collection))
    b = host("b", tmp_path, postgres, ChromaStore.connect(chroma_server.url, collection=collection))
    outcome = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert [h.doc_id for h in b.search("grofvuil dinsdag", 3, -1.0)] == [outcome.doc_id]
    assert outcome.doc_id in b._lexical.doc_ids()  # rebuilt on b from the chunk texts in Chroma
    assert b.original(outcome.doc_id).read_bytes() == GROFVUIL.encode()
    b.delete(outcome.doc_id)
    assert a.search("grofvuil dinsdag", 3, -1.0) == [] and a.chunk_count() == 0
    assert outcome.doc_id not in a._lexical.doc_ids()
    with pytest.raises(NotFound):
        a.original(outcome.doc_id)


def test_the_wiring_keeps_the_registry_and_originals_in_the_configured_database(
        tmp_path: Path, postgres: Database, postgres_dsn: str) -> None:
    from baken.settings import Settings
    from baken.wiring import build_index

    def configured(name: str) -> Index:
        schema = postgres.schema  # type: ignore[attr-defined]
        settings = Settings(data_dir=tmp_path / name, database={"dsn": postgres_dsn, "pg_schema": schema})
        return build_index(settings, embedder=FakeEmbedder())

    a, b = configured("a"), configured("b")
    outcome = a.ingest_bytes(GROFVUIL.encode(), "grofvuil.md", "grofvuil.md")
    assert [d.doc_id for d in b.documents()] == [outcome.doc_id]
    assert b.original(outcome.doc_id).read_bytes() == GROFVUIL.encode()
    assert not (tmp_path / "a" / "index" / "documents.sqlite3").exists()
