"""The source of `baken migrate`: the single-host state under DATA_DIR (SQLite files, embedded Chroma), opened only
for reading; a file that is not there is empty, and a table or column an older version did not have reads as its
later default."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baken.settings import Settings
from core import migrations
from core.database import Database, Row
from ingestion.registry import DocumentRecord
from ingestion.sync_state import INTERRUPTED

if TYPE_CHECKING:
    from ingestion.store import ChromaStore

WEB_COLUMNS = {  # table -> the columns copied verbatim
    "users": ("id", "name", "role", "password_hash", "active", "created", "roles", "user_groups", "origin", "subject",
              "disabled_by"),
    "conversations": ("id", "user_id", "title", "created", "updated"),
    "turns": ("id", "conversation_id", "user_id", "question", "answer", "sources_json", "outcome", "event_id",
              "feedback", "created"),
}
LATER_COLUMNS = {"user_groups": "", "origin": "local", "subject": None, "disabled_by": None}  # before web's 002
DOCUMENT_COLUMNS = tuple(f.name for f in fields(DocumentRecord))
SYNC_COLUMNS = {  # folder sync's tables (in the registry's database) -> the columns copied verbatim
    "synced_files": ("scope", "path", "size", "mtime_ns", "doc_id", "synced"),
    "sync_failures": ("scope", "path", "size", "mtime_ns", "sha256", "reason", "failed"),
    "sync_runs": ("id", "scope", "root", "trigger", "actor", "status", "started", "finished", "done", "total",
                  "counts", "failures", "error", "host", "pid", "pid_started", "updated"),
}
PAGE = 500  # rows or chunks read and written at a time


@dataclass
class Source:
    """The single-host state under DATA_DIR, opened only for reading (a file that is not there is empty)."""

    data: Path
    web: Database | None
    counts: dict[str, int]
    ready: list[Row]  # the registry's ready rows
    unfinished: int
    chunks: ChromaStore | None  # the embedded index, when it is to be copied
    collections: list[Row] = field(default_factory=list)  # the collections and their grants (none before them)
    grants: list[Row] = field(default_factory=list)
    sync: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)  # folder sync's rows, by table

    @classmethod
    def open(cls, settings: Settings, with_index: bool) -> Source:
        data = settings.data_dir
        web, registry = existing(data / "web" / "web.sqlite3"), existing(data / "index" / "documents.sqlite3")
        rows: list[Row] = []
        collections: list[Row] = []
        grants: list[Row] = []
        if registry is not None and count(registry, "documents") is not None:
            with registry.connect() as conn:
                present = migrations.columns(conn, "documents")  # a registry from before collections has none
                rows = [{"collection": "algemeen", **r} for r in conn.execute(
                    f"SELECT {', '.join(c for c in DOCUMENT_COLUMNS if c in present)} FROM documents"
                    " ORDER BY source, doc_id").fetchall()]
                if count(registry, "collections") is not None:
                    collections = conn.execute("SELECT name, title, created FROM collections").fetchall()
                    grants = conn.execute("SELECT collection, group_name, created FROM collection_grants").fetchall()
        sync = {table: _sync_rows(registry, table, columns) for table, columns in SYNC_COLUMNS.items()}
        chunks = None
        if with_index and (data / "index" / "chroma").is_dir():
            from ingestion.store import ChromaStore

            chunks = ChromaStore(data / "index" / "chroma", collection=settings.index.collection)
        ready = [r for r in rows if r["status"] == "ready"]
        return cls(data, web, {t: count(web, t) or 0 for t in WEB_COLUMNS}, ready, len(rows) - len(ready), chunks,
                   collections, grants, sync)

    @property
    def originals(self) -> list[str]:
        """The stored names of the ready documents' originals that are in DATA_DIR/documents."""
        return [n for n in self._stored_names if (self.data / "documents" / n).is_file()]

    @property
    def missing(self) -> list[str]:
        """The stored names of ready documents' originals that are not."""
        return [n for n in self._stored_names if not (self.data / "documents" / n).is_file()]

    @property
    def _stored_names(self) -> list[str]:
        return sorted({r["stored_path"] for r in self.ready if r["stored_path"]})

    def rows(self, table: str) -> Iterator[list[tuple[object, ...]]]:
        """A web table's rows in pages, by rowid, so that memory stays bounded."""
        columns, last = WEB_COLUMNS[table], -1
        while self.web is not None and self.counts[table]:
            with self.web.connect() as conn:
                present = [c for c in columns if c in migrations.columns(conn, table)]
                page = conn.execute(f"SELECT rowid AS rowid_, {', '.join(present)} FROM {table} WHERE rowid > ?"
                                    f" ORDER BY rowid LIMIT {PAGE}", (last,)).fetchall()
            if not page:
                return
            last = page[-1]["rowid_"]
            yield [tuple(r[c] if c in r else r["role"] if c == "roles" else LATER_COLUMNS[c] for c in columns)
                   for r in page]  # (an account from before several roles has its one role as its roles)

    def index_batches(self) -> Iterator[tuple[list[str], list[list[float]], list[str], list[dict[str, Any]]]]:
        """The embedded index's chunks of ready documents, in batches of (ids, vectors, texts, metadatas)."""
        ready = {r["doc_id"] for r in self.ready}
        for batch in self.chunks.chunks(PAGE) if self.chunks is not None else ():
            keep = [i for i, m in enumerate(batch.metadatas) if m.get("doc_id") in ready]
            yield ([batch.ids[i] for i in keep], [batch.vectors[i] for i in keep], [batch.texts[i] for i in keep],
                   [batch.metadatas[i] for i in keep])


def _sync_rows(registry: Database | None, table: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    """Folder sync's rows of ``table`` (none before folder sync or its failures existed). A run on record as
    running was stopped (every Baken process is, before a migration): it is copied as interrupted."""
    if registry is None or not count(registry, table):
        return []
    with registry.connect() as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid").fetchall()
    if table == "sync_runs":
        rows = [r if r["status"] != "running" else {**r, "status": INTERRUPTED, "error": INTERRUPTED} for r in rows]
    return [tuple(r[c] for c in columns) for r in rows]


def existing(path: Path) -> Database | None:
    """The SQLite database at ``path`` when there is one (none is created)."""
    return Database(path) if path.is_file() else None


def count(db: Database | None, table: str) -> int | None:
    """Rows in ``table``; None when there is no such table."""
    if db is None:
        return None
    with db.connect() as conn:
        if db.dialect == "sqlite" and conn.execute("SELECT 1 AS found FROM sqlite_master WHERE type = 'table'"
                                                   " AND name = ?", (table,)).fetchone() is None:
            return None
        row = conn.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()
    return int(row["n"]) if row else 0
