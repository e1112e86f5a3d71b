"""`baken ingest` and `baken documents list|delete|move`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

from baken.settings import Settings

IGNORED_NAMES = {".DS_Store", "Thumbs.db"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the document commands."""
    ingest = subparsers.add_parser("ingest", help="index files and folders")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--collection", default="algemeen",
                        help="the collection the documents go into (default algemeen, open to every employee)")
    ingest.set_defaults(handler=run_ingest)

    documents = subparsers.add_parser("documents", help="list, move or delete indexed documents")
    actions = documents.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list indexed documents")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--collection", help="only the documents of this collection")
    listing.set_defaults(handler=run_list)
    move = actions.add_parser("move", help="put a document in another collection (takes effect at once)")
    move.add_argument("reference", metavar="ID", help="document id (or a unique prefix of it) or path")
    move.add_argument("--collection", required=True, help="the collection it moves to")
    move.set_defaults(handler=run_move)
    delete = actions.add_parser("delete", help="remove a document and all its chunks")
    delete.add_argument("reference", metavar="ID", help="document id (or a unique prefix of it) or path")
    delete.set_defaults(handler=run_delete)


def collect_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files named or found (recursively, hidden ones skipped) under folders; and errors for missing paths."""
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name not in IGNORED_NAMES
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{shown(path)}: no such file or folder")
    return files, errors


def shown(path: Path | str) -> str:
    """A path as printed: control characters (a hostile name's terminal escapes, undecodable bytes) as "?"."""
    return "".join("?" if unicodedata.category(c)[0] == "C" else c for c in str(path))


def ingest_paths(index, paths: list[Path], quiet: bool = False, collection: str = "algemeen") -> int:
    """Index files, one line per failure, a summary at the end; returns the exit status."""
    from tqdm import tqdm

    collection = index.collections.require(collection)  # before any work: an unknown one is a typo
    files, errors = collect_files(paths)
    for error in errors:
        print(f"baken: {error}", file=sys.stderr)
    started = time.perf_counter()
    counts = {"new": 0, "replaced": 0, "unchanged": 0, "failed": 0}
    chunks = 0
    bar = tqdm(total=len(files), unit="doc", disable=quiet or len(files) < 2, file=sys.stderr,
               dynamic_ncols=True)

    def done(file: Path, outcome) -> None:
        nonlocal chunks
        counts[outcome.status] += 1
        if outcome.status == "failed":
            tqdm.write(f"baken: {shown(file)}: {outcome.error}", file=sys.stderr)
        elif outcome.status != "unchanged":
            chunks += outcome.chunks
        bar.set_postfix_str(shown(file.name)[:40], refresh=False)
        bar.update(1)

    index.ingest_files(files, on_done=done, collection=collection)
    bar.close()
    seconds = time.perf_counter() - started
    print(f"{counts['new'] + counts['replaced']} documents indexed ({counts['new']} new, {counts['replaced']} "
          f"replaced), {counts['unchanged']} unchanged, {counts['failed']} failed; {chunks} chunks in "
          f"{seconds:.1f} s")
    return 1 if counts["failed"] or errors else 0


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`baken ingest PATH…`."""
    from baken.wiring import build_index

    index = build_index(settings)
    index.start_parsing()  # the worker starts while the index recovers and the embedder loads
    index.recover()
    return ingest_paths(index, args.paths, args.quiet, args.collection)


def _registry_index(settings: Settings):
    """An index for listing and deleting: needs no embedding model loaded."""
    from baken.wiring import build_index
    from ingestion.embedder import FakeEmbedder

    index = build_index(settings, embedder=FakeEmbedder())
    index.recover()  # it deletes: finish what a killed process left half-way first
    return index


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """`baken documents list [--json]`."""
    index = _registry_index(settings)
    documents = index.documents({index.collections.require(args.collection)} if args.collection else None)
    if args.json:
        print(json.dumps([{"id": d.doc_id, "document": d.source, "name": d.name, "title": d.title,
                           "kind": d.kind, "size": d.size, "chunks": d.chunks, "ingested_at": d.ingested_at,
                           "collection": d.collection} for d in documents], ensure_ascii=False, indent=2))
        return 0
    if not documents:
        print("No documents indexed yet: `baken ingest PATH`.")
        return 0
    for d in documents:
        print(f"{d.doc_id[:12]}  {d.chunks:5d} chunks  {d.kind:8s}  {d.collection[:12]:12s}  {d.title[:50]:50s}"
              f"  {d.source}")
    print(f"{len(documents)} documents, {sum(d.chunks for d in documents)} chunks")
    return 0


def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    """`baken documents delete ID`."""
    index = _registry_index(settings)
    record = index.delete(index.find(args.reference).doc_id)
    print(f"Deleted {record.doc_id[:12]} ({record.source}, {record.chunks} chunks).")
    return 0


def run_move(args: argparse.Namespace, settings: Settings) -> int:
    """`baken documents move ID --collection NAME`."""
    from baken.cli.collections import log_change

    index = _registry_index(settings)
    record = index.find(args.reference)
    target = index.collections.require(args.collection)
    index.move(record.doc_id, target)
    log_change(settings, "document.move", {"baken.document.id": record.doc_id, "baken.collection.from":
                                           record.collection, "baken.collection": target})
    print(f"Verplaatst: {record.doc_id[:12]} ({record.title}) van {record.collection} naar {target}.")
    return 0
