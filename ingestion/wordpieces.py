"""A model's own tokenizer without torch: Hugging Face `tokenizers` over the model directory's tokenizer.json.

The only module that imports `tokenizers`. The OpenVINO embedder feeds its graph with it; the remote embedder
counts a chunk's word pieces with it, so chunks fit the remote model's window as they fit the local one's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from core.errors import ModelError


class WordPieces:
    """Counts and encodes texts as the model does: truncated at ``max_tokens`` word pieces plus special tokens."""

    def __init__(self, model_dir: Path) -> None:
        path = model_dir / "tokenizer.json"
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises its own Exception subclass for a missing or broken file
            raise ModelError(f"cannot read the tokenizer at {path}: {exc}") from exc
        self.max_tokens = max_seq_length(model_dir)
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._counting = self._tokenizer
        self._encoding = Tokenizer.from_str(self._tokenizer.to_str())  # own copy: truncation and padding set
        self._encoding.enable_truncation(self.max_tokens)
        pad = self._encoding.token_to_id("[PAD]")
        self._encoding.enable_padding(pad_id=0 if pad is None else pad)

    def count(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens."""
        return len(self._counting.encode(text, add_special_tokens=False).ids)

    def batch(self, texts: Sequence[str]) -> dict[str, Any]:
        """``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, padded to the longest) for a batch."""
        encoded = self._encoding.encode_batch(list(texts))
        return {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64)}


def max_seq_length(model_dir: Path, default: int = 256) -> int:
    """The sentence-transformers window of a model directory (``sentence_bert_config.json``), else ``default``."""
    config = model_dir / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length") or default)
    except (OSError, ValueError):
        return default
