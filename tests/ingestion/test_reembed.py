"""The index's embedder record, and re-embedding into another embedder beside the active index (real Chroma)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.reembed import check_embedder, reembed
from ingestion.registry import Registry
from ingestion.settings import IngestionSettings
from ingestion.store import ChromaStore, EmbedderRecord

DOCS = {f"d{n}.md": f"# Onderwerp {n}\n\n" + " ".join(f"Zin {n}.{i} over parkeren en afval." for i in range(300))
        for n in range(4)}


def named(name: str, dimensions: int) -> FakeEmbedder:
    embedder = FakeEmbedder(dimensions=dimensions)
    embedder.name = name
    return embedder


class Dying(FakeEmbedder):
    """Stops the process (as a kill would) at its ``after``-th call."""

    def __init__(self, after: int) -> None:
        super().__init__(dimensions=64)
        self.name, self.calls, self.after = "nieuw", 0, after

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        return super().embed_passages(texts)


def build(tmp_path: Path, embedder: FakeEmbedder, docs: dict[str, str] = DOCS) -> Index:
    index = Index(embedder, ChromaStore(tmp_path / "chroma"), Registry(tmp_path / "registry.sqlite3"),
                  tmp_path / "documents", IngestionSettings(sandbox=False))
    for name, text in docs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert index.ingest_file(tmp_path / name).status == "new"
    return index


def test_the_first_write_records_the_embedder_and_another_one_is_refused(tmp_path: Path) -> None:
    build(tmp_path, named("oud", 32), {"a.md": "# A\n\nTekst."})
    assert ChromaStore(tmp_path / "chroma").embedder() == EmbedderRecord("oud", 32)
    other = Index(named("nieuw", 32), ChromaStore(tmp_path / "chroma"), Registry(tmp_path / "registry.sqlite3"),
                  tmp_path / "documents", IngestionSettings(sandbox=False))
    with pytest.raises(ConfigurationError, match="gebouwd met embedder oud .*ingesteld is nieuw"):
        other.search("tekst", 2)


def test_an_index_without_a_record_is_read_as_it_is_and_recorded_at_its_first_write(tmp_path: Path) -> None:
    store = ChromaStore(tmp_path / "chroma")
    assert check_embedder(store, named("x", 8), writing=False) is False and store.embedder() is None
    assert check_embedder(store, named("x", 8), writing=True) and store.embedder() == EmbedderRecord("x", 8)


def test_reembed_switches_only_when_every_chunk_has_its_new_vector(tmp_path: Path) -> None:
    index = build(tmp_path, named("oud", 32))
    store = ChromaStore(tmp_path / "chroma")
    chunks, first = store.count(), store.generation
    seen: list[tuple[int, int]] = []
    result = reembed(store, named("nieuw", 64), lambda done, total: seen.append((done, total)), batch_size=16)
    assert result.chunks == chunks == result.embedded and result.resumed == 0 and seen[-1] == (chunks, chunks)
    reopened = ChromaStore(tmp_path / "chroma")
    assert reopened.embedder() == EmbedderRecord("nieuw", 64) and reopened.count() == chunks
    assert reopened.generations() == {"active": "baken_chunks.g1", "previous": first}
    new = Index(named("nieuw", 64), reopened, Registry(tmp_path / "registry.sqlite3"), tmp_path / "documents",
                IngestionSettings(sandbox=False))
    assert new.search("parkeren", 3, min_score=-1.0, mode="dense")
    assert [s.text for s in new.search("Zin 2.5", 1, mode="lexical")] == \
           [s.text for s in index.search("Zin 2.5", 1, mode="lexical")]  # texts and ids unchanged


def test_a_killed_reembed_leaves_the_old_index_active_and_a_rerun_resumes(tmp_path: Path) -> None:
    build(tmp_path, named("oud", 32))
    store = ChromaStore(tmp_path / "chroma")
    chunks = store.count()
    with pytest.raises(KeyboardInterrupt):
        reembed(store, Dying(after=3), batch_size=16)
    after_kill = ChromaStore(tmp_path / "chroma")
    assert after_kill.embedder() == EmbedderRecord("oud", 32) and after_kill.count() == chunks
    assert after_kill.generations()["active"] == "baken_chunks" and "staging" in after_kill.generations()
    result = reembed(after_kill, named("nieuw", 64), batch_size=16)
    assert result.resumed == 32 and result.embedded == chunks - 32 and result.chunks == chunks
    assert ChromaStore(tmp_path / "chroma").embedder() == EmbedderRecord("nieuw", 64)


def test_a_half_built_generation_for_another_model_is_restarted(tmp_path: Path) -> None:
    build(tmp_path, named("oud", 32))
    store = ChromaStore(tmp_path / "chroma")
    with pytest.raises(KeyboardInterrupt):
        reembed(store, Dying(after=2), batch_size=16)
    result = reembed(ChromaStore(tmp_path / "chroma"), named("ander", 48), batch_size=16)
    assert result.resumed == 0 and ChromaStore(tmp_path / "chroma").embedder() == EmbedderRecord("ander", 48)


def test_chunks_added_or_removed_meanwhile_are_caught_up_and_older_generations_dropped(tmp_path: Path) -> None:
    index = build(tmp_path, named("oud", 32))
    store = ChromaStore(tmp_path / "chroma")

    class Busy(FakeEmbedder):
        """While the copy runs, a document is deleted and another one ingested into the active index."""

        def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
            if not hasattr(self, "done"):
                self.done = True
                index.delete(index.find(str((tmp_path / "d0.md").resolve())).doc_id)
                (tmp_path / "e.md").write_text("# Nieuw\n\nEen nieuw stuk over de markt.", encoding="utf-8")
                index.ingest_file(tmp_path / "e.md")
            return super().embed_passages(texts)

    busy = Busy(dimensions=64)
    busy.name = "nieuw"
    reembed(store, busy, batch_size=16)
    assert ChromaStore(tmp_path / "chroma").ids() == index._store.ids()  # what the active index held at the end
    reembed(ChromaStore(tmp_path / "chroma"), named("derde", 16), batch_size=64)
    generations = ChromaStore(tmp_path / "chroma").generations()
    assert generations == {"active": "baken_chunks.g2", "previous": "baken_chunks.g1"}
    assert ChromaStore(tmp_path / "chroma")._anchor.count() == 0  # the first generation's chunks are gone
