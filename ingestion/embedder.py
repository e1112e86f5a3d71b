"""The Embedder seam: sentence-transformers for real, a hashing fake for fast tests."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from core.errors import BackendUnavailable, ModelError

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into unit-length vectors; counts word pieces so chunks fit its window."""

    name: str
    max_tokens: int

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for document chunks."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector for one question."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text`` (without special tokens)."""
        ...


class SentenceTransformerEmbedder:
    """Any sentence-transformers model directory, loaded once, on the CPU, fully offline."""

    def __init__(self, path: Path, *, name: str, batch_size: int = 32, query_prefix: str = "",
                 passage_prefix: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the embedding model at {path}: {exc}") from exc
        self.name = name
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer
        self._batch_size = batch_size
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._lock = threading.Lock()  # torch inference is thread-safe, the tokenizer's truncation state is not

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for document chunks, in batches."""
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        """The vector for one question."""
        return self._encode([self._query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens."""
        return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def _encode(self, texts: list[str]) -> list[list[float]]:
        try:
            with self._lock:
                vectors = self._model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False)
        except RuntimeError as exc:
            raise BackendUnavailable(f"embedding failed: {exc}") from exc
        return vectors.tolist()


class FakeEmbedder:
    """Deterministic bag-of-words hashing vectors: similar words give similar vectors; for fast tests."""

    def __init__(self, dimensions: int = 256, max_tokens: int = 256) -> None:
        self.name = "fake-embedder"
        self.max_tokens = max_tokens
        self._dimensions = dimensions

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for document chunks."""
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """The vector for one question."""
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        """One token per word or punctuation mark."""
        return len(re.findall(r"\w+|[^\w\s]", text))

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimensions
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dimensions] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
