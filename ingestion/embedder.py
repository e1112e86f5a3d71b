"""The Embedder seam: sentence-transformers (torch) for real, a hashing fake for fast tests; and the model as one
graph for the OpenVINO export (`pooled_graph`). The other real backends: `ingestion.openvino_embedder`,
`ingestion.remote_embedder`."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from core.errors import BackendUnavailable, ModelError

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into unit-length vectors; counts word pieces so chunks fit its window."""

    name: str
    max_tokens: int

    @property
    def dimension(self) -> int:
        """The length of every vector (an attribute or a property of an adapter)."""
        ...

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
        self.dimension = int(self._model.get_embedding_dimension() or 0)
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


def pooled_graph(path: Path) -> tuple[Any, dict[str, Any], int]:
    """The model at ``path`` as one torch module (transformer, mean pooling, normalisation), an example input
    and its dimension: what `ingestion.openvino_export` converts. Only a mean-pooling BERT-like model fits."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return pooled_module(model, path.name)


def pooled_module(model: Any, name: str = "the model") -> tuple[Any, dict[str, Any], int]:
    """A loaded SentenceTransformer as one torch module (transformer, mean pooling, normalisation), an example
    input and its dimension (also what bench.ingest exports to ONNX)."""
    import torch

    pooling = model[1] if len(model) > 1 else None
    if getattr(pooling, "pooling_mode", None) not in ("mean", ("mean",)) or len(model) > 3:
        raise ModelError(f"{name}: only a transformer with mean pooling can be exported to OpenVINO")

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: Any) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = model.tokenizer(["een zin", "nog een wat langere zin"], padding=True, return_tensors="pt")
    example = {name: sample[name] for name in ("input_ids", "attention_mask", "token_type_ids")}
    return Pooled(model[0].auto_model).eval(), example, int(model.get_embedding_dimension() or 0)


class FakeEmbedder:
    """Deterministic bag-of-words hashing vectors: similar words give similar vectors; for fast tests."""

    def __init__(self, dimensions: int = 256, max_tokens: int = 256) -> None:
        self.name = "fake-embedder"
        self.max_tokens = max_tokens
        self.dimension = dimensions
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
