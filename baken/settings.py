"""All of Baken's settings: one pydantic-settings object, read from BAKEN_* variables, built once per process.

Nested sections are set with a double underscore: ``BAKEN_LLM__N_CTX=8192``, ``BAKEN_RETRIEVAL__TOP_K=6``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMSettings(BaseModel):
    """The generating model."""

    model: str = Field(
        "smollm2-135m-instruct",
        description="A catalogue name (see `baken models list`) or the path of any GGUF file.",
    )
    n_ctx: int = Field(4096, ge=512, description="Context window in tokens; prompts are trimmed to fit.")
    n_threads: int = Field(0, ge=0, description="CPU threads for llama.cpp; 0 means all cores.")
    n_batch: int = Field(512, ge=32, description="Prompt-processing batch size in tokens.")
    max_tokens: int = Field(384, ge=16, description="Most tokens generated for one answer.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int = Field(42, description="Sampling seed, so that answers are reproducible.")
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0, description="Penalty on repeating recent tokens.")


class EmbeddingSettings(BaseModel):
    """The embedding model."""

    model: str = Field(
        "all-minilm-l6-v2",
        description="A catalogue name or the path of any sentence-transformers model directory.",
    )
    batch_size: int = Field(32, ge=1, description="Chunks embedded per batch.")


class IngestionSettings(BaseModel):
    """Reading and chunking documents."""

    chunk_tokens: int = Field(
        200, ge=32, description="Most word pieces per chunk, including its title line; below the embedder's window."
    )
    chunk_overlap: int = Field(40, ge=0, description="Word pieces repeated from the end of the previous chunk.")
    max_file_mb: int = Field(50, ge=1, description="Largest file accepted, in MB.")


class RetrievalSettings(BaseModel):
    """Finding sources for a question."""

    top_k: int = Field(4, ge=1, le=50, description="Most sources given to the model.")
    min_score: float = Field(
        0.25, ge=-1.0, le=1.0, description="Cosine similarity under which a hit is not relevant."
    )


def _default_data_dir() -> Path:
    return Path("data")


class Settings(BaseSettings):
    """Every setting of Baken; defaults are the embedded, single-machine ones."""

    model_config = SettingsConfigDict(env_prefix="BAKEN_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Everything Baken writes lives here.")
    models_dir: Path | None = Field(
        None, description="Where provisioned models live; defaults to DATA_DIR/models."
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    ingestion: IngestionSettings = Field(default_factory=IngestionSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)

    @property
    def model_dir(self) -> Path:
        """The directory that holds provisioned models."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def threads(self) -> int:
        """Threads for llama.cpp: the setting, or every core."""
        return self.llm.n_threads or os.cpu_count() or 1
