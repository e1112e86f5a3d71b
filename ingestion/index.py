"""The document library: ingest, replace and delete documents, and `recover()`; keeps registry, store, lexical
index and files in step. Search is in `ingestion.search`, keeping the lexical index in step across hosts in
`ingestion.lexical_sync`; `Index` is the one service over all three.

Crash safety: a document is registered as `indexing` before its first chunk is written and published
(`ready`) only after its last, in one registry transaction that also retires the version it replaces.
`recover()`, run by whoever opens the index for writing at start (`baken serve`, `baken ingest`, `baken documents`;
not the constructor), removes whatever a killed process left half-way.

Two indexes hold every chunk: the vector store (dense) and the lexical index (BM25). A document's chunks go
into both before it is published and leave both before its registry row goes, so a crash between the two
writes leaves a row that `recover()` finishes. `recover()` also brings the lexical index in step with the
ready documents (`LexicalSync.sync`).

Several hosts may share the vector store (a Chroma server), the registry and the originals (PostgreSQL); the
lexical index stays per host and every search catches up with the others' work first. While it indexes a
document, this process's heartbeat (`Registry.touch`) tells the other hosts it is still at work.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError, NotFound
from ingestion.chunker import chunk_document
from ingestion.collection import OPEN, Collections
from ingestion.document import Chunk, ParsedDocument
from ingestion.embedder import Embedder
from ingestion.files import DirectoryOriginals, Originals
from ingestion.lexical import LexicalIndex, lexical_text
from ingestion.lexical_sync import LexicalSync
from ingestion.reembed import check_embedder
from ingestion.registry import DocumentRecord, Registry, now
from ingestion.sandbox import InProcessParser, Parser, SandboxLimits
from ingestion.search import CALIBRATED, COVERAGE_HITS, UNCALIBRATED, Retrieval, Search
from ingestion.settings import IngestionSettings, RetrievalSettings
from ingestion.source import Source
from ingestion.store import VectorStore

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
Hit = Source  # the old name of a search result, kept importable
__all__ = ["CALIBRATED", "COVERAGE_HITS", "UNCALIBRATED", "Hit", "Index", "IngestOutcome", "Retrieval", "Source"]


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file: new, replaced, unchanged or failed (with the reason)."""

    source: str
    status: str
    doc_id: str | None = None
    title: str = ""
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Prepared:
    """A parsed and chunked document, not yet written anywhere."""

    data: bytes
    name: str
    source: str
    doc_id: str
    document: ParsedDocument
    chunks: list[Chunk]
    collection: str = OPEN


class Index:
    """Documents in, chunks searchable; the one owner of registry, vector store and stored originals.

    ``files`` is where originals are stored: a directory, or an `Originals` store (e.g. in the shared database).
    ``parser`` parses each file (wiring gives the sandboxed one; the default parses in this process).
    """

    def __init__(self, embedder: Embedder, store: VectorStore, registry: Registry, files: Path | Originals,
                 settings: IngestionSettings, lexical: LexicalIndex | None = None,
                 retrieval: RetrievalSettings | None = None, parser: Parser | None = None) -> None:
        self.embedder = embedder
        self._parser = parser or InProcessParser(SandboxLimits.from_settings(settings))
        self._store = store
        self._registry = registry
        self._originals = DirectoryOriginals(files) if isinstance(files, Path) else files
        self._settings = settings
        # Default beside the originals (DATA/documents -> DATA/index/lexical) so older wiring still gets one.
        self._lexical = lexical or LexicalIndex(self._originals.directory.parent / "index" / "lexical")
        self._sync = LexicalSync(registry, store, self._lexical, self._originals)
        self._search = Search(embedder, store, registry, self._lexical, self._sync, retrieval or RetrievalSettings())
        self.collections = Collections(registry.database)
        self._embedder_checked = False

    def _check_embedder(self, *, writing: bool) -> None:
        """Refuse an index built with another embedder (ConfigurationError), once per process."""
        if not self._embedder_checked:
            self._embedder_checked = check_embedder(self._store, self.embedder, writing=writing)

    # --- reading ---------------------------------------------------------------------------------------

    def documents(self, collections: Collection[str] | None = None) -> list[DocumentRecord]:
        """Every indexed (ready) document, only those in ``collections`` when given."""
        return [d for d in self._registry.list() if collections is None or d.collection in collections]

    def find(self, reference: str, collections: Collection[str] | None = None) -> DocumentRecord:
        """A ready document (in ``collections``) by id, unique id prefix (≥ 6 characters) or source."""
        matches = [d for d in self.documents(collections)
                   if d.source == reference or d.doc_id == reference
                   or (len(reference) >= 6 and d.doc_id.startswith(reference))]
        if len(matches) != 1:
            reason = "no document" if not matches else f"{len(matches)} documents"
            raise NotFound(f"{reason} matches {reference!r}; see `baken documents list`")
        return matches[0]

    def readable(self, doc_id: str, collections: Collection[str] | None) -> bool:
        """Whether ``doc_id`` is a ready document in ``collections`` (None: any)."""
        record = self._registry.get(doc_id)
        return (record is not None and record.status == "ready"
                and (collections is None or record.collection in collections))

    def original(self, doc_id: str, collections: Collection[str] | None = None) -> Path:
        """A local file holding a document's original (fetched from a shared store when need be); NotFound
        when it is not in ``collections``, so a reader outside them cannot tell it exists."""
        record = self._registry.get(doc_id)
        if (record is None or record.stored_path is None
                or collections is not None and record.collection not in collections):
            raise NotFound(f"no stored file for document {doc_id}")
        return self._originals.path(record.stored_path)

    def check(self) -> None:
        """Raise BackendUnavailable if the vector store cannot be reached (for readiness probes)."""
        self._store.check()

    def chunk_count(self) -> int:
        """Chunks in the vector store."""
        return self._store.count()

    # --- searching (ingestion/search.py) -----------------------------------------------------------------

    @property
    def retrieval(self) -> RetrievalSettings:
        """The retrieval settings searches use (tests and bench/eval change them in place)."""
        return self._search.retrieval

    @retrieval.setter
    def retrieval(self, value: RetrievalSettings) -> None:
        self._search.retrieval = value

    def search(self, query: str, k: int, min_score: float | None = None, mode: str | None = None,
               collections: Collection[str] | None = None) -> list[Source]:
        """The ``k`` best chunks of ready documents in ``collections`` (None: all), or none when the question
        is not relevant enough (`Search.search`)."""
        self._check_embedder(writing=False)
        return self._search.search(query, k, min_score, mode, collections)

    def retrieve(self, query: str, k: int, mode: str | None = None,
                 collections: Collection[str] | None = None) -> Retrieval:
        """The ``k`` best chunks in ``collections`` with the two "has a source" signals (`Search.retrieve`)."""
        self._check_embedder(writing=False)
        return self._search.retrieve(query, k, mode, collections)

    def word_weights(self, words: Iterable[str]) -> dict[str, float]:
        """The IDF weight of each word in the lexical index (rare words weigh most), for evidence and checks."""
        return self._search.word_weights(words)

    def thresholds(self, min_score: float | None = None) -> tuple[float, float]:
        """The (cosine, coverage) relevance thresholds in force: the argument or settings, else calibrated."""
        return self._search.thresholds(min_score)

    def relevance(self, query: str, collections: Collection[str] | None = None) -> tuple[float, float]:
        """The two "has a source" signals of a question: best dense cosine and best lexical coverage."""
        self._check_embedder(writing=False)
        return self._search.relevance(query, collections)

    # --- writing ---------------------------------------------------------------------------------------

    def ingest_file(self, path: Path, progress: Progress | None = None, *, collection: str = OPEN) -> IngestOutcome:
        """Index one file from disk into ``collection``; its source key is its absolute path."""
        prepared = self._prepare_file(path, self.collections.require(collection))
        return prepared if isinstance(prepared, IngestOutcome) else self._commit(prepared, None, progress)

    def ingest_bytes(self, data: bytes, name: str, source: str, progress: Progress | None = None, *,
                     collection: str = OPEN) -> IngestOutcome:
        """Index a document given as bytes into ``collection``; unchanged content does no work (but moves to
        ``collection`` when it is elsewhere); failures leave the index as it was."""
        prepared = self._prepare(data, name, source, self.collections.require(collection))
        return prepared if isinstance(prepared, IngestOutcome) else self._commit(prepared, None, progress)

    def ingest_files(self, paths: list[Path], on_done: Callable[[Path, IngestOutcome], None] | None = None,
                     group_chunks: int = 256, *, collection: str = OPEN,
                     sources: list[str] | None = None) -> list[IngestOutcome]:
        """Index many files. The chunks of several files are embedded in one call, because the embedder pads
        less when it can sort more texts by length (measured ~25% faster), yet each document is still
        written and published on its own, so a crash or a failure touches only that document. ``sources``
        are the paths' source keys (default: each one's absolute path; folder sync gives `sync:…`)."""
        outcomes: dict[int, IngestOutcome] = {}
        group: list[tuple[int, Path, _Prepared]] = []
        collection = self.collections.require(collection)

        def flush() -> None:
            texts = [c.embed_text for _, _, p in group for c in p.chunks]
            vectors = self.embedder.embed_passages(texts) if texts else []
            offset = 0
            for position, path, prepared in group:
                own = vectors[offset:offset + len(prepared.chunks)]
                offset += len(prepared.chunks)
                outcomes[position] = self._commit(prepared, own, None)
                if on_done:
                    on_done(path, outcomes[position])
            group.clear()

        for position, path in enumerate(paths):
            prepared = self._prepare_file(path, collection, sources[position] if sources else None)
            if isinstance(prepared, _Prepared) and any(p.doc_id == prepared.doc_id for _, _, p in group):
                prepared = IngestOutcome(prepared.source, "unchanged", prepared.doc_id, prepared.document.title,
                                         len(prepared.chunks))  # the same content twice in one batch
            if isinstance(prepared, IngestOutcome):
                outcomes[position] = prepared
                if on_done:
                    on_done(path, prepared)
                continue
            group.append((position, path, prepared))
            if sum(len(p.chunks) for _, _, p in group) >= group_chunks:
                flush()
        flush()
        return [outcomes[i] for i in range(len(paths))]

    def _prepare_file(self, path: Path, collection: str, source: str | None = None) -> IngestOutcome | _Prepared:
        source = source or str(path.resolve())
        try:
            self._check_size(path.stat().st_size)
            data = path.read_bytes()
        except DocumentError as exc:
            return IngestOutcome(source, "failed", error=str(exc))
        except OSError as exc:
            return IngestOutcome(source, "failed", error=f"cannot read: {exc.strerror or exc}")
        return self._prepare(data, path.name, source, collection)

    def _prepare(self, data: bytes, name: str, source: str, collection: str,
                 again: bool = False) -> IngestOutcome | _Prepared:
        """Parse and chunk, or say why not (failed) or that there is nothing to do (unchanged, unless ``again``)."""
        try:
            self._check_size(len(data))
            doc_id = hashlib.sha256(data).hexdigest()
            existing = self._registry.get(doc_id)
            if existing is not None and existing.status == "ready" and not again:
                if existing.collection != collection:
                    self.move(doc_id, collection)
                return IngestOutcome(source, "unchanged", doc_id, existing.title, existing.chunks)
            document = self._parser.parse(data, name)
            chunks = chunk_document(document, doc_id, self.embedder.count_tokens,
                                    min(self._settings.chunk_tokens, self.embedder.max_tokens - 2),
                                    self._settings.chunk_overlap)
        except DocumentError as exc:
            return IngestOutcome(source, "failed", error=str(exc))
        return _Prepared(data, name, source, doc_id, document, chunks, collection)

    def _commit(self, prepared: _Prepared, vectors: list[list[float]] | None,
                progress: Progress | None) -> IngestOutcome:
        """Write one prepared document invisibly, then publish it (retiring the version it replaces)."""
        data, name, source, doc_id, document, chunks = (prepared.data, prepared.name, prepared.source,
                                                        prepared.doc_id, prepared.document, prepared.chunks)
        replaced = self._registry.has_ready(source)
        stored_name = doc_id + Path(name).suffix.lower()[:10]
        record = DocumentRecord(doc_id, source, name, document.title, document.kind, len(data), len(chunks),
                                "indexing", stored_name, now(), prepared.collection)
        if not self._registry.begin(record):  # published meanwhile, or another live process is indexing it
            existing = self._registry.get(doc_id)
            return IngestOutcome(source, "unchanged", doc_id, existing.title if existing else document.title,
                                 existing.chunks if existing else len(chunks))
        try:
            self._originals.write(stored_name, data)
            self._registry.touch(doc_id)
            self._add_chunks(chunks, source, prepared.collection, progress, vectors)
            self._lexical.add_document(doc_id, [c.id for c in chunks],
                                       [lexical_text(c.text, c.title, c.heading) for c in chunks])
            retired = self._registry.publish(doc_id, len(chunks))
        except BaseException:
            self._purge(doc_id)
            raise
        if retired is None:
            return self._lost(prepared, stored_name)
        for old in retired:
            self._purge(old)
        logger.info("indexed %s (%d chunks)", doc_id[:12], len(chunks))  # no source: it names the file
        return IngestOutcome(source, "replaced" if replaced else "new", doc_id, document.title, len(chunks))

    def _lost(self, prepared: _Prepared, stored_name: str) -> IngestOutcome:
        """This process was silent so long that another took its document for abandoned: leave that one's
        work alone, and clean up only when nobody owns the document any more."""
        logger.warning("indexing %s was taken over by another process", prepared.doc_id[:12])
        if self._registry.get(prepared.doc_id) is None:
            self._purge(prepared.doc_id)
            self._originals.delete(stored_name)
        return IngestOutcome(prepared.source, "failed", prepared.doc_id, prepared.document.title,
                             error="indexeren duurde te lang en is door een ander proces overgenomen; probeer het"
                                   " opnieuw")

    def reindex(self, doc_id: str, progress: Progress | None = None) -> IngestOutcome:
        """Index a ready document again from its stored original. It is parsed, chunked and embedded while the
        old version still serves; only then is that one removed and the new one written. A document that now
        fails (a stricter parser, a time-out) stays as it was: the outcome says why (NotFound if none)."""
        record = self.find(doc_id)
        data = self.original(doc_id).read_bytes()
        prepared = self._prepare(data, record.name, record.source, record.collection, again=True)
        if isinstance(prepared, IngestOutcome):
            return prepared
        if progress:
            progress(0, len(prepared.chunks))
        vectors = self.embedder.embed_passages([c.embed_text for c in prepared.chunks])
        self.delete(doc_id)
        return self._commit(prepared, vectors, progress)

    def delete(self, doc_id: str) -> DocumentRecord:
        """Remove a document: hidden from search at once, then its chunks and stored file are removed."""
        record = self._registry.get(doc_id)
        if record is None:
            raise NotFound(f"no document {doc_id}")
        self._registry.mark_deleting(doc_id)
        self._purge(doc_id)
        return record

    def move(self, doc_id: str, collection: str) -> DocumentRecord:
        """Put a document in another collection. Search follows at once: every hit is checked against the
        registry, changed first; then the chunks' own `collection` (what the vector store filters on) follows,
        and a move stopped between the two is finished by `recover()`."""
        collection = self.collections.require(collection)
        record = self._registry.get(doc_id)
        if record is None or record.status != "ready":
            raise NotFound(f"no document {doc_id}")
        self._registry.move(doc_id, collection)
        self._store.set_collection(doc_id, collection)
        self._registry.stamp(doc_id, collection)
        return record

    def start_parsing(self) -> None:
        """Start the parser ahead of the first file (the sandbox's worker), for a process that will ingest."""
        self._parser.start()

    def recover(self) -> int:
        """Remove documents a killed process left `indexing` or `deleting`, then bring the lexical index in
        step with the ready documents; returns how many documents were removed or repaired."""
        unfinished = self._registry.unfinished()
        for record in unfinished:
            logger.warning("removing half-indexed document %s", record.doc_id[:12])
            self._purge(record.doc_id)
        repaired = self._sync.sync()
        for record in self._registry.unstamped():  # indexed before collections, or a move stopped half-way
            self._store.set_collection(record.doc_id, record.collection)
            self._registry.stamp(record.doc_id, record.collection)
            repaired += 1
        self._originals.prune({r.stored_path for r in self._registry.list(None) if r.stored_path})
        return len(unfinished) + repaired

    def _check_size(self, size: int) -> None:
        limit = self._settings.max_file_mb * 1024 * 1024
        if size > limit:
            raise DocumentError(f"het bestand is {size / 1024 / 1024:.0f} MB, meer dan de grens van"
                                f" {self._settings.max_file_mb} MB (BAKEN_INGESTION__MAX_FILE_MB)")

    def _add_chunks(self, chunks: list[Chunk], source: str, collection: str, progress: Progress | None,
                    precomputed: list[list[float]] | None = None) -> None:
        self._check_embedder(writing=True)
        batch = 64
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            vectors = (precomputed[start:start + batch] if precomputed is not None
                       else self.embedder.embed_passages([c.embed_text for c in part]))
            self._store.add([c.id for c in part], vectors, [c.text for c in part],
                            [{"doc_id": c.doc_id, "source": source, "title": c.title, "heading": c.heading,
                              "page": c.page or 0, "ordinal": c.ordinal, "collection": collection} for c in part])
            self._registry.touch(part[0].doc_id)
            if progress:
                progress(min(start + batch, len(chunks)), len(chunks))

    def _purge(self, doc_id: str) -> None:
        """Chunks, stored file, then the registry row: the row goes last so a crash here is retried."""
        record = self._registry.get(doc_id)
        self._store.delete_document(doc_id)
        self._lexical.remove_document(doc_id)
        stored = record.stored_path if record is not None else None
        if stored and not self._registry.file_shared(stored, doc_id):
            self._originals.delete(stored)
        self._registry.remove(doc_id)


