"""All of Baken's settings: one pydantic-settings object, read from BAKEN_* variables, built once per process.

Nested sections are set with a double underscore: ``BAKEN_LLM__N_CTX=8192``, ``BAKEN_RETRIEVAL__TOP_K=6``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.audit.settings import AuditSettings
from assistant.settings import AnswerSettings, LLMSettings
from core.database import DatabaseSettings
from core.logging_setup import LogSettings
from guardrails.settings import PiiSettings
from ingestion.settings import EmbeddingSettings, IndexSettings, IngestionSettings, RetrievalSettings
from web.settings import WebSettings


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
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @property
    def model_dir(self) -> Path:
        """The directory that holds provisioned models."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def database_dsn(self) -> str | None:
        """The shared-state PostgreSQL DSN, or None for SQLite under the data directory."""
        return self.database.dsn.get_secret_value() if self.database.dsn else None

    @property
    def audit_log(self) -> AuditSettings:
        """The audit settings in effect: the log follows the shared database unless it has a DSN of its own."""
        if self.audit.dsn is None and self.database.dsn is not None:
            return self.audit.model_copy(update={"dsn": self.database.dsn})
        return self.audit

    @property
    def threads(self) -> int:
        """Threads for llama.cpp: the setting, or every core."""
        return self.llm.n_threads or os.cpu_count() or 1
