"""The one place where adapters are chosen from settings (the CLI and web/app.py both build through here)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.llm import LLM
from assistant.services import Services
from assistant.turn import Assistant, Journal, NoRedaction, Redactor
from baken.settings import Settings
from core.errors import ConfigurationError, ModelError
from ingestion.embedder import Embedder
from ingestion.index import Index
from ingestion.registry import Registry
from models import CATALOGUE, ModelSpec, derived_dir, resolve, verify, verify_manifest

if TYPE_CHECKING:
    from assistant.audit import AuditLog
    from ingestion.folder_sync import FolderSync
    from ingestion.store import ChromaStore

logger = logging.getLogger(__name__)
__all__ = ["Services", "build_assistant", "build_audit", "build_embedder", "build_folder_sync", "build_index",
           "build_llm", "build_redactor", "build_services", "build_store", "embedder_backend", "prepare_embedder"]  # Services lives in assistant.services; importable here too


def embedder_backend(settings: Settings) -> str:
    """The backend in force: the setting, else the catalogue's for a catalogue model, else torch."""
    if settings.embeddings.backend:
        return settings.embeddings.backend
    spec = CATALOGUE.get(settings.embeddings.model)
    return spec.backend if spec is not None and spec.kind == "embedder" else "torch"


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder: a remote server, or a local model verified (with its OpenVINO export, when that
    backend is chosen) before it is loaded."""
    configured, backend = settings.embeddings, embedder_backend(settings)
    if backend == "remote":
        from ingestion.remote_embedder import OpenAIEmbedder

        spec = CATALOGUE.get(configured.tokenizer or configured.model)
        query, passage = _prefixes(settings, spec)
        return OpenAIEmbedder.from_settings(configured, tokenizer_dir=_tokenizer_dir(settings), query_prefix=query,
                                            passage_prefix=passage)
    model = resolve(configured.model, "embedder", settings.model_dir)
    digest = verify(model)
    query, passage = _prefixes(settings, model.spec)
    if backend.startswith("openvino"):
        from ingestion.openvino_embedder import OpenVINOEmbedder
        from ingestion.openvino_export import EXPORT_DIR

        export = derived_dir(model, settings.model_dir, digest, EXPORT_DIR)
        verify_manifest(export, digest)
        return OpenVINOEmbedder(export, name=model.name, variant="int8" if backend.endswith("int8") else "fp32",
                                batch_size=configured.batch_size, query_prefix=query, passage_prefix=passage,
                                threads=configured.threads)
    from ingestion.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model.path, name=model.name, batch_size=configured.batch_size,
                                       query_prefix=query, passage_prefix=passage)


def prepare_embedder(settings: Settings, calibration: list[str]) -> Path | None:
    """Provisioning: export the configured embedder to OpenVINO when its backend is one of OpenVINO's and the
    export is missing or stale (calibrating int8 on ``calibration``); returns the export's directory."""
    if not embedder_backend(settings).startswith("openvino"):
        return None
    from ingestion.openvino_export import EXPORT_DIR, prepare

    model = resolve(settings.embeddings.model, "embedder", settings.model_dir)
    digest = verify(model)
    export = derived_dir(model, settings.model_dir, digest, EXPORT_DIR)
    try:
        verify_manifest(export, digest)
    except ModelError:
        prepare(model.path, export, source_sha256=digest, calibration=calibration)
        verify_manifest(export, digest)
    return export


def _prefixes(settings: Settings, spec: ModelSpec | None) -> tuple[str, str]:
    configured = settings.embeddings
    query = configured.query_prefix if configured.query_prefix is not None else (spec.query_prefix if spec else "")
    passage = configured.passage_prefix if configured.passage_prefix is not None else (
        spec.passage_prefix if spec else "")
    return query, passage


def _tokenizer_dir(settings: Settings) -> Path | None:
    """The local directory whose tokenizer counts word pieces for a remote embedder, when there is one."""
    reference = settings.embeddings.tokenizer or settings.embeddings.model
    try:
        model = resolve(reference, "embedder", settings.model_dir)
    except ConfigurationError:
        if settings.embeddings.tokenizer:
            raise
        return None
    if (model.path / "tokenizer.json").exists():
        return model.path
    if settings.embeddings.tokenizer:
        raise ConfigurationError(f"BAKEN_EMBEDDINGS__TOKENIZER: {model.path} has no tokenizer.json")
    return None


def build_store(settings: Settings) -> ChromaStore:
    """The vector store: Chroma embedded under the data directory, or a Chroma server."""
    from ingestion.store import ChromaStore

    data, where = settings.data_dir, settings.index
    return (ChromaStore.connect(where.url, collection=where.collection,
                                token=where.token.get_secret_value() if where.token else None)
            if where.url else ChromaStore(data / "index" / "chroma", collection=where.collection))


def build_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    """The document index: Chroma embedded under the data directory or a Chroma server; the registry and the
    originals in SQLite and DATA_DIR/documents, or in the shared PostgreSQL database when one is configured."""
    from ingestion.files import DatabaseOriginals, DirectoryOriginals, Originals
    from ingestion.lexical import LexicalIndex
    from ingestion.sandbox import InProcessParser, SandboxedParser, SandboxLimits
    data, store = settings.data_dir, build_store(settings)
    files: Originals
    if settings.database_dsn:  # several hosts: one registry and one copy of each original, for all of them
        from core.database import Database

        database = Database.open(settings.database_dsn, data / "index" / "documents.sqlite3",
                                 schema=settings.database.pg_schema)
        registry, files = Registry(database), DatabaseOriginals(database, data / "documents")
    else:
        registry = Registry(data / "index" / "documents.sqlite3")
        files = DirectoryOriginals(data / "documents")
    limits = SandboxLimits.from_settings(settings.ingestion)
    parser = SandboxedParser(limits) if settings.ingestion.sandbox else InProcessParser(limits)
    return Index(embedder or build_embedder(settings), store, registry, files, settings.ingestion,
                 lexical=LexicalIndex(data / "index" / "lexical"), retrieval=settings.retrieval, parser=parser)


def build_folder_sync(settings: Settings, index: Index) -> FolderSync:
    """Folder sync over ``index``, its state in the registry's database (SQLite beside the registry, or the
    shared PostgreSQL database), so that every process and host takes the same lock."""
    from core.database import Database
    from ingestion.folder_sync import FolderSync
    from ingestion.sync_state import SyncState

    database = Database.open(settings.database_dsn, settings.data_dir / "index" / "documents.sqlite3",
                             schema=settings.database.pg_schema)
    return FolderSync(index, SyncState(database), settings.ingestion.max_file_mb * 1024 * 1024,
                      settings.ingestion.sync_retry_hours)


def build_llm(settings: Settings) -> LLM:
    """The configured model: an OpenAI-compatible server, or in-process llama.cpp verified before it is loaded."""
    if settings.llm.backend == "remote":
        from assistant.openai_llm import OpenAICompatibleLLM

        return OpenAICompatibleLLM.from_settings(settings.llm, n_ctx=settings.llm.n_ctx)
    from assistant.llamacpp import LlamaCppLLM

    model = resolve(settings.llm.model, "llm", settings.model_dir)
    digest = verify(model)
    return LlamaCppLLM(model.path, name=model.name, sha256=digest, n_ctx=settings.llm.n_ctx,
                       n_threads=settings.threads, n_batch=settings.llm.n_batch, seed=settings.llm.seed)


def build_redactor(settings: Settings) -> Redactor:
    """The personal-data guardrail (Presidio with Dutch and English recognizers), unless switched off."""
    if not settings.pii.enabled:
        logger.warning("personal-data redaction is switched off (BAKEN_PII__ENABLED=false)")
        return NoRedaction()
    from guardrails import Redactor as PresidioRedactor

    return PresidioRedactor(settings.pii, settings.model_dir)


def build_audit(settings: Settings) -> AuditLog:
    """The tamper-evident audit log (SQLite under the data directory by default; PostgreSQL when the audit log
    or the shared database has a DSN)."""
    from assistant.audit import AuditLog

    return AuditLog.open(settings.audit_log, settings.data_dir)


def build_assistant(settings: Settings, index: Index | None = None, llm: LLM | None = None,
                    redactor: Redactor | None = None, journal: Journal | None = None,
                    audit: AuditLog | None = None) -> Assistant:
    """A ready Assistant; any part not given is built from settings (the journal writes to ``audit``)."""
    from assistant.journal import AuditJournal
    from guardrails import Vault

    if journal is None:
        journal = AuditJournal(audit or build_audit(settings))
    return Assistant(index or build_index(settings), llm or build_llm(settings), redactor or build_redactor(settings),
                     journal, settings, vault_factory=Vault, redact_sources=settings.pii.redact_sources)


def build_services(settings: Settings, *, embedder: Embedder | None = None, llm: LLM | None = None,
                   redactor: Redactor | None = None) -> Services:
    """The index, the assistant and the audit log, from settings (models are verified, then loaded once)."""
    from assistant.journal import AuditJournal
    from assistant.metrics import MeteredJournal, Metrics

    metrics = Metrics()
    index = build_index(settings, embedder)
    index.start_parsing()  # this process serves uploads: its parsing worker is ready before the first one
    index.recover()  # and it finishes what a killed process left half-way first
    model = llm or build_llm(settings)
    metrics.watch_queue(lambda: model.waiting)
    audit = build_audit(settings)
    journal = MeteredJournal(AuditJournal(audit), metrics)
    assistant = build_assistant(settings, index=index, llm=model, redactor=redactor, journal=journal)
    return Services(settings, index, assistant, audit, metrics, folder_sync=build_folder_sync(settings, index))
