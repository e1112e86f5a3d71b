"""The index service: ingest, replace, delete and search documents; keeps registry, store and files in step.

Crash safety: a document is registered as `indexing` before its first chunk is written and published
(`ready`) only after its last, in one registry transaction that also retires the version it replaces.
`recover()`, run at every start, removes whatever a killed process left half-way.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from baken.errors import DocumentError, NotFound
from baken.settings import IngestionSettings
from ingestion.chunker import chunk_document
from ingestion.document import Chunk
from ingestion.embedder import Embedder
from ingestion.parsers import parse
from ingestion.registry import DocumentRecord, Registry, now
from ingestion.store import VectorStore

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


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
class Hit:
    """A retrieved chunk with its document and similarity score."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading: str
    page: int | None
    score: float
    text: str


class Index:
    """Documents in, chunks searchable; the one owner of registry, vector store and stored originals."""

    def __init__(self, embedder: Embedder, store: VectorStore, registry: Registry, files_dir: Path,
                 settings: IngestionSettings) -> None:
        self.embedder = embedder
        self._store = store
        self._registry = registry
        self._files = files_dir
        self._settings = settings
        self._files.mkdir(parents=True, exist_ok=True)
        self.recover()

    # --- reading ---------------------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        """Every indexed (ready) document."""
        return self._registry.list()

    def find(self, reference: str) -> DocumentRecord:
        """A ready document by id, unique id prefix (≥ 6 characters) or source."""
        matches = [d for d in self._registry.list()
                   if d.source == reference or d.doc_id == reference
                   or (len(reference) >= 6 and d.doc_id.startswith(reference))]
        if len(matches) != 1:
            reason = "no document" if not matches else f"{len(matches)} documents"
            raise NotFound(f"{reason} matches {reference!r}; see `baken documents list`")
        return matches[0]

    def original(self, doc_id: str) -> Path:
        """The stored copy of a document's original file."""
        record = self._registry.get(doc_id)
        if record is None or record.stored_path is None:
            raise NotFound(f"no stored file for document {doc_id}")
        return self._files / record.stored_path

    def chunk_count(self) -> int:
        """Chunks in the vector store."""
        return self._store.count()

    def search(self, query: str, k: int, min_score: float) -> list[Hit]:
        """The ``k`` best chunks of ready documents scoring at least ``min_score``."""
        vector = self.embedder.embed_query(query)
        ready = self._registry.ready_ids()
        hits = []
        for stored in self._store.query(vector, k * 3):
            meta = stored.metadata
            if meta.get("doc_id") not in ready or stored.score < min_score:
                continue
            hits.append(Hit(chunk_id=stored.id, doc_id=str(meta["doc_id"]), source=str(meta.get("source", "")),
                            title=str(meta.get("title", "")), heading=str(meta.get("heading", "")),
                            page=int(meta.get("page") or 0) or None, score=round(stored.score, 4),
                            text=stored.text))
        return hits[:k]

    # --- writing ---------------------------------------------------------------------------------------

    def ingest_file(self, path: Path, progress: Progress | None = None) -> IngestOutcome:
        """Index one file from disk; its source key is its absolute path."""
        source = str(path.resolve())
        try:
            size = path.stat().st_size
            self._check_size(size)
            data = path.read_bytes()
        except DocumentError as exc:
            return IngestOutcome(source, "failed", error=str(exc))
        except OSError as exc:
            return IngestOutcome(source, "failed", error=f"cannot read: {exc.strerror or exc}")
        return self.ingest_bytes(data, path.name, source, progress)

    def ingest_bytes(self, data: bytes, name: str, source: str, progress: Progress | None = None) -> IngestOutcome:
        """Index a document given as bytes; unchanged content does no work; failures leave the index as it was."""
        try:
            self._check_size(len(data))
            doc_id = hashlib.sha256(data).hexdigest()
            existing = self._registry.get(doc_id)
            if existing is not None and existing.status == "ready":
                return IngestOutcome(source, "unchanged", doc_id, existing.title, existing.chunks)
            document = parse(data, name)
            chunks = chunk_document(document, doc_id, self.embedder.count_tokens,
                                    min(self._settings.chunk_tokens, self.embedder.max_tokens - 2),
                                    self._settings.chunk_overlap)
        except DocumentError as exc:
            return IngestOutcome(source, "failed", error=str(exc))
        replaced = any(d.source == source for d in self._registry.list())
        stored_name = doc_id + Path(name).suffix.lower()[:10]
        record = DocumentRecord(doc_id, source, name, document.title, document.kind, len(data), len(chunks),
                                "indexing", stored_name, now())
        self._registry.begin(record)
        try:
            self._write_original(stored_name, data)
            self._add_chunks(chunks, source, progress)
            for old in self._registry.publish(doc_id, len(chunks)):
                self._purge(old)
        except BaseException:
            self._purge(doc_id)
            raise
        logger.info("indexed %s as %s (%d chunks)", source, doc_id[:12], len(chunks))
        return IngestOutcome(source, "replaced" if replaced else "new", doc_id, document.title, len(chunks))

    def delete(self, doc_id: str) -> DocumentRecord:
        """Remove a document: hidden from search at once, then its chunks and stored file are removed."""
        record = self._registry.get(doc_id)
        if record is None:
            raise NotFound(f"no document {doc_id}")
        self._registry.mark_deleting(doc_id)
        self._purge(doc_id)
        return record

    def recover(self) -> int:
        """Remove documents a killed process left `indexing` or `deleting`; returns how many."""
        unfinished = self._registry.unfinished()
        for record in unfinished:
            logger.warning("removing half-indexed document %s (%s)", record.doc_id[:12], record.source)
            self._purge(record.doc_id)
        return len(unfinished)

    def _check_size(self, size: int) -> None:
        limit = self._settings.max_file_mb * 1024 * 1024
        if size > limit:
            raise DocumentError(f"file is {size / 1024 / 1024:.0f} MB, over the {self._settings.max_file_mb} MB"
                                " limit (BAKEN_INGESTION__MAX_FILE_MB)")

    def _add_chunks(self, chunks: list[Chunk], source: str, progress: Progress | None) -> None:
        batch = 64
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            vectors = self.embedder.embed_passages([c.embed_text for c in part])
            self._store.add([c.id for c in part], vectors, [c.text for c in part],
                            [{"doc_id": c.doc_id, "source": source, "title": c.title, "heading": c.heading,
                              "page": c.page or 0, "ordinal": c.ordinal} for c in part])
            if progress:
                progress(min(start + batch, len(chunks)), len(chunks))

    def _write_original(self, stored_name: str, data: bytes) -> None:
        target = self._files / stored_name
        temporary = target.with_suffix(target.suffix + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def _purge(self, doc_id: str) -> None:
        """Chunks, stored file, then the registry row: the row goes last so a crash here is retried."""
        record = self._registry.get(doc_id)
        self._store.delete_document(doc_id)
        if record is not None and record.stored_path:
            still_used = any(d.stored_path == record.stored_path and d.doc_id != doc_id
                             for d in self._registry.list(None))
            if not still_used:
                (self._files / record.stored_path).unlink(missing_ok=True)
        self._registry.remove(doc_id)
