"""The VectorStore seam: Chroma (the only module that imports chromadb) and an in-memory fake."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from baken.errors import BackendUnavailable

logger = logging.getLogger(__name__)
COLLECTION = "baken_chunks"


@dataclass(frozen=True)
class StoredHit:
    """One nearest neighbour: its id, cosine similarity, text and metadata."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any]


class VectorStore(Protocol):
    """Where chunk vectors live."""

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Add (or overwrite) chunks."""
        ...

    def query(self, vector: Sequence[float], k: int) -> list[StoredHit]:
        """The ``k`` nearest chunks by cosine similarity, best first."""
        ...

    def delete_document(self, doc_id: str) -> None:
        """Remove every chunk whose metadata ``doc_id`` matches."""
        ...

    def count(self) -> int:
        """Chunks stored."""
        ...


class ChromaStore:
    """Embedded Chroma (PersistentClient) with cosine space; telemetry off and no embedding function of its own."""

    def __init__(self, path: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        try:
            self._client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
            self._collection = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self._max_batch = int(self._client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many types when its files are unusable
            raise BackendUnavailable(f"cannot open the index at {path}: {exc}") from exc

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Upsert chunks in batches under Chroma's max batch size."""
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(ids=list(ids[start:end]), embeddings=[list(v) for v in vectors[start:end]],
                                    documents=list(texts[start:end]), metadatas=list(metadatas[start:end]))

    def query(self, vector: Sequence[float], k: int) -> list[StoredHit]:
        """The ``k`` nearest chunks; Chroma's cosine distance is turned into similarity."""
        count = self._collection.count()
        if count == 0:
            return []
        result = self._collection.query(query_embeddings=[list(vector)], n_results=min(k, count),
                                        include=["documents", "metadatas", "distances"])
        return [
            StoredHit(id=i, score=1.0 - float(d), text=t or "", metadata=dict(m or {}))
            for i, d, t, m in zip(result["ids"][0], result["distances"][0], result["documents"][0],
                                  result["metadatas"][0])
        ]

    def delete_document(self, doc_id: str) -> None:
        """Remove a document's chunks."""
        self._collection.delete(where={"doc_id": doc_id})

    def count(self) -> int:
        """Chunks stored."""
        return self._collection.count()


class FakeStore:
    """Exact cosine search over a dict; for fast tests of the services above it."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[list[float], str, dict[str, Any]]] = {}

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        """Add (or overwrite) chunks."""
        for i, v, t, m in zip(ids, vectors, texts, metadatas):
            self._rows[i] = (list(v), t, dict(m))

    def query(self, vector: Sequence[float], k: int) -> list[StoredHit]:
        """Exact nearest neighbours."""
        def cosine(other: list[float]) -> float:
            dot = sum(a * b for a, b in zip(vector, other))
            norm = math.sqrt(sum(a * a for a in vector)) * math.sqrt(sum(b * b for b in other))
            return dot / norm if norm else 0.0

        scored = sorted(((cosine(v), i, t, m) for i, (v, t, m) in self._rows.items()), reverse=True)[:k]
        return [StoredHit(id=i, score=s, text=t, metadata=m) for s, i, t, m in scored]

    def delete_document(self, doc_id: str) -> None:
        """Remove a document's chunks."""
        self._rows = {i: row for i, row in self._rows.items() if row[2].get("doc_id") != doc_id}

    def count(self) -> int:
        """Chunks stored."""
        return len(self._rows)
