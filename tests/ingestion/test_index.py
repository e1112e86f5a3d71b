"""The index service: new, unchanged, replaced, deleted and failed documents, and crash recovery."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.settings import IngestionSettings
from ingestion.store import ChromaStore, FakeStore
from tests.paths import REPO


def make_index(tmp_path: Path, store=None, **settings) -> Index:
    """An index opened for writing, as `baken serve` and `baken ingest` open it: recovered first."""
    index = Index(FakeEmbedder(), store or FakeStore(), Registry(tmp_path / "registry.sqlite3"), tmp_path / "files",
                  IngestionSettings(**settings))
    index.recover()
    return index


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_new_file_is_indexed_and_searchable(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    outcome = index.ingest_file(write(tmp_path / "a.md", "# Parkeren\n\nEen parkeervergunning kost veertig euro."))
    assert outcome.status == "new" and outcome.chunks == 1
    hits = index.search("parkeervergunning kosten", k=3, min_score=0.1)
    assert hits[0].title == "Parkeren" and hits[0].source == str((tmp_path / "a.md").resolve())


def test_unchanged_file_does_no_work(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    path = write(tmp_path / "a.md", "# A\n\ntekst")
    index.ingest_file(path)
    calls = []
    index.embedder.embed_passages = lambda texts: calls.append(texts)  # type: ignore[method-assign]
    assert index.ingest_file(path).status == "unchanged"
    assert calls == []


def test_changed_file_replaces_its_old_chunks(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    path = write(tmp_path / "a.md", "# A\n\nDe oude tekst over fietsen.")
    old = index.ingest_file(path)
    new = index.ingest_file(write(path, "# A\n\nDe nieuwe tekst over auto's."))
    assert new.status == "replaced"
    assert [d.doc_id for d in index.documents()] == [new.doc_id]
    assert index.chunk_count() == new.chunks
    assert all(h.doc_id == new.doc_id for h in index.search("fietsen", 5, -1.0))
    assert not (tmp_path / "files" / f"{old.doc_id}.md").exists()


def test_delete_removes_every_chunk_and_the_stored_file(tmp_path: Path) -> None:
    index = make_index(tmp_path, chunk_tokens=40, chunk_overlap=0)
    outcome = index.ingest_file(write(tmp_path / "lang.txt", "Titel\n\n" + "Een zin over beleid. " * 100))
    assert outcome.chunks > 3
    index.delete(outcome.doc_id)
    assert index.chunk_count() == 0 and index.documents() == []
    assert list((tmp_path / "files").iterdir()) == []


def test_failed_file_leaves_the_index_unchanged(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    index.ingest_file(write(tmp_path / "goed.md", "# Goed\n\ntekst"))
    before = (index.chunk_count(), [d.doc_id for d in index.documents()])
    outcome = index.ingest_file(tmp_path.joinpath("kapot.pdf"))  # does not exist
    assert outcome.status == "failed" and "cannot read" in (outcome.error or "")
    (tmp_path / "kapot.pdf").write_bytes(b"%PDF-1.7 not really")
    assert index.ingest_file(tmp_path / "kapot.pdf").status == "failed"
    assert (index.chunk_count(), [d.doc_id for d in index.documents()]) == before


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    index = make_index(tmp_path, max_file_mb=50)
    big = tmp_path / "groot.txt"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # a sparse 200 MB file
    outcome = index.ingest_file(big)
    assert outcome.status == "failed" and "200 MB" in (outcome.error or "")


def test_error_while_embedding_rolls_back_the_document(tmp_path: Path) -> None:
    index = make_index(tmp_path, chunk_tokens=40, chunk_overlap=0)

    def explode(texts):
        raise RuntimeError("disk full")

    index.embedder.embed_passages = explode  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        index.ingest_file(write(tmp_path / "a.txt", "T\n\n" + "woord " * 200))
    assert index.chunk_count() == 0 and index._registry.list(None) == []


def test_process_killed_mid_ingest_leaves_no_half_indexed_document(tmp_path: Path) -> None:
    """A real SIGKILL after the first batch of chunks is written to real Chroma; the next start removes it."""
    document = write(tmp_path / "lang.txt", "Titel\n\n" + "Een zin over het beleid van de gemeente. " * 400)
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from ingestion.settings import IngestionSettings
        from ingestion.embedder import FakeEmbedder
        from ingestion.index import Index
        from ingestion.registry import Registry
        from ingestion.store import ChromaStore
        tmp = Path({str(tmp_path)!r})
        index = Index(FakeEmbedder(), ChromaStore(tmp / "chroma"), Registry(tmp / "registry.sqlite3"),
                      tmp / "files", IngestionSettings(chunk_tokens=40, chunk_overlap=0))
        def progress(done, total):
            if done < total:
                os.kill(os.getpid(), signal.SIGKILL)
        index.ingest_file(Path({str(document)!r}), progress)
    """)
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.run(check=False, args=[sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True)
    assert process.returncode == -9, process.stderr.decode()[-2000:]
    store = ChromaStore(tmp_path / "chroma")
    registry = Registry(tmp_path / "registry.sqlite3")
    assert store.count() > 0 and [r.status for r in registry.list(None)] == ["indexing"]

    index = Index(FakeEmbedder(), store, registry, tmp_path / "files", IngestionSettings(chunk_tokens=40))
    index.recover()  # the next start
    assert store.count() == 0 and registry.list(None) == []
    assert index.ingest_file(document).status == "new"


def test_ingesting_many_files_embeds_across_files_and_isolates_failures(tmp_path: Path) -> None:
    index = make_index(tmp_path, chunk_tokens=40, chunk_overlap=0)
    calls: list[int] = []
    embed = index.embedder.embed_passages
    index.embedder.embed_passages = lambda texts: calls.append(len(texts)) or embed(texts)  # type: ignore[method-assign]
    files = [write(tmp_path / f"d{i}.txt", f"Titel {i}\n\n" + f"Zin {i} over beleid. " * 30) for i in range(3)]
    files.insert(1, write(tmp_path / "leeg.txt", ""))
    files.append(write(tmp_path / "kopie.txt", files[0].read_text()))
    seen: list[str] = []
    outcomes = index.ingest_files(files, on_done=lambda path, outcome: seen.append(path.name))
    assert [o.status for o in outcomes] == ["new", "failed", "new", "new", "unchanged"]
    assert len(calls) == 1 and calls[0] == sum(o.chunks for o in outcomes[:4])
    assert sorted(seen) == sorted(f.name for f in files)
    assert len(index.documents()) == 3 and index.chunk_count() == calls[0]
    assert index.search("Zin 2 beleid", 1, -1.0, mode="dense")[0].title == "Titel 2"  # vectors stayed aligned


def test_a_document_published_by_another_process_is_found_lexically_without_a_restart(tmp_path: Path) -> None:
    """Two Index objects over one data directory and one store stand for two processes."""
    from ingestion.lexical import LexicalIndex

    store = FakeStore()

    def process() -> Index:
        return Index(FakeEmbedder(), store, Registry(tmp_path / "registry.sqlite3"), tmp_path / "files",
                     IngestionSettings(), lexical=LexicalIndex(tmp_path / "lexical"))

    reader, writer = process(), process()
    writer.ingest_file(write(tmp_path / "a.md", "# Grofvuil\n\nGrofvuil wordt op dinsdag opgehaald."))
    hits = reader.search("grofvuil dinsdag", 3, mode="lexical")
    assert hits and hits[0].title == "Grofvuil"


def test_another_live_process_work_in_progress_is_not_taken_for_a_crash(tmp_path: Path) -> None:
    """A document another process is indexing right now (a live pid) survives this process's start-up."""
    import subprocess as sp

    from ingestion.registry import DocumentRecord, now

    registry = Registry(tmp_path / "registry.sqlite3")
    sleeper = sp.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        Registry(tmp_path / "registry.sqlite3", pid=sleeper.pid).begin(
            DocumentRecord("b" * 64, "b.md", "b.md", "B", "markdown", 1, 1, "indexing", None, now()))
        make_index(tmp_path)  # runs recover()
        assert [r.status for r in registry.list(None)] == ["indexing"]
    finally:
        sleeper.kill()
        sleeper.wait()
    make_index(tmp_path)
    assert registry.list(None) == []


def test_reindex_writes_the_document_again_from_its_original(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    first = index.ingest_file(write(tmp_path / "a.md", "# Parkeren\n\nEen parkeervergunning kost veertig euro."))
    again = index.reindex(first.doc_id)
    assert again.status == "new" and again.doc_id == first.doc_id and again.chunks == first.chunks
    assert [d.doc_id for d in index.documents()] == [first.doc_id] and index.chunk_count() == first.chunks
    assert index.search("parkeervergunning", 3, min_score=0.1)[0].doc_id == first.doc_id


def test_a_reindex_that_fails_leaves_the_document_as_it_was(tmp_path: Path) -> None:
    from core.errors import DocumentError

    index = make_index(tmp_path)
    first = index.ingest_file(write(tmp_path / "a.md", "# Parkeren\n\nEen parkeervergunning kost veertig euro."))

    def refuse(data, name):
        raise DocumentError("de parser weigert dit bestand nu")

    index._parser.parse = refuse  # type: ignore[method-assign]
    outcome = index.reindex(first.doc_id)
    assert outcome.status == "failed" and "weigert" in (outcome.error or "")

    def explode(texts):
        raise RuntimeError("disk full")

    del index._parser.parse
    index.embedder.embed_passages = explode  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        index.reindex(first.doc_id)
    assert [d.doc_id for d in index.documents()] == [first.doc_id] and index.chunk_count() == first.chunks
    assert index.original(first.doc_id).exists()
