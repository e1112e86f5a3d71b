"""The OpenVINO embedding backend: the sentence-transformers model exported to an OpenVINO graph (transformer,
mean pooling and normalisation in one graph) when models are provisioned (`ingestion.openvino_export`), run
on the CPU with the model's own tokenizer; no torch at run time.

``variant`` is ``fp32`` (the exported weights; on a CPU with bfloat16 instructions OpenVINO computes in
bfloat16 unless told otherwise) or ``int8`` (statically quantised with NNCF at provisioning time). Texts are
sorted by length before they are batched, so a batch pads to texts of about its own length.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openvino as ov

from core.errors import BackendUnavailable, ModelError
from ingestion.wordpieces import WordPieces

logger = logging.getLogger(__name__)
VARIANTS = {"fp32": "model.xml", "int8": "model_int8.xml"}


class OpenVINOEmbedder:
    """An exported model directory (``EXPORT_DIR`` of a provisioned embedder) run by OpenVINO on the CPU."""

    def __init__(self, export_dir: Path, *, name: str, variant: str = "int8", batch_size: int = 32,
                 query_prefix: str = "", passage_prefix: str = "", threads: int = 0) -> None:
        graph = export_dir / VARIANTS[variant]
        if not graph.exists():
            raise ModelError(f"the OpenVINO export of {name} is missing at {graph}: run `baken models provision`")
        self.manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
        config: dict[str, str | int] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            self._compiled = ov.Core().compile_model(str(graph), "CPU", config)
        except RuntimeError as exc:
            raise ModelError(f"OpenVINO cannot load {graph}: {exc}") from exc
        self._words = WordPieces(export_dir)
        self.name = name
        self.variant = variant
        self.max_tokens = self._words.max_tokens
        self.dimension = int(self.manifest["dimension"])
        self._batch_size = batch_size
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._lock = threading.Lock()  # one infer request at a time: the compiled model's default request

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for document chunks, batched by length."""
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        """The vector for one question."""
        return self._encode([self._query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens."""
        return self._words.count(text)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        try:
            with self._lock:
                for start in range(0, len(order), self._batch_size):
                    rows = order[start:start + self._batch_size]
                    out[rows] = self._compiled(self._words.batch([texts[i] for i in rows]))[0]
        except RuntimeError as exc:
            raise BackendUnavailable(f"embedding failed: {exc}") from exc
        return out.tolist()
