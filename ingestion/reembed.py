"""Which embedder an index was built with, and re-embedding an index into another one.

Every index records its embedder (name and dimension, `EmbedderRecord`) at its first write; a process whose
embedder differs is refused before it searches or writes (`check_embedder`), so vectors of two models never
mix. `reembed` builds the index for a new embedder beside the active one (the store's next generation): it
copies every chunk's text and metadata with a new vector, in batches, resuming what a killed run left, then
catches up with chunks added or removed meanwhile, and switches in one write only when the copy is complete.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import ConfigurationError
from ingestion.chunker import embed_text
from ingestion.embedder import Embedder
from ingestion.store import ChunkBatch, EmbedderRecord, VectorStore

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
CATCH_UP_ROUNDS = 3


def record_of(embedder: Embedder) -> EmbedderRecord:
    """The record an index built with ``embedder`` carries."""
    return EmbedderRecord(embedder.name, embedder.dimension)


def check_embedder(store: VectorStore, embedder: Embedder, *, writing: bool) -> bool:
    """True when ``store`` may be used with ``embedder``; raises ConfigurationError (Dutch, with the fix) when
    it was built with another. An index without a record gets this one's when it is first written to."""
    recorded = store.embedder()
    if recorded is None:
        if writing:
            store.record_embedder(record_of(embedder))
        return writing
    mine = record_of(embedder)
    if recorded != mine:
        raise ConfigurationError(
            f"de index is gebouwd met embedder {recorded.name} ({recorded.dimension} dimensies), maar ingesteld is"
            f" {mine.name} ({mine.dimension} dimensies). Zet BAKEN_EMBEDDINGS__MODEL (of __REMOTE_MODEL) terug"
            f" op {recorded.name}, of bouw de index om met `baken index reembed --model {mine.name}`")
    return True


class Generations(VectorStore, Protocol):
    """A store that can build a next generation beside the active one and switch to it (`ChromaStore`)."""

    @property
    def generation(self) -> str:
        """The name of the generation that holds the chunks."""
        ...

    def ids(self) -> set[str]:
        """Every stored chunk id."""
        ...

    def delete_ids(self, ids: Sequence[str]) -> None:
        """Remove these chunks."""
        ...

    def staging(self, record: EmbedderRecord) -> Generations:
        """The generation being built for ``record`` (resumed when a run for it was killed)."""
        ...

    def activate(self, staging: Any) -> str | None:
        """Switch to ``staging``; returns the replaced generation."""
        ...


@dataclass(frozen=True)
class Reembedded:
    """What `reembed` did: the generations, how many chunks it embedded now and how many a killed run had."""

    replaced: str | None
    active: str
    chunks: int
    embedded: int
    resumed: int


def reembed(store: Generations, embedder: Embedder, progress: Progress | None = None,
            batch_size: int = 256) -> Reembedded:
    """Copy every chunk of ``store`` into its next generation with ``embedder``'s vectors, then switch to it."""
    staging = store.staging(record_of(embedder))
    done = staging.ids()
    resumed, embedded, total = len(done), 0, store.count()
    if progress:
        progress(len(done), total)
    for _ in range(CATCH_UP_ROUNDS):
        wanted = store.ids()
        gone = done - wanted  # deleted from the active generation meanwhile
        if gone:
            staging.delete_ids(sorted(gone))
            done -= gone
        missing = wanted - done
        if not missing:
            break
        for batch in _batches(store, missing, batch_size):
            texts = [embed_text(str(m.get("title", "")), str(m.get("heading", "")), int(m.get("page") or 0) or None, t)
                     for t, m in zip(batch.texts, batch.metadatas)]
            staging.add(batch.ids, embedder.embed_passages(texts), batch.texts, batch.metadatas)
            done |= set(batch.ids)
            embedded += len(batch.ids)
            if progress:
                progress(len(done), max(total, len(done)))
    else:
        raise ConfigurationError("de index verandert sneller dan hij omgebouwd wordt: stop het indexeren (of de"
                                 " server) en probeer `baken index reembed` opnieuw; hij gaat verder waar hij was")
    replaced = store.activate(staging)
    logger.info("index re-embedded with %s: %d chunks (%d resumed)", embedder.name, len(done), resumed)
    return Reembedded(replaced, staging.generation, len(done), embedded, resumed)


def _batches(store: Generations, ids: set[str], size: int) -> Iterator[ChunkBatch]:
    """The stored chunks with these ids, ``size`` at a time, with text and metadata (their vectors unused)."""
    for batch in store.chunks(batch_size=size):
        keep = [i for i, chunk_id in enumerate(batch.ids) if chunk_id in ids]
        if keep:
            yield ChunkBatch([batch.ids[i] for i in keep], [], [batch.texts[i] for i in keep],
                             [batch.metadatas[i] for i in keep])
