"""All of Baken's settings: one pydantic-settings object, read from BAKEN_* variables, built once per process.

Nested sections are set with a double underscore: ``BAKEN_LLM__N_CTX=8192``, ``BAKEN_RETRIEVAL__TOP_K=6``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.audit.settings import AuditSettings
from assistant.remote_settings import RemoteLLMSettings
from assistant.settings import AnswerSettings
from baken.logging_setup import LogSettings
from guardrails.settings import PiiSettings
from web.settings import WebSettings


class LLMSettings(RemoteLLMSettings):
    """The generating model: in process (llama.cpp) or on an OpenAI-compatible server (the remote fields)."""

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
    query_prefix: str | None = Field(
        None, description="Text put before each question (E5: 'query: '); None takes the catalogue's, or none."
    )
    passage_prefix: str | None = Field(
        None, description="Text put before each chunk (E5: 'passage: '); None takes the catalogue's, or none."
    )


class IngestionSettings(BaseModel):
    """Reading and chunking documents."""

    chunk_tokens: int = Field(
        200, ge=32, description="Most word pieces per chunk, including its title line; below the embedder's window."
    )
    chunk_overlap: int = Field(40, ge=0, description="Word pieces repeated from the end of the previous chunk.")
    max_file_mb: int = Field(50, ge=1, description="Largest file accepted, in MB.")
    sandbox: bool = Field(
        True, description="Parse each file in a separate worker process under the limits below, so that a"
                          " hostile or broken file cannot freeze or kill the server; false parses in process.")
    parse_seconds: float = Field(60.0, gt=0, description="Wall-clock seconds one file may take to parse.")
    parse_cpu_seconds: int = Field(60, ge=1, description="CPU seconds one file may take to parse.")
    parse_memory_mb: int = Field(
        1024, ge=128, description="Address space of the parsing worker, in MB (RLIMIT_AS; about 150 MB is the"
                                  " worker itself).")
    max_text_mb: int = Field(50, ge=1, description="Most text one file may yield, in MB.")
    max_unpacked_mb: int = Field(
        500, ge=1, description="Most bytes a ZIP container (DOCX) may unpack to in total, and one PDF stream to.")
    max_zip_ratio: int = Field(
        100, ge=2, description="Highest compression ratio of a ZIP member over 1 MB (a bomb's is 1000 or more).")
    max_zip_members: int = Field(10_000, ge=1, description="Most members in a ZIP container.")
    max_sheet_rows: int = Field(
        100_000, ge=1, description="Most filled rows per spreadsheet sheet (XLSX, ODS, CSV); a sheet with more is"
                                   " refused. Reading also stops after 1,000 empty rows in a row.")
    ocr: bool = Field(True, description="Read scanned PDF pages (an image, no text) with Tesseract (Dutch data).")
    ocr_max_pages: int = Field(
        20, ge=1, description="Most scanned pages per PDF read with OCR; a scan with more is refused. Each page"
                              " takes seconds: keep PARSE_SECONDS above pages × seconds per page.")
    max_attachment_mb: int = Field(
        20, ge=1, description="Largest e-mail attachment read as part of its message; a larger one is named only.")


class RetrievalSettings(BaseModel):
    """Finding sources for a question."""

    top_k: int = Field(4, ge=1, le=50, description="Most sources given to the model.")
    min_score: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="Cosine similarity from which a chunk is relevant; None takes the value calibrated for the"
                    " embedder (ingestion.index.CALIBRATED; 0.25 for an uncalibrated one). Dense mode drops chunks"
                    " under it; hybrid mode finds no source only if the best chunk is under it and no top BM25"
                    " match covers min_coverage of the question. Calibrate with `python -m bench.eval`.",
    )
    min_coverage: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Share of a question's words (IDF-weighted, stemmed) that one of its top BM25 matches must"
                    " contain for it to have a source in hybrid mode; None takes the calibrated value.",
    )
    mode: str = Field(
        "hybrid", pattern="^(dense|lexical|hybrid)$",
        description="dense (embeddings), lexical (BM25 with Dutch/English stemming) or hybrid (both, fused).",
    )
    rrf_k: int = Field(
        10, ge=1, description="Reciprocal rank fusion constant: higher flattens the rank weights (10 measured best)."
    )
    candidates: int = Field(30, ge=1, le=500, description="Chunks each retriever proposes before fusion.")
    lexical_weight: float = Field(
        2.0, ge=0.0, le=10.0, description="Weight of the BM25 ranking against the dense one (1.0) in fusion."
    )


class IndexSettings(BaseModel):
    """Where the vector index lives."""

    url: str | None = Field(
        None, description="URL of a Chroma server (`chroma run`), e.g. http://chroma:8000, shared by every Baken"
                          " process; empty uses embedded Chroma under DATA_DIR/index/chroma.")
    token: SecretStr | None = Field(None, description="Bearer token for the Chroma server, when it needs one.")
    collection: str = Field("baken_chunks", description="Chroma collection that holds the chunks.")


class DatabaseSettings(BaseModel):
    """Where shared state lives: accounts, sessions, conversations, indexing jobs and the document registry."""

    dsn: SecretStr | None = Field(
        None, description="PostgreSQL connection string (postgresql://user:password@host/db) shared by every"
                          " Baken process on every host; empty keeps SQLite files under DATA_DIR. The audit log"
                          " uses it too unless BAKEN_AUDIT__DSN is set.")
    pg_schema: str = Field("baken", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                           description="PostgreSQL schema that holds the shared-state tables.")


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
