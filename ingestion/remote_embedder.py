"""The remote embedding backend: an OpenAI-compatible ``/v1/embeddings`` server (vLLM, llama.cpp's server,
Infinity, TEI). Batches of ``batch_size`` texts, each retried with doubling back-off when the server cannot be
reached or answers 5xx/429; a server that answers for another model, or with vectors of another dimension
than the first, is refused (`ConfigurationError`), so an index never mixes two embedders.

Chunking needs word pieces: they are counted with the tokenizer of a local model directory when one is given
(the catalogue's copy of the same model), else estimated at one per three characters, which over-counts
ordinary text and so keeps chunks inside the window.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from core.errors import BackendUnavailable, ConfigurationError
from core.urls import v1_base
from ingestion.settings import EmbeddingSettings
from ingestion.wordpieces import WordPieces

logger = logging.getLogger(__name__)
CHARS_PER_PIECE = 3  # the estimate without a tokenizer: MiniLM's word pieces average 4-5 characters of Dutch
RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class OpenAIEmbedder:
    """Embeddings from a server over HTTP; ``name`` is the model name asked for and recorded in the index."""

    def __init__(self, url: str, *, model: str, api_key: str | None = None, batch_size: int = 32,
                 timeout_s: float = 60.0, retries: int = 3, retry_backoff_s: float = 0.5,
                 tokenizer_dir: Path | None = None, max_tokens: int = 256, query_prefix: str = "",
                 passage_prefix: str = "", transport: httpx.BaseTransport | None = None) -> None:
        self.base = v1_base(url)
        self.name = model
        self._batch_size = batch_size
        self._retries = retries
        self._backoff = retry_backoff_s
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
                                    transport=transport)
        self._words = WordPieces(tokenizer_dir) if tokenizer_dir else None
        self.max_tokens = self._words.max_tokens if self._words else max_tokens
        self._dimension: int | None = None

    @classmethod
    def from_settings(cls, settings: EmbeddingSettings, *, tokenizer_dir: Path | None = None, query_prefix: str = "",
                      passage_prefix: str = "") -> OpenAIEmbedder:
        """The adapter configured from the ``BAKEN_EMBEDDINGS__*`` remote fields."""
        if not settings.url:
            raise ConfigurationError("geen embeddingserver ingesteld (BAKEN_EMBEDDINGS__URL)")
        return cls(settings.url, model=settings.remote_model or settings.model,
                   api_key=settings.api_key.get_secret_value() if settings.api_key else None,
                   batch_size=settings.batch_size, timeout_s=settings.timeout_s, retries=settings.retries,
                   retry_backoff_s=settings.retry_backoff_s, tokenizer_dir=tokenizer_dir, query_prefix=query_prefix,
                   passage_prefix=passage_prefix)

    @property
    def dimension(self) -> int:
        """The length of the server's vectors (asked once, with a one-word text)."""
        if self._dimension is None:
            self._post(["dimensie"])
        assert self._dimension is not None
        return self._dimension

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for document chunks, ``batch_size`` per request."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors += self._post([self._passage_prefix + t for t in texts[start:start + self._batch_size]])
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """The vector for one question."""
        return self._post([self._query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text``: counted by the local tokenizer, else estimated (an over-count)."""
        return self._words.count(text) if self._words else math.ceil(len(text) / CHARS_PER_PIECE)

    def _post(self, texts: list[str]) -> list[list[float]]:
        body = {"model": self.name, "input": texts, "encoding_format": "float"}
        attempt = 0
        while True:
            try:
                response = self._client.post(f"{self.base}/embeddings", json=body)
                if response.status_code not in RETRY_STATUS:
                    break
                problem = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt >= self._retries:
                raise BackendUnavailable(f"de embeddingserver op {self.base} antwoordt niet ({problem}, na"
                                         f" {attempt + 1} pogingen)")
            wait = self._backoff * 2 ** attempt
            logger.warning("embedding server %s: %s; retrying in %.1f s", self.base, problem, wait)
            time.sleep(wait)
            attempt += 1
        if response.status_code >= 400:
            raise BackendUnavailable(f"de embeddingserver op {self.base} weigert het verzoek: HTTP"
                                     f" {response.status_code} {response.text[:200]}")
        return self._vectors(response.json(), len(texts))

    def _vectors(self, payload: Any, expected: int) -> list[list[float]]:
        try:
            rows = sorted(payload["data"], key=lambda row: int(row["index"]))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendUnavailable(f"de embeddingserver op {self.base} gaf een onleesbaar antwoord") from exc
        served = payload.get("model")
        if served and served != self.name and Path(str(served)).name != self.name:
            raise ConfigurationError(f"de embeddingserver op {self.base} antwoordt met model {served!r}, niet met"
                                     f" {self.name!r} (BAKEN_EMBEDDINGS__REMOTE_MODEL)")
        if len(vectors) != expected or any(len(v) != len(vectors[0]) for v in vectors):
            raise BackendUnavailable(f"de embeddingserver op {self.base} gaf {len(vectors)} vectoren voor"
                                     f" {expected} teksten")
        width = len(vectors[0])
        if self._dimension is None:
            self._dimension = width
        elif width != self._dimension:
            raise ConfigurationError(f"de embeddingserver op {self.base} geeft nu vectoren van {width} getallen,"
                                     f" eerder van {self._dimension}: is er een ander model geladen?")
        return [_unit(v) for v in vectors]


def _unit(vector: list[float]) -> list[float]:
    """Cosine search expects unit vectors; not every server normalises (llama.cpp's does not by default)."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
