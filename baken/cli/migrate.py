"""`baken migrate`: move a single-host installation (SQLite files and embedded Chroma under DATA_DIR) to the
scale-out layout (PostgreSQL, a Chroma server), keeping accounts, history, documents, vectors and the audit log.

What is copied:
- audit log: every record, checkpoint and hold (`assistant.audit.migrate`), unless it has a DSN of its own.
- web: users (password hashes, roles, active flags), conversations and turns, verbatim. Not sessions or login
  failures (everyone logs in again), not indexing jobs (they belong to the processes that ran them).
- documents: the `ready` rows of the registry and their originals. Not owners or unfinished rows.
- folder sync: the files it recorded (size, mtime, document), its remembered failures and its runs (one left
  running, by a stopped process, as interrupted), so that the next sync finds the folder unchanged.
- index (with --to-index): the chunks of ready documents with their vectors, texts and metadata; nothing is
  embedded again.

The source is only read. Every target must be empty: the command never merges into a live installation. The
audit log goes first: it is the copy most likely to be refused (a Baken process still writing the source), and
refused it leaves every target empty. Each database store is copied in one transaction; originals go before the
registry rows that point at them, so no document is ever visible without its file.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from assistant.audit import AuditSettings
from baken.cli.migrate_source import DOCUMENT_COLUMNS, SYNC_COLUMNS, WEB_COLUMNS, Source, count
from baken.settings import Settings
from core.database import Database, DatabaseSettings
from core.errors import BackendUnavailable, UserError

if TYPE_CHECKING:
    from assistant.audit.verify import VerifyResult
    from ingestion.store import ChromaStore



def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `migrate`."""
    migrate = subparsers.add_parser(
        "migrate", help="move this installation's state to PostgreSQL (and its index to a Chroma server)",
        description="Copy accounts, history, documents and the audit log from the SQLite files under DATA_DIR to "
                    "an empty PostgreSQL schema, and with --to-index the embedded index to a Chroma server. The "
                    "source is only read. Stop every Baken process first.")
    target = migrate.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-database", metavar="DSN",
                        help="PostgreSQL connection string (its password shows in `ps`: prefer --to-database-env)")
    target.add_argument("--to-database-env", metavar="VAR",
                        help="name of an environment variable that holds the PostgreSQL connection string")
    migrate.add_argument("--schema", metavar="NAME",
                         help="PostgreSQL schema for the shared state (default: BAKEN_DATABASE__PG_SCHEMA, baken)")
    migrate.add_argument("--to-index", metavar="URL", help="Chroma server to copy the index to")
    migrate.add_argument("--collection", metavar="NAME", help="collection on that server (default: the current one)")
    migrate.add_argument("--index-token", metavar="TOKEN", help="bearer token of that server")
    migrate.add_argument("--dry-run", action="store_true", help="count what would be copied; write nothing")
    migrate.set_defaults(handler=run_migrate, refuses="migrate")


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """`baken migrate --to-database DSN [--schema S] [--to-index URL …] [--dry-run]`; a refusal exits with 1."""
    if args.to_database_env:
        args.to_database = os.environ.get(args.to_database_env)
        if not args.to_database:
            raise UserError(f"--to-database-env {args.to_database_env}: that environment variable is not set")
    if settings.database_dsn:
        raise UserError("this installation keeps its state in PostgreSQL already (BAKEN_DATABASE__DSN)")
    if args.to_index and settings.index.url:
        raise UserError("the index is on a Chroma server already (BAKEN_INDEX__URL): run without --to-index")
    if (args.collection or args.index_token) and not args.to_index:
        raise UserError("--collection and --index-token go with --to-index URL")
    schema = args.schema or settings.database.pg_schema
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise UserError(f"--schema {schema!r}: a PostgreSQL schema name is lowercase letters, digits and _")
    target = settings.model_copy(update={"database": DatabaseSettings(dsn=SecretStr(args.to_database),
                                                                     pg_schema=schema)})
    source = Source.open(settings, with_index=bool(args.to_index))
    _check_names(source)
    audit = _audit_target(settings, args.to_database)
    print(f"{'Dry run: would migrate' if args.dry_run else 'Migrating'} {settings.data_dir} to"
          f" {_masked(args.to_database)} (schema {schema})"
          + (f" and {_masked(args.to_index)}" if args.to_index else ""))
    if args.dry_run:
        _print_audit(settings, audit, _audit_records(settings) if audit else 0, "would copy")
        _print_web(source.counts, "would copy")
        _print_documents(source, "would copy")
        _print_sync(source, "would copy")
        _print_index(settings, args, source, sum(len(b[0]) for b in source.index_batches()), "would copy")
        print("Nothing was written (dry run); the targets were not contacted.")
        return 0

    web_db, index = _open_targets(target, args)
    _refuse_unless_empty(web_db, index, audit, settings.data_dir, args)
    written: list[str] = []  # what the targets hold, for the message when a copy stops half-way
    try:
        verified = _copy(settings, args, source, web_db, index, audit, written)
    except Exception as exc:
        stopped = f"stopped: {exc}"
        if written:
            stopped += (f". Written before it stopped: {', '.join(written)}. Empty the targets, then run again:"
                        f" DROP SCHEMA {schema} CASCADE"
                        + (f"; DROP SCHEMA {audit.pg_schema} CASCADE" if audit is not None else "")
                        + ("; delete the collection on the Chroma server" if index is not None else ""))
        if isinstance(exc, UserError):
            raise UserError(stopped) from exc
        raise BackendUnavailable(stopped) from exc
    _print_next(settings, args, schema, audit)
    return 0 if verified else 1


def _copy(settings: Settings, args: argparse.Namespace, source: Source, database: Database,
          index: ChromaStore | None, audit: AuditSettings | None, written: list[str]) -> bool:
    """Every part, in order; returns whether the copied audit log verifies."""
    verified = True
    if audit is None:
        _print_audit(settings, None, 0, "copied")
    else:
        from assistant.audit.migrate import copy_audit_log

        result = copy_audit_log(settings.audit_log, audit, settings.data_dir)  # one transaction
        written.append(f"the audit log (schema {audit.pg_schema})")
        _print_audit(settings, audit, result.records, "copied", result.verified)
        verified = result.verified.ok
    _copy_web(source, database)  # one transaction
    written.append("accounts and history")
    _print_web(source.counts, "copied")
    written.append("originals")  # one statement each
    _copy_documents(source, database)
    _print_documents(source, "copied")
    _print_sync(source, "copied")
    copied = 0
    if index is not None:
        written.append("chunks")
        for ids, vectors, texts, metadatas in source.index_batches():
            index.add(ids, vectors, texts, metadatas)
            copied += len(ids)
    _print_index(settings, args, source, copied, "copied")
    return verified


# --- reading the source ----------------------------------------------------------------------------------------


def _check_names(source: Source) -> None:
    """PostgreSQL's lower() folds more letters than SQLite's: names that would collide there are refused here."""
    seen: dict[str, str] = {}
    for page in source.rows("users"):
        for name in (str(row[1]) for row in page):
            other = seen.setdefault(name.lower(), name)
            if other != name:
                raise UserError(f"the users {other!r} and {name!r} differ only in case, which PostgreSQL refuses:"
                                " rename one of them first")


def _audit_target(settings: Settings, dsn: str) -> AuditSettings | None:
    """Where the audit log goes, or None when it stays: it has a DSN of its own, or there is none yet."""
    if settings.audit.dsn is not None or not settings.audit.database_path(settings.data_dir).is_file():
        return None
    return settings.audit.model_copy(update={"dsn": SecretStr(dsn)})


def _audit_records(settings: Settings) -> int:
    """Records in the SQLite audit log."""
    from assistant.audit.log import open_store

    store = open_store(settings.audit_log, settings.data_dir)
    try:
        last = store.last()
    finally:
        store.close()
    return last[0] if last else 0


# --- the targets -----------------------------------------------------------------------------------------------


def _open_targets(target: Settings, args: argparse.Namespace) -> tuple[Database, ChromaStore | None]:
    """The target database with every table created, and the index collection."""
    from ingestion.collection import Collections
    from ingestion.files import SCHEMA as ORIGINALS
    from ingestion.sync_state import SyncState
    from web.db import open_web_database

    database = open_web_database(target)
    Collections(database)  # creates the registry's tables and the collections'
    database.create(ORIGINALS)
    SyncState(database)  # folder sync's tables, at their latest migration
    index = None
    if args.to_index:
        from ingestion.store import ChromaStore

        index = ChromaStore.connect(args.to_index, token=args.index_token,
                                    collection=args.collection or target.index.collection)
    return database, index


def _refuse_unless_empty(database: Database, index: ChromaStore | None, audit: AuditSettings | None,
                         data_dir: Path, args: argparse.Namespace) -> None:
    """UserError naming every target that holds data already."""
    full = [f"{n} {t}" for t in (*WEB_COLUMNS, "documents", "originals", *SYNC_COLUMNS) if (n := count(database, t))]
    if index is not None and (n := index.count()):
        full.append(f"{n} chunks in {_masked(args.to_index)}")
    if audit is not None:
        from assistant.audit.log import open_store

        store = open_store(audit, data_dir)
        try:
            if store.last() is not None or store.checkpoints() or store.holds():
                full.append(f"an audit log in {store.location()}")
        finally:
            store.close()
    if full:
        raise UserError(f"the target is not empty ({', '.join(full)}): migrate only into an empty database and"
                        " collection, never into a live installation")


# --- copying ---------------------------------------------------------------------------------------------------


def _copy_web(source: Source, target: Database) -> None:
    """Users, conversations and turns, in one transaction."""
    with target.transaction() as conn:
        for table, columns in WEB_COLUMNS.items():
            for page in source.rows(table):
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)})"
                                 f" VALUES ({', '.join('?' * len(columns))})", page)


def _copy_documents(source: Source, target: Database) -> None:
    """The originals, then the ready rows, the collections and folder sync's rows in one transaction."""
    from ingestion.files import DatabaseOriginals

    # DatabaseOriginals keeps a local copy of what it writes: a throwaway one, as DATA_DIR/documents is the source.
    with tempfile.TemporaryDirectory(prefix="baken-migrate-") as cache:
        originals = DatabaseOriginals(target, Path(cache))
        for name in source.originals:
            originals.write(name, (source.data / "documents" / name).read_bytes())
            (Path(cache) / name).unlink()
    with target.transaction() as conn:
        conn.executemany(f"INSERT INTO documents ({', '.join(DOCUMENT_COLUMNS)})"
                         f" VALUES ({', '.join('?' * len(DOCUMENT_COLUMNS))})",
                         ([r[c] for c in DOCUMENT_COLUMNS] for r in source.ready))
        conn.executemany("INSERT INTO collections (name, title, created) VALUES (?, ?, ?)",
                         ([r["name"], r["title"], r["created"]] for r in source.collections))
        conn.executemany("INSERT INTO collection_grants (collection, group_name, created) VALUES (?, ?, ?)",
                         ([r["collection"], r["group_name"], r["created"]] for r in source.grants))
        for table, columns in SYNC_COLUMNS.items():
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                             source.sync.get(table, []))


# --- what is said ----------------------------------------------------------------------------------------------


def _print_audit(settings: Settings, audit: AuditSettings | None, records: int, verb: str,
                 verified: VerifyResult | None = None) -> None:
    if audit is None:
        print("audit log: stays where it is (it has its own BAKEN_AUDIT__DSN)" if settings.audit.dsn is not None
              else "audit log: none yet under DATA_DIR, nothing to copy")
        return
    line = f"audit log: {verb} {records} records to schema {audit.pg_schema}"
    if verified is not None:
        line += ("; the copy verifies" if verified.ok
                 else f"; the copy FAILED verification at record {verified.first_bad_seq}: {verified.reason}")
    print(line)


def _print_web(counts: dict[str, int], verb: str) -> None:
    print(f"web: {verb} {counts['users']} users, {counts['conversations']} conversations, {counts['turns']} turns"
          " (not sessions or login failures: everyone logs in again)")


def _print_documents(source: Source, verb: str) -> None:
    print(f"documents: {verb} {len(source.ready)} ready documents and {len(source.originals)} originals"
          + (f" ({source.unfinished} unfinished left behind)" if source.unfinished else "")
          + (f"; originals missing from DATA_DIR/documents: {', '.join(source.missing)}" if source.missing else ""))


def _print_sync(source: Source, verb: str) -> None:
    files, failures, runs = (len(source.sync.get(t, [])) for t in SYNC_COLUMNS)
    print(f"folder sync: {verb} {files} synced files, {failures} remembered failures and {runs} runs"
          " (the next sync finds the folder unchanged)")


def _print_index(settings: Settings, args: argparse.Namespace, source: Source, chunks: int, verb: str) -> None:
    if not args.to_index:
        where = _masked(settings.index.url) if settings.index.url else settings.data_dir / "index" / "chroma"
        print(f"index: stays where it is ({where}); several hosts need it on a Chroma server: --to-index URL")
        return
    print(f"index: {verb} {chunks} chunks to {_masked(args.to_index)} (collection"
          f" {args.collection or settings.index.collection}), not embedded again"
          + ("" if source.chunks is not None else "; there is no embedded index"))


def _print_next(settings: Settings, args: argparse.Namespace, schema: str, audit: AuditSettings | None) -> None:
    print("Next, set on every host (the DSN with its password):")
    print(f"  BAKEN_DATABASE__DSN={_masked(args.to_database)}")
    print(f"  BAKEN_DATABASE__PG_SCHEMA={schema}")
    if args.to_index:
        print(f"  BAKEN_INDEX__URL={_masked(args.to_index)}")
        print(f"  BAKEN_INDEX__COLLECTION={args.collection or settings.index.collection}")
        if args.index_token:
            print("  BAKEN_INDEX__TOKEN=****  (the token given)")
    if audit is not None:
        print(f"  BAKEN_AUDIT__PG_SCHEMA={audit.pg_schema}  (the audit log follows BAKEN_DATABASE__DSN)")
    print(f"Mount the audit key directory {settings.audit.keys_path(settings.data_dir)} on every host"
          " (BAKEN_AUDIT__KEY_DIR): all of them sign the one audit log with these keys.")
    print("Users log in again: sessions were not copied. DATA_DIR is left as it was.")


def _masked(dsn: str) -> str:
    """A DSN or URL with its password replaced by ****, for printing."""
    if "://" not in dsn:  # libpq's key=value form
        return re.sub(r"(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "password=****", dsn)
    parts = urlsplit(dsn)
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.split(':', 1)[0]}:****@{host}" if at and ":" in user else parts.netloc
    query = re.sub(r"(?i)(^|&)password=[^&]*", r"\1password=****", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))
