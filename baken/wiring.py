"""The one place where adapters are chosen from settings (the CLI and web/app.py both build through here)."""

from __future__ import annotations

import logging

from assistant.llm import LLM
from assistant.turn import Assistant, Journal, NoRedaction, NullJournal, Redactor
from baken.settings import Settings
from ingestion.embedder import Embedder
from ingestion.index import Index
from ingestion.registry import Registry
from models import resolve, verify

logger = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model, verified before it is loaded."""
    from ingestion.embedder import SentenceTransformerEmbedder

    model = resolve(settings.embeddings.model, "embedder", settings.model_dir)
    verify(model)
    spec = model.spec
    return SentenceTransformerEmbedder(model.path, name=model.name, batch_size=settings.embeddings.batch_size,
                                       query_prefix=spec.query_prefix if spec else "",
                                       passage_prefix=spec.passage_prefix if spec else "")


def build_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    """The document index on embedded Chroma under the data directory."""
    from ingestion.store import ChromaStore

    data = settings.data_dir
    return Index(embedder or build_embedder(settings), ChromaStore(data / "index" / "chroma"),
                 Registry(data / "index" / "documents.sqlite3"), data / "documents", settings.ingestion)


def build_llm(settings: Settings) -> LLM:
    """The in-process llama.cpp model, verified before it is loaded."""
    from assistant.llamacpp import LlamaCppLLM

    model = resolve(settings.llm.model, "llm", settings.model_dir)
    digest = verify(model)
    return LlamaCppLLM(model.path, name=model.name, sha256=digest, n_ctx=settings.llm.n_ctx,
                       n_threads=settings.threads, n_batch=settings.llm.n_batch, seed=settings.llm.seed)


def build_assistant(settings: Settings, index: Index | None = None, llm: LLM | None = None,
                    redactor: Redactor | None = None, journal: Journal | None = None) -> Assistant:
    """A ready Assistant; any part not given is built from settings."""
    return Assistant(index or build_index(settings), llm or build_llm(settings), redactor or NoRedaction(),
                     journal or NullJournal(), settings)
