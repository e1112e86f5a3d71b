"""The VectorStore seam: Chroma (the only module that imports chromadb) and an in-memory fake."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from core.errors import BackendUnavailable

logger = logging.getLogger(__name__)
COLLECTION = "baken_chunks"
ACTIVE, STAGING, PREVIOUS = "baken_active", "baken_staging", "baken_previous"  # the anchor's metadata keys
EMBEDDER, DIMENSION = "baken_embedder", "baken_dimension"  # a generation's metadata keys


@dataclass(frozen=True)
class StoredHit:
    """One nearest neighbour: its id, cosine similarity, text and metadata."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ChunkBatch:
    """Stored chunks in bulk, with their vectors: what `chunks()` yields and `add` takes, for copying a store."""

    ids: list[str]
    vectors: list[list[float]]
    texts: list[str]
    metadatas: list[dict[str, Any]]


@dataclass(frozen=True)
class EmbedderRecord:
    """Which embedder made an index's vectors: its name (catalogue name, directory name or served model) and
    dimension. An index is searched and written only with the embedder it records."""

    name: str
    dimension: int


class VectorStore(Protocol):
    """Where chunk vectors live."""

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Add (or overwrite) chunks."""
        ...

    def query(self, vector: Sequence[float], k: int, collections: Collection[str] | None = None) -> list[StoredHit]:
        """The ``k`` nearest chunks by cosine similarity, best first; only chunks whose metadata ``collection``
        is in ``collections`` when given (a filter inside the query, so ``k`` are found among those)."""
        ...

    def get(self, ids: Sequence[str]) -> list[StoredHit]:
        """The chunks with these ids (score 0.0), in the order asked; unknown ids are left out."""
        ...

    def document_chunks(self, doc_id: str) -> list[StoredHit]:
        """Every chunk whose metadata ``doc_id`` matches (score 0.0), by ``ordinal``."""
        ...

    def delete_document(self, doc_id: str) -> None:
        """Remove every chunk whose metadata ``doc_id`` matches."""
        ...

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Set the metadata ``collection`` of every chunk of the document."""
        ...

    def count(self) -> int:
        """Chunks stored."""
        ...

    def check(self) -> None:
        """Raise BackendUnavailable when the store cannot be reached (for /readyz)."""
        ...

    def chunks(self, batch_size: int = 1000) -> Iterator[ChunkBatch]:
        """Every stored chunk with its vector, text and metadata, at most ``batch_size`` at a time."""
        ...

    def embedder(self) -> EmbedderRecord | None:
        """The embedder the stored vectors were made with, when recorded."""
        ...

    def record_embedder(self, record: EmbedderRecord) -> None:
        """Record the embedder the stored vectors are made with."""
        ...


class ChromaStore:
    """Chroma with cosine space, embedded (PersistentClient at ``path``) or on a Chroma server (``connect``);
    telemetry off and no embedding function of its own.

    The configured collection is the anchor. Its metadata may name another collection (a generation,
    ``<anchor>.g<n>``) as the one that holds the chunks: a re-embedding builds the next generation beside the
    active one (``staging``) and switches with one metadata write (``activate``), so every process that opens
    the store afterwards reads the new one, and a process killed half-way leaves the old one active.
    """

    def __init__(self, path: Path | None = None, *, url: str | None = None, token: str | None = None,
                 collection: str = COLLECTION) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if path is None and url is None:
            raise ValueError("ChromaStore needs a path or a url")
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        where = url or str(path)
        try:
            if url is not None:
                parts = urlsplit(url if "://" in url else f"http://{url}")
                self._client = chromadb.HttpClient(
                    host=parts.hostname or "127.0.0.1", ssl=parts.scheme == "https",
                    port=parts.port or (443 if parts.scheme == "https" else 8000),
                    headers={"Authorization": f"Bearer {token}"} if token else None,
                    settings=chroma_settings)
            elif path is not None:
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self._anchor = self._open(collection)
            active = self._meta(self._anchor).get(ACTIVE)
            self._collection = self._open(str(active)) if active else self._anchor
            self._max_batch = int(self._client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many types (ValueError too) when its files or server fail
            raise BackendUnavailable(f"cannot open the index at {where}: {exc}") from exc

    @classmethod
    def connect(cls, url: str, *, token: str | None = None, collection: str = COLLECTION) -> ChromaStore:
        """A store on a Chroma server (``chroma run``), e.g. ``http://chroma:8000``; shared by every process."""
        return cls(url=url, token=token, collection=collection)

    def _open(self, name: str) -> Any:
        return self._client.get_or_create_collection(name, embedding_function=None,
                                                     configuration={"hnsw": {"space": "cosine"}})

    @staticmethod
    def _meta(collection: Any) -> dict[str, Any]:
        return dict(collection.metadata or {})

    @property
    def generation(self) -> str:
        """The name of the Chroma collection that holds the chunks."""
        return str(self._collection.name)

    def embedder(self) -> EmbedderRecord | None:
        """The embedder recorded in the chunks' collection's metadata."""
        meta = self._meta(self._collection)
        return EmbedderRecord(str(meta[EMBEDDER]), int(meta[DIMENSION])) if EMBEDDER in meta else None

    def record_embedder(self, record: EmbedderRecord) -> None:
        """Record the embedder in the chunks' collection's metadata (Chroma replaces the whole metadata)."""
        self._collection.modify(metadata={**self._meta(self._collection), EMBEDDER: record.name,
                                          DIMENSION: record.dimension})

    def generations(self) -> dict[str, str]:
        """``active``, and ``staging`` / ``previous`` when there are: collection names, for `baken index status`."""
        meta, found = self._meta(self._anchor), {"active": self.generation}
        for key, label in ((STAGING, "staging"), (PREVIOUS, "previous")):
            if meta.get(key):
                found[label] = str(meta[key])
        return found

    def staging(self, record: EmbedderRecord) -> ChromaStore:
        """The generation being built for ``record``: the one a killed run left (resumed) when it was for the
        same embedder, else a new, empty one (an unfinished one for another embedder is dropped)."""
        meta = self._meta(self._anchor)
        name = meta.get(STAGING)
        if name:
            view = self._view(self._open(str(name)))
            if view.embedder() == record:
                return view
            self._drop(str(name))
        taken = [str(meta.get(k) or "") for k in (ACTIVE, STAGING, PREVIOUS)] + [self.generation]
        number = 1 + max((int(n.rsplit(".g", 1)[1]) for n in taken if ".g" in n and n.rsplit(".g", 1)[1].isdigit()),
                         default=0)
        view = self._view(self._open(f"{self._anchor.name}.g{number}"))
        view.record_embedder(record)
        self._anchor.modify(metadata={**meta, STAGING: view.generation})
        return view

    def activate(self, staging: ChromaStore) -> str | None:
        """Make ``staging`` the active generation (one metadata write) and drop the generation before the one
        it replaces; the replaced one is kept as ``previous`` (a process still running reads it until it is
        restarted). Returns the replaced generation's name."""
        meta = self._meta(self._anchor)
        replaced, older = self.generation, meta.get(PREVIOUS)
        meta = {k: v for k, v in meta.items() if k not in (STAGING, PREVIOUS)}
        self._anchor.modify(metadata={**meta, ACTIVE: staging.generation, PREVIOUS: replaced})
        if older and older not in (replaced, staging.generation):
            self._drop(str(older))
        self._collection = staging._collection
        return replaced

    def ids(self) -> set[str]:
        """Every stored chunk id."""
        return set(self._collection.get(include=[])["ids"])

    def delete_ids(self, ids: Sequence[str]) -> None:
        """Remove these chunks."""
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=list(ids[start:start + self._max_batch]))

    def _view(self, collection: Any) -> ChromaStore:
        view = copy.copy(self)
        view._collection = collection
        return view

    def _drop(self, name: str) -> None:
        if name == self._anchor.name:  # the anchor stays: it holds the pointer; only its chunks go
            ids = self._anchor.get(include=[])["ids"]
            for start in range(0, len(ids), self._max_batch):
                self._anchor.delete(ids=ids[start:start + self._max_batch])
            self._anchor.modify(metadata={k: v for k, v in self._meta(self._anchor).items()
                                          if k not in (EMBEDDER, DIMENSION)} or None)
        else:
            self._client.delete_collection(name)

    def check(self) -> None:
        """Raise BackendUnavailable when the index cannot be reached (for /readyz)."""
        try:
            self._client.heartbeat()
        except Exception as exc:  # connection errors of the HTTP client, or a closed embedded system
            raise BackendUnavailable(f"the index does not answer: {exc}") from exc

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Upsert chunks in batches under Chroma's max batch size."""
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(ids=list(ids[start:end]), embeddings=[list(v) for v in vectors[start:end]],
                                    documents=list(texts[start:end]), metadatas=list(metadatas[start:end]))

    def query(self, vector: Sequence[float], k: int, collections: Collection[str] | None = None) -> list[StoredHit]:
        """The ``k`` nearest chunks (in ``collections``, by Chroma's `where`); cosine distance turned into
        similarity."""
        # No count() first: it scans the collection (~6 ms at 100,000 chunks, measured in bench.retrieval);
        # chromadb >= 1.0 returns fewer results, or none, when k exceeds what it holds.
        where = None if collections is None else {"collection": {"$in": sorted(collections) or [""]}}
        result = self._collection.query(query_embeddings=[list(vector)], n_results=k, where=where,
                                        include=["documents", "metadatas", "distances"])
        return [
            StoredHit(id=i, score=1.0 - float(d), text=t or "", metadata=dict(m or {}))
            for i, d, t, m in zip(result["ids"][0], result["distances"][0], result["documents"][0],
                                  result["metadatas"][0])
        ]

    def get(self, ids: Sequence[str]) -> list[StoredHit]:
        """The chunks with these ids, in the order asked."""
        if not ids:
            return []
        result = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {i: StoredHit(id=i, score=0.0, text=t or "", metadata=dict(m or {}))
                 for i, t, m in zip(result["ids"], result["documents"], result["metadatas"])}
        return [found[i] for i in ids if i in found]

    def document_chunks(self, doc_id: str) -> list[StoredHit]:
        """A document's chunks, by ordinal."""
        result = self._collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        hits = [StoredHit(id=i, score=0.0, text=t or "", metadata=dict(m or {}))
                for i, t, m in zip(result["ids"], result["documents"], result["metadatas"])]
        return sorted(hits, key=lambda h: int(h.metadata.get("ordinal") or 0))

    def delete_document(self, doc_id: str) -> None:
        """Remove a document's chunks."""
        self._collection.delete(where={"doc_id": doc_id})

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Set the collection in the metadata of the document's chunks (Chroma merges the given keys)."""
        ids = self._collection.get(where={"doc_id": doc_id}, include=[])["ids"]
        for start in range(0, len(ids), self._max_batch):
            part = ids[start:start + self._max_batch]
            self._collection.update(ids=part, metadatas=[{"collection": collection}] * len(part))

    def count(self) -> int:
        """Chunks stored."""
        return self._collection.count()

    def chunks(self, batch_size: int = 1000) -> Iterator[ChunkBatch]:
        """Every stored chunk with its vector, text and metadata, at most ``batch_size`` at a time."""
        # The ids first, then pages of them: no reliance on Chroma keeping an order between paged reads.
        ids, step = self._collection.get(include=[])["ids"], min(batch_size, self._max_batch)
        for start in range(0, len(ids), step):
            result: Any = self._collection.get(ids=ids[start:start + step],
                                               include=["embeddings", "documents", "metadatas"])
            vectors = result["embeddings"]  # a numpy array: tolist() gives plain floats of the stored values
            yield ChunkBatch(list(result["ids"]),
                             vectors.tolist() if hasattr(vectors, "tolist") else [list(v) for v in vectors],
                             [t or "" for t in result["documents"]], [dict(m or {}) for m in result["metadatas"]])


class FakeStore:
    """Exact cosine search over a dict; for fast tests of the services above it."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[list[float], str, dict[str, Any]]] = {}
        self._embedder: EmbedderRecord | None = None

    def embedder(self) -> EmbedderRecord | None:
        """The embedder recorded."""
        return self._embedder

    def record_embedder(self, record: EmbedderRecord) -> None:
        """Record the embedder."""
        self._embedder = record

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Add (or overwrite) chunks."""
        for i, v, t, m in zip(ids, vectors, texts, metadatas):
            self._rows[i] = (list(v), t, dict(m))

    def query(self, vector: Sequence[float], k: int, collections: Collection[str] | None = None) -> list[StoredHit]:
        """Exact nearest neighbours (in ``collections`` when given)."""
        def cosine(other: list[float]) -> float:
            dot = sum(a * b for a, b in zip(vector, other))
            norm = math.sqrt(sum(a * a for a in vector)) * math.sqrt(sum(b * b for b in other))
            return dot / norm if norm else 0.0

        scored = sorted(((cosine(v), i, t, m) for i, (v, t, m) in self._rows.items()
                         if collections is None or m.get("collection") in collections), reverse=True)[:k]
        return [StoredHit(id=i, score=s, text=t, metadata=m) for s, i, t, m in scored]

    def get(self, ids: Sequence[str]) -> list[StoredHit]:
        """The chunks with these ids, in the order asked."""
        return [StoredHit(id=i, score=0.0, text=self._rows[i][1], metadata=dict(self._rows[i][2]))
                for i in ids if i in self._rows]

    def document_chunks(self, doc_id: str) -> list[StoredHit]:
        """A document's chunks, by ordinal."""
        hits = [StoredHit(id=i, score=0.0, text=t, metadata=dict(m))
                for i, (_, t, m) in self._rows.items() if m.get("doc_id") == doc_id]
        return sorted(hits, key=lambda h: int(h.metadata.get("ordinal") or 0))

    def delete_document(self, doc_id: str) -> None:
        """Remove a document's chunks."""
        self._rows = {i: row for i, row in self._rows.items() if row[2].get("doc_id") != doc_id}

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Set the collection in the metadata of the document's chunks."""
        for _, _, meta in self._rows.values():
            if meta.get("doc_id") == doc_id:
                meta["collection"] = collection

    def count(self) -> int:
        """Chunks stored."""
        return len(self._rows)

    def check(self) -> None:
        """Always reachable: it lives in this process."""

    def chunks(self, batch_size: int = 1000) -> Iterator[ChunkBatch]:
        """Every stored chunk with its vector, text and metadata, at most ``batch_size`` at a time."""
        rows = list(self._rows.items())
        for start in range(0, len(rows), batch_size):
            page = rows[start:start + batch_size]
            yield ChunkBatch([i for i, _ in page], [list(v) for _, (v, _, _) in page],
                             [t for _, (_, t, _) in page], [dict(m) for _, (_, _, m) in page])
