"""Lexical sync: the BM25 index is per host, the registry and the vector store may be shared; this keeps the
one in step with the others.

During search (`catch_up`): documents another process or host published are loaded from the lexical
directory or rebuilt from the vector store's chunk texts, documents deleted elsewhere are dropped (with any
local copy of their original). At start (`sync`, from `Index.recover`): entries of documents that are not
ready are dropped and missing ones rebuilt, which repairs a lost, stale or older-version lexical index.
"""

from __future__ import annotations

import logging

from ingestion.files import Originals
from ingestion.lexical import LexicalIndex, lexical_text
from ingestion.registry import Registry
from ingestion.store import VectorStore

logger = logging.getLogger(__name__)


class LexicalSync:
    """Brings one host's lexical index in step with the registry's ready documents."""

    def __init__(self, registry: Registry, store: VectorStore, lexical: LexicalIndex, originals: Originals) -> None:
        self._registry = registry
        self._store = store
        self._lexical = lexical
        self._originals = originals

    def catch_up(self, ready: set[str]) -> None:
        """Bring the lexical index in step with ``ready`` during search: documents another process or host
        published are loaded from the lexical directory or rebuilt, those deleted elsewhere are dropped."""
        held = self._lexical.doc_ids()
        if held - ready:
            self.drop_extras(held - ready, prune=True)
        missing = ready - held
        if missing:
            rebuilt = sorted(missing - self._lexical.load_documents(missing))
            for doc_id in rebuilt:
                self.rebuild(doc_id)
            if rebuilt:
                logger.info("lexical index: rebuilt %d documents published elsewhere", len(rebuilt))


    def drop_extras(self, extra: set[str], prune: bool = False) -> set[str]:
        """Drop the lexical entries among ``extra`` whose document is neither ready nor being indexed (read
        again now: a document may have been published meanwhile); return those dropped."""
        rows = self._registry.list(None)
        dropped = extra - {r.doc_id for r in rows if r.status in ("ready", "indexing")}
        for doc_id in sorted(dropped):
            logger.info("lexical index: dropping %s, which is not a ready document", doc_id[:12])
            self._lexical.remove_document(doc_id)
        if dropped and prune:  # deleted by another host: any local copy of its original goes too
            self._originals.prune({r.stored_path for r in rows if r.stored_path})
        return dropped


    def rebuild(self, doc_id: str) -> None:
        """A document's lexical entries, rebuilt from its chunk texts in the vector store."""
        chunks = self._store.document_chunks(doc_id)
        self._lexical.add_document(doc_id, [c.id for c in chunks],
                                   [lexical_text(c.text, str(c.metadata.get("title", "")),
                                                 str(c.metadata.get("heading", ""))) for c in chunks])


    def sync(self) -> int:
        """Drop lexical entries of documents that are not ready; rebuild missing ones from the vector store."""
        ready, held = self._registry.ready_ids(), self._lexical.doc_ids()
        dropped = self.drop_extras(held - ready) if held - ready else set()
        missing = ready - held
        for doc_id in sorted(missing):
            self.rebuild(doc_id)
        if missing:
            logger.warning("lexical index: rebuilt %d documents from the vector store", len(missing))
        return len(dropped) + len(missing)
