"""`baken collections add|grant|revoke|list`: which groups may read which documents."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from baken.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `collections` with `add`, `grant`, `revoke` and `list`."""
    collections = subparsers.add_parser("collections", help="document collections and the groups that read them")
    commands = collections.add_subparsers(dest="collections_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="make a collection (readable by no group until granted)")
    add.add_argument("name", help="lower-case letters, digits, - and _ (e.g. hr, jeugdzorg)")
    add.add_argument("--title", default="", help="the name shown on the Documenten page")
    add.set_defaults(handler=run_add)
    for verb, text, handler in (("grant", "let a group read a collection", run_grant),
                                ("revoke", "stop a group reading a collection (at once)", run_revoke)):
        command = commands.add_parser(verb, help=text)
        command.add_argument("name", help="the collection")
        command.add_argument("--group", required=True, help="the group (as users hold it, or as SSO maps it)")
        command.set_defaults(handler=handler)
    listing = commands.add_parser("list", help="list the collections, their groups and document counts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)


def registry_index(settings: Settings) -> Any:
    """An index over the registry (no embedding model loaded), recovered first because its callers change it."""
    from baken.wiring import build_index
    from ingestion.embedder import FakeEmbedder

    index = build_index(settings, embedder=FakeEmbedder())
    index.recover()
    return index


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """`baken collections add NAME [--title T]`."""
    collection = registry_index(settings).collections.add(args.name, args.title)
    log_change(settings, "collection.add", {"baken.collection": collection.name})
    print(f"Collectie {collection.name} aangemaakt; nog geen groep mag haar lezen "
          f"(baken collections grant {collection.name} --group GROEP).")
    return 0


def run_grant(args: argparse.Namespace, settings: Settings) -> int:
    """`baken collections grant NAME --group G`."""
    collection = registry_index(settings).collections.grant(args.name, args.group)
    log_change(settings, "collection.grant", {"baken.collection": collection.name, "baken.group": args.group})
    print(f"Groep {args.group} mag collectie {collection.name} lezen.")
    return 0


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """`baken collections revoke NAME --group G`."""
    collection = registry_index(settings).collections.revoke(args.name, args.group)
    log_change(settings, "collection.revoke", {"baken.collection": collection.name, "baken.group": args.group})
    print(f"Groep {args.group} mag collectie {collection.name} niet meer lezen.")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """`baken collections list [--json]`."""
    found = registry_index(settings).collections.list()
    if args.json:
        print(json.dumps([{"name": c.name, "title": c.title, "groups": list(c.groups), "open": c.open,
                           "documents": c.documents} for c in found], ensure_ascii=False, indent=2))
        return 0
    for c in found:
        readers = "iedere medewerker" if c.open else (", ".join(c.groups) or "(nog geen groep)")
        print(f"{c.name:20s} {c.documents:5d} documenten  {readers}")
    return 0


def log_change(settings: Settings, action: str, record: dict[str, Any]) -> None:
    """A change of who may read what, in the audit log, by the operating-system user at the terminal."""
    from baken.wiring import build_audit

    log = build_audit(settings)
    try:
        log.append(action, actor=f"os:{getpass.getuser()}", role="beheerder", outcome="ok", record=record)
    finally:
        log.close()
