"""`baken backup DIR [--with-keys]`: a consistent copy of a running embedded
installation, and putting it back into an empty data directory (the restore: baken/cli/restore.py; what both
share: baken/cli/backup_format.py).

A backup holds (manifest.json is written last, so a directory without it is an unfinished backup):
- web/web.sqlite3, index/documents.sqlite3, audit/audit.sqlite3, each taken with SQLite's online backup API in
  one step: one consistent snapshot per database while Baken keeps writing (WAL: writers are not blocked).
- index/chunks.jsonl.gz: the chunks of the embedded Chroma index (id, vector, text, metadata), read through
  its API. Chroma's own guidance is that a copy of a persistent directory is only safe with Chroma stopped
  (https://cookbook.chromadb.dev/strategies/backup, "requires stopping your Chroma container to avoid data
  corruption"): its HNSW segment files are rewritten in place, out of step with its SQLite file.
- documents/: the originals (never rewritten: written once under their sha256, so a plain copy is safe);
  keys/: the audit keys, only with --with-keys (they are secrets).
Left out: index/lexical (rebuilt from Chroma at start), web/uploads (uploads of jobs in flight, which a
restored installation does not resume) and the models (provisioned from the catalogue).

The registry snapshot is the point in time of the documents: only its ready documents are kept, with their
chunks and originals. A document deleted or replaced while the backup runs, whose chunks or original are gone
by the time they are read, is left out (and counted), never restored half.

Shared state in PostgreSQL (BAKEN_DATABASE__DSN, BAKEN_AUDIT__DSN) or a Chroma server (BAKEN_INDEX__URL) is
refused, not backed up in part: those need pg_dump and the Chroma server's own backup, and a backup of only
the local remainder (per-host caches) would look complete yet restore an installation without accounts or
documents.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import baken
from assistant.audit import SQLiteAuditStore
from baken.cli.backup_format import (
    AUDIT_DB,
    BATCH,
    CHUNKS,
    FORMAT,
    KEY_CHECK,
    KEY_FILES,
    MANIFEST,
    REGISTRY_DB,
    WEB_DB,
    WEB_TABLES,
    copy_file,
    create_private,
    embedded_only,
    load_keys,
    record_event,
    sha256_of,
    web_counts,
)
from baken.settings import Settings
from core.database import sqlite_counts, sqlite_seal, sqlite_snapshot
from core.errors import BackendUnavailable, UserError
from ingestion.registry import Registry
from ingestion.store import ChromaStore


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `backup`."""
    backup = subparsers.add_parser("backup", help="copy this running installation into a new directory",
                                   description="A consistent snapshot of the SQLite databases, the index"
                                               " and the originals under DATA_DIR, with a manifest of"
                                               " sha256 sums.")
    backup.add_argument("directory", type=Path, metavar="DIR",
                        help="a new or empty directory, outside DATA_DIR")
    backup.add_argument("--with-keys", action="store_true",
                        help="also copy the audit signing and pseudonym keys (the backup then holds secrets)")
    backup.set_defaults(handler=run_backup, refuses="backup")


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    """`baken backup DIR [--with-keys]`."""
    return _backup(args.directory, settings, args.with_keys)


# --- backup ------------------------------------------------------------------------------------------------


def _backup(target: Path, settings: Settings, with_keys: bool) -> int:
    embedded_only(settings, "back up")
    data = settings.data_dir
    sources = {WEB_DB: data / "web" / "web.sqlite3", REGISTRY_DB: data / "index" / "documents.sqlite3",
               AUDIT_DB: settings.audit.database_path(data)}
    if not any(path.is_file() for path in sources.values()):
        raise UserError(f"there is no Baken installation in {data} to back up: check BAKEN_DATA_DIR")
    if target.resolve().is_relative_to(data.resolve()):
        raise UserError(f"{target} is inside DATA_DIR: put the backup elsewhere, preferably on other storage")
    key_dir = settings.audit.keys_path(data)
    keys = load_keys(key_dir)
    if with_keys and keys is None:
        raise UserError(f"--with-keys: the audit keys are not in {key_dir} (set BAKEN_AUDIT__KEY_DIR)")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} is not empty: a backup goes into a new or empty directory")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)

    for name, path in sources.items():
        if path.is_file():
            _snapshot(path, target / name)
    documents = _copy_documents(settings, target)
    audit = _audit_summary(target / AUDIT_DB) if (target / AUDIT_DB).exists() else None
    # Without the key files, the log's own last checkpoint still names the key a restore needs.
    key_id: str | None = keys.signer.key_id if keys else (audit or {}).get("checkpoint_key_id")
    check = keys.pseudonym(KEY_CHECK)[:16] if keys else None
    if with_keys:
        for name in KEY_FILES:
            if (key_dir / name).is_file():
                copy_file(key_dir / name, target / "keys" / name)
    web = web_counts(target / WEB_DB)
    for name in (WEB_DB, REGISTRY_DB, AUDIT_DB):
        if (target / name).exists():
            _seal(target / name)
    files = _hash_files(target)
    manifest = {"format": FORMAT, "baken_version": baken.__version__, "created": _now(),
                "host": socket.gethostname(), "data_dir": str(data.resolve()), "web": web,
                "documents": documents, "audit": audit,
                "keys": {"included": with_keys, "key_id": key_id, "pseudonym_check": check}, "files": files}
    with create_private(target / MANIFEST) as out:
        out.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))

    print(f"web: {', '.join(f'{web[t]} {t}' for t in WEB_TABLES)}" if web else "web: no web database yet")
    left = f"; {len(documents['left_out'])} left out (deleted or replaced while the backup ran)" \
        if documents["left_out"] else ""
    print(f"documents: {documents['count']} documents with their originals{left}")
    print(f"index: {documents['chunks']} chunks exported")
    print(f"audit: {audit['records']} records, last seq {audit['last_seq']}, head {audit['head'][:16]}…"
          if audit else "audit: no audit log yet")
    if with_keys:
        print(f"warning: {target} now holds the audit signing and pseudonym keys: protect it like the keys "
              "themselves (encrypted storage, restricted access)", file=sys.stderr)
    else:
        print(f"keys: not in the backup: back up {key_dir} separately (key id {key_id}); a restore needs"
              " them")
    size = sum(f["size"] for f in files.values())
    print(f"Backup written to {target}: {len(files)} files, {size / 1e6:.1f} MB.")
    record_event(settings, "audit.backup", {"baken.backup.directory": str(target.resolve()),
                                            "baken.backup.manifest_sha256": sha256_of(target / MANIFEST),
                                            "baken.backup.audit_last_seq": (audit or {}).get("last_seq")})
    return 0


def _snapshot(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API, in one step: one consistent read snapshot."""
    create_private(target).close()
    sqlite_snapshot(source, target)


def _seal(path: Path) -> None:
    """Make a copied database one self-contained file (rollback journal, no -wal beside it)."""
    sqlite_seal(path)


def _copy_documents(settings: Settings, target: Path) -> dict[str, Any]:
    """Keep the ready documents of the registry snapshot, with their chunks and originals; drop the rest."""
    if not (target / REGISTRY_DB).exists():
        _write_chunks(settings, set(), target / CHUNKS)
        return {"count": 0, "chunks": 0, "left_out": []}
    registry = Registry(target / REGISTRY_DB)
    try:
        rows = registry.list(None)
        ready = {r.doc_id: r for r in rows if r.status == "ready"}
        for row in rows:
            if row.status != "ready":  # half-way in a running process: not part of the snapshot
                registry.remove(row.doc_id)
        counts = _write_chunks(settings, set(ready), target / CHUNKS)
        gone = set()
        for doc_id, row in ready.items():
            name = str(row.stored_path)
            try:
                copy_file(settings.data_dir / "documents" / name, target / "documents" / name)
            except (FileNotFoundError, IsADirectoryError):  # deleted since the snapshot
                gone.add(doc_id)
        left_out = sorted(gone | {d for d, r in ready.items() if counts[d] != r.chunks})
        for doc_id in left_out:
            registry.remove(doc_id)
            (target / "documents" / str(ready[doc_id].stored_path)).unlink(missing_ok=True)
        if left_out:
            _drop_chunks(target / CHUNKS, set(left_out))
    finally:
        registry.close()
    chunks = sum(n for doc_id, n in counts.items() if doc_id not in left_out)
    return {"count": len(ready) - len(left_out), "chunks": chunks, "left_out": left_out}


def _write_chunks(settings: Settings, ready: set[str], path: Path) -> Counter[str]:
    """Export the chunks of ``ready`` documents from embedded Chroma, one JSON object a line; counts per
    document."""
    counts: Counter[str] = Counter()
    chroma = settings.data_dir / "index" / "chroma"
    with create_private(path) as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
        if not chroma.is_dir():  # never create an index in the installation being backed up
            return counts
        for batch in ChromaStore(chroma, collection=settings.index.collection).chunks(BATCH):
            for chunk in zip(batch.ids, batch.vectors, batch.texts, batch.metadatas):
                doc_id = str(chunk[3].get("doc_id"))
                if doc_id in ready:
                    counts[doc_id] += 1
                    out.write(json.dumps(dict(zip(("id", "vector", "text", "metadata"), chunk)),
                                         ensure_ascii=False) + "\n")
    return counts


def _drop_chunks(path: Path, doc_ids: set[str]) -> None:
    """Rewrite the chunk export without the chunks of ``doc_ids``."""
    kept = path.with_name(path.name + ".part")
    with gzip.open(path, "rt", encoding="utf-8") as lines, create_private(kept) as raw, \
            gzip.open(raw, "wt", encoding="utf-8") as out:
        for line in lines:
            if json.loads(line)["metadata"].get("doc_id") not in doc_ids:
                out.write(line)
    os.replace(kept, path)


def _audit_summary(path: Path) -> dict[str, Any]:
    """Records, last seq and head of the audit snapshot, and the key id of its last signed checkpoint."""
    store = SQLiteAuditStore(path, durable=False)
    try:
        last, checkpoints = store.last(), store.checkpoints()
    finally:
        store.close()
    records = sqlite_counts(path, ["records"])["records"]
    return {"records": records, "last_seq": last[0] if last else 0, "head": last[1].hex() if last else "",
            "checkpoint_key_id": checkpoints[-1].key_id if checkpoints else None}


def _hash_files(root: Path) -> dict[str, dict[str, Any]]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if name.endswith(("-wal", "-shm", "-journal", ".part")):
            raise BackendUnavailable(f"{path} was left beside the backup: run the backup again into a new"
                                     " directory")
        files[name] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    return files


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
