"""`baken apikeys add/list/revoke`: the keys of the OpenAI-compatible API (`/v1`)."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import time
from typing import TYPE_CHECKING, Any

from baken.settings import Settings
from core.errors import UserError

if TYPE_CHECKING:
    from web.api.keys import ApiKey, ApiKeys

RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*min)?\s*$")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `apikeys` with `add`, `list` and `revoke`."""
    keys = subparsers.add_parser("apikeys", help="API keys of the OpenAI-compatible API (/v1)")
    commands = keys.add_subparsers(dest="apikeys_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="make a key (its token is shown once, only its hash is kept)")
    add.add_argument("name", help="a name for the key, e.g. the client: open-webui, word-add-in")
    add.add_argument("--owner", required=True, help="who answers for the key (a person or team)")
    add.add_argument("--purpose", required=True, help="what the key is for")
    add.add_argument("--collections", default="",
                     help="comma-separated collections the key may read besides algemeen (which every key reads)")
    add.add_argument("--rate", help="calls a minute, e.g. 60/min (default BAKEN_WEB__API_RATE_PER_MINUTE)")
    add.set_defaults(handler=run_add)
    listing = commands.add_parser("list", help="list the keys (never their tokens)")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(handler=run_list)
    revoke = commands.add_parser("revoke", help="revoke a key at once, on every host")
    revoke.add_argument("name", help="the key's name or id")
    revoke.set_defaults(handler=run_revoke)


def _keys(settings: Settings) -> ApiKeys:
    """The key store in the web database (imported late: the CLI starts fast)."""
    from web.api.keys import ApiKeys
    from web.db import open_web_database

    return ApiKeys(open_web_database(settings))


def _rate(text: str | None, settings: Settings) -> int:
    if text is None:
        return settings.web.api_rate_per_minute
    match = RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise UserError(f"--rate takes calls a minute, e.g. 60/min, not {text!r}")
    return int(match.group(1))


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """`baken apikeys add NAME --owner O --purpose P [--collections a,b] [--rate N/min]`."""
    collections = tuple(c.strip() for c in args.collections.split(",") if c.strip())
    key, token = _keys(settings).add(args.name, args.owner, args.purpose, collections, _rate(args.rate, settings))
    _log(settings, "apikey.add", key)
    print(f"Sleutel {key.name} ({key.id}) aangemaakt: {key.rate_per_minute}/min, collecties "
          f"{','.join(('algemeen', *key.collections))}.")
    print("Bewaar deze sleutel nu; Baken toont hem niet opnieuw:")
    print(token)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """`baken apikeys list [--json]`: id, name, owner, purpose, collections, rate, state, audit pseudonym."""
    from assistant.audit.keys import AuditKeys

    audit_keys = AuditKeys.load_or_create(settings.audit_log.keys_path(settings.data_dir))
    for key in _keys(settings).registered():
        row: dict[str, Any] = {"id": key.id, "name": key.name, "owner": key.owner, "purpose": key.purpose,
               "collections": list(key.collections), "rate_per_minute": key.rate_per_minute,
               "created": _when(key.created), "revoked": _when(key.revoked) if key.revoked else None,
               "audit_actor": audit_keys.pseudonym(key.actor)}
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            state = f"ingetrokken {row['revoked']}" if key.revoked else "actief"
            print(f"{key.id}\t{key.name}\t{key.owner}\t{key.purpose}\t{','.join(key.collections) or '(alle)'}\t"
                  f"{key.rate_per_minute}/min\t{state}\t{row['audit_actor'][:16]}")
    return 0


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """`baken apikeys revoke NAME`."""
    key = _keys(settings).revoke(args.name)
    _log(settings, "apikey.revoke", key)
    print(f"Sleutel {key.name} ({key.id}) ingetrokken.")
    return 0


def _log(settings: Settings, action: str, key: ApiKey) -> None:
    """The key's birth and revocation in the audit log: its id, its actor pseudonym (the actor of its calls), its
    collections and rate; not its owner or purpose (free text that may name a person: see `apikeys list`)."""
    from baken.wiring import build_audit

    log = build_audit(settings)
    try:
        log.append(action, actor=getpass.getuser(), role="beheerder", outcome="ok",
                   record={"baken.apikey.id": key.id, "baken.apikey.actor": log.pseudonym(key.actor),
                           "baken.apikey.collections": list(key.collections),
                           "baken.apikey.rate_per_minute": key.rate_per_minute})
    finally:
        log.close()


def _when(moment: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment or 0))
