"""`baken restore DIR`: a backup made by `baken backup` (baken/cli/backup.py, which describes what one holds)
put back into an empty data directory, checked file by file against its manifest first and part by part
after."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from assistant.audit import AuditLog
from assistant.audit.keys import PSEUDONYM_KEY_FILE, SIGNING_KEY_FILE
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
    embedded_only,
    load_keys,
    record_event,
    sha256_of,
    web_counts,
)
from baken.settings import Settings
from core.errors import UserError
from ingestion.registry import Registry
from ingestion.store import ChromaStore


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `restore`."""
    restore = subparsers.add_parser("restore", help="restore a backup into an empty DATA_DIR, then check it")
    restore.add_argument("directory", type=Path, metavar="DIR", help="a directory written by `baken backup`")
    restore.set_defaults(handler=run_restore, refuses="restore")


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    """`baken restore DIR`."""
    return restore(args.directory, settings)


def restore(source: Path, settings: Settings) -> int:
    embedded_only(settings, "restore")
    manifest = _read_manifest(source)
    data, key_dir = settings.data_dir, settings.audit.keys_path(settings.data_dir)
    targets = {name: _target(name, settings) for name in manifest["files"]}
    key_id, check = manifest["keys"]["key_id"], manifest["keys"]["pseudonym_check"]
    keys_there = _check_target(settings, key_id, check)
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file() or path.stat().st_size != expected["size"] \
                or sha256_of(path) != expected["sha256"]:
            raise UserError(f"{path} does not match manifest.json (missing, changed or damaged): "
                            "the backup cannot be trusted; nothing was restored")
    for name, target in targets.items():
        if target is not None and not (name.startswith("keys/") and keys_there):
            copy_file(source / name, target)
    store = ChromaStore(data / "index" / "chroma", collection=settings.index.collection)
    first = _load_chunks(source / CHUNKS, store)
    if keys_there:
        print(f"keys: the ones in {key_dir} are the backup's (key id {key_id})")
    elif manifest["keys"]["included"]:
        print(f"keys: restored into {key_dir}; keep the backup as protected as the keys themselves")

    problems = [*_check_web(settings, manifest), *_check_documents(settings),
                *_check_index(settings, store, first, manifest), *_check_audit(settings, manifest, key_dir)]
    if problems:
        print(f"baken: restored into {data}, but: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print(f"Restored {source} into {data}.")
    record_event(settings, "audit.restore", {"baken.backup.directory": str(source.resolve()),
                                             "baken.backup.created": manifest.get("created"),
                                             "baken.backup.manifest_sha256": sha256_of(source / MANIFEST)})
    return 0


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"there is no {MANIFEST} in {source}: not a Baken backup, or an unfinished one") \
            from exc
    except (OSError, ValueError) as exc:
        raise UserError(f"{source / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"{source / MANIFEST} is not a {FORMAT} manifest")
    if not all(part in manifest for part in ("files", "keys", "web", "documents", "audit")) \
            or CHUNKS not in manifest["files"]:
        raise UserError(f"{source / MANIFEST} is incomplete: the backup cannot be trusted")
    return manifest


def _target(name: str, settings: Settings) -> Path | None:
    """Where a backup file goes (None: the chunk export, loaded into Chroma); refuses any other name."""
    data, (folder, _, rest) = settings.data_dir, name.partition("/")
    fixed = {WEB_DB: data / "web" / "web.sqlite3", REGISTRY_DB: data / "index" / "documents.sqlite3",
             AUDIT_DB: settings.audit.database_path(data), CHUNKS: None}
    if name in fixed:
        return fixed[name]
    if folder == "documents" and rest and "/" not in rest and rest not in (".", ".."):
        return data / "documents" / rest
    if folder == "keys" and rest in KEY_FILES:
        return settings.audit.keys_path(data) / rest
    raise UserError(f"manifest.json names {name!r}, which is not part of a Baken backup")


def _check_target(settings: Settings, key_id: str | None, check: str | None) -> bool:
    """Refuse a data directory that holds anything but models, or keys other than the backup's; True when the
    right keys are there already."""
    data, key_dir = settings.data_dir, settings.audit.keys_path(settings.data_dir)
    keys = load_keys(key_dir)
    if keys is not None and (keys.signer.key_id != key_id
                             or check is not None and keys.pseudonym(KEY_CHECK)[:16] != check):
        raise UserError(f"{key_dir} holds audit keys (key id {keys.signer.key_id}) other than the backup's "
                        f"(key id {key_id}): restore into an installation without keys, or with the backup's")
    allowed = {settings.model_dir.resolve(), (data / "lost+found").resolve()}
    if keys is not None:
        allowed.add(key_dir.resolve())
    if data.exists() and (not data.is_dir() or any(p.resolve() not in allowed for p in data.iterdir())):
        raise UserError(f"{data} is not empty: restore only into a new or empty BAKEN_DATA_DIR")
    audit = settings.audit.database_path(data)
    if audit.exists():
        raise UserError(f"there is an audit log at {audit} already: restore only into an empty installation")
    return keys is not None


def _load_chunks(path: Path, store: ChromaStore) -> dict[str, Any] | None:
    """Load the chunk export into the store in batches; returns the first chunk, for the search check."""
    first, batch = None, []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            batch.append(json.loads(line))
            first = first if first is not None else batch[0]
            if len(batch) == BATCH:
                _add(store, batch)
                batch = []
    _add(store, batch)
    return first


def _add(store: ChromaStore, chunks: list[dict[str, Any]]) -> None:
    if chunks:
        store.add([c["id"] for c in chunks], [c["vector"] for c in chunks], [c["text"] for c in chunks],
                  [c["metadata"] for c in chunks])


def _check_web(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    counts = web_counts(settings.data_dir / "web" / "web.sqlite3")
    print(f"web: {', '.join(f'{counts[t]} {t}' for t in WEB_TABLES)}" if counts
          else "web: none in the backup")
    return [] if counts == manifest["web"] else ["the web database differs from the manifest"]


def _check_documents(settings: Settings) -> list[str]:
    registry_path = settings.data_dir / "index" / "documents.sqlite3"
    if not registry_path.exists():
        print("documents: none in the backup")
        return []
    registry = Registry(registry_path)
    try:
        ready = registry.list()
    finally:
        registry.close()
    documents = settings.data_dir / "documents"
    missing = [r.source for r in ready if not (documents / str(r.stored_path)).is_file()]
    print(f"documents: {len(ready)} ready, " + (f"{len(missing)} without their original" if missing
                                                  else "every original present"))
    return [f"documents without their original: {', '.join(missing)}"] if missing else []


def _check_index(settings: Settings, store: ChromaStore, first: dict[str, Any] | None,
                 manifest: dict[str, Any]) -> list[str]:
    """The chunk count, a nearest-neighbour query with a stored vector, a BM25 search (rebuilt from
    Chroma)."""
    from baken.wiring import build_index
    from ingestion.embedder import FakeEmbedder  # no model: the lexical index and the stored vectors suffice

    count, expected = store.count(), manifest["documents"]["chunks"]
    if first is None:
        print(f"index: {count} chunks (no documents)")
        return [] if count == expected else [f"the index holds {count} chunks, the backup {expected}"]
    nearest = store.query(first["vector"], 1)
    words = " ".join(first["text"].split()[:40])
    hits = build_index(settings, embedder=FakeEmbedder()).search(words, 5, mode="lexical")
    found = bool(nearest) and nearest[0].id == first["id"] and any(h.doc_id == first["metadata"]["doc_id"]
                                                                    for h in hits)
    title = first["metadata"].get("title", "")
    print(f"index: {count} chunks; " + (f"a search finds \u201c{title}\u201d" if found
                                          else "a search FAILED"))
    return ([] if count == expected else [f"the index holds {count} chunks, the backup {expected}"]) + \
        ([] if found else ["the restored index does not find a restored document"])


def _check_audit(settings: Settings, manifest: dict[str, Any], key_dir: Path) -> list[str]:
    audit = manifest["audit"]
    if audit is None:
        print("audit: none in the backup")
        return []
    if load_keys(key_dir) is None:
        print(f"audit: {audit['records']} records restored, NOT verified: the keys are not in this backup."
              f" Put {SIGNING_KEY_FILE} and {PSEUDONYM_KEY_FILE} (key id {manifest['keys']['key_id']}) back into "
              f"{key_dir} (mode 0600), then run `baken audit verify`")
        return []
    with AuditLog.open(settings.audit_log, settings.data_dir) as log:
        result, last = log.verify(), log.store.last()
    same = (last[0], last[1].hex()) == (audit["last_seq"], audit["head"]) if last else audit["last_seq"] == 0
    if result.ok and same:
        print(f"audit: {result.records} records, chain intact, {result.checkpoints} signed checkpoint(s) "
              f"match, head at seq {audit['last_seq']} as in the backup")
        return []
    print(f"audit: FAILED at record {result.first_bad_seq}: {result.reason}" if not result.ok
          else "audit: the chain's head differs from the manifest")
    return ["the audit log does not verify"]
