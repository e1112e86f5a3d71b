"""`baken audit ...`: verify, checkpoint, export, purge, legal holds, viewing records and copying the audit log.

Every command acts as the operating-system user with the role "auditor", and every reading is itself logged
(a copy is logged in the target, which records where its history came from).
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from assistant.audit import AuditLog, copy_audit_log
from core.errors import UserError

ROLE = "auditor"


def _auditor() -> str:
    return getpass.getuser()


@contextmanager
def _open(settings: Any) -> Iterator[AuditLog]:
    log = AuditLog.open(settings.audit_log, Path(settings.data_dir))
    try:
        yield log
    finally:
        log.close()


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc}") from exc
    with handle:
        yield handle


def _verify(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        result = log.verify(args.checkpoint, witness=args.witness, auditor=_auditor(), role=ROLE)
    if not result.ok:
        print(f"FAILED at record {result.first_bad_seq}: {result.reason}")
        return 1
    witnessed = f", {result.witnessed} witnessed checkpoint(s) match" if args.witness is not None else ""
    print(f"OK: {result.records} records, chain intact, {result.checkpoints} signed checkpoint(s) match{witnessed}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _checkpoint(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        # Logged first, so that the checkpoint covers its own request.
        log.append("audit.checkpoint", actor=_auditor(), role=ROLE, outcome="ok",
                   record={"baken.checkpoint.file": args.output is not None})
        checkpoint = log.checkpoint()
    if args.output is not None:
        checkpoint.write(args.output)
        print(f"checkpoint at seq {checkpoint.seq} written to {args.output}")
    else:
        print(json.dumps(checkpoint.to_dict(), indent=2))
    return 0


def _public_key(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        pem = log.public_key_pem()
    if args.output is not None:
        args.output.write_bytes(pem)
    else:
        sys.stdout.write(pem.decode("ascii"))
    return 0


def _export(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        actor = args.actor_pseudonym or (log.pseudonym(args.actor) if args.actor else None)
        with _output(args.output) as out:
            count = log.export(out, args.format, since=args.since, until=args.until, actor=actor,
                               document=args.document, auditor=_auditor(), role=ROLE)
    print(f"exported {count} record(s)", file=sys.stderr)
    return 0


def _purge(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        result = log.purge(dry_run=args.dry_run, actor=_auditor(), role=ROLE)
    verb = "would destroy" if result.dry_run else "destroyed"
    print(f"{verb} the content of {len(result.content_seqs)} record(s) and the metadata of "
          f"{len(result.metadata_seqs)}; {len(result.held_seqs)} kept under legal hold")
    if result.record_seq is not None:
        print(f"purge record: {result.record_seq}")
    return 0


def _copy(args: argparse.Namespace, settings: Any) -> int:
    source = settings.audit_log
    target = source.model_copy(update={"dsn": SecretStr(args.to_dsn),
                                       "pg_schema": args.to_schema or source.pg_schema})
    result = copy_audit_log(source, target, Path(settings.data_dir), actor=_auditor(), role=ROLE)
    print(f"copied {result.records} record(s), {result.content_rows} content row(s), {result.checkpoints} "
          f"checkpoint(s) and {result.holds} hold(s) from {result.source} to {result.target}")
    verified = result.verified
    if not verified.ok:
        print(f"target FAILED verification at record {verified.first_bad_seq}: {verified.reason}")
        return 1
    print(f"OK: the target verifies: {verified.records} records (the last says where they came from), "
          f"{verified.checkpoints} signed checkpoint(s) match")
    return 0


def _schema_name(text: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", text):
        raise argparse.ArgumentTypeError(f"not a schema name: {text!r} (lowercase letters, digits and _)")
    return text


def _seq_range(text: str) -> tuple[int, int | None]:
    first, dash, last = text.partition("-")
    try:
        low = int(first)
        return low, (int(last) if last else None) if dash else low
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a seq range: {text!r} (use 10-20, 10- or 15)") from exc


def _hold_add(args: argparse.Namespace, settings: Any) -> int:
    seq_from, seq_to = args.seqs if args.seqs else (None, None)
    with _open(settings) as log:
        hold_id = log.add_hold(reason=args.reason, actor=_auditor(), role=ROLE,
                               conversation_id=args.conversation, seq_from=seq_from, seq_to=seq_to)
    print(f"legal hold {hold_id} in force")
    return 0


def _hold_remove(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        log.remove_hold(args.id, actor=_auditor(), role=ROLE)
    print(f"legal hold {args.id} lifted")
    return 0


def _hold_list(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        holds = log.holds()
    for hold in holds:
        scope = (f"conversation {hold.conversation_id}" if hold.conversation_id is not None
                 else f"seqs {hold.seq_from or 1}-{hold.seq_to if hold.seq_to is not None else ''}")
        print(f"{hold.id}\t{scope}\t{hold.created}\t{hold.reason}")
    if not holds:
        print("no legal holds")
    return 0


def _show(args: argparse.Namespace, settings: Any) -> int:
    with _open(settings) as log:
        row = log.get(args.seq, auditor=_auditor(), role=ROLE)
    shown = {
        "seq": row.seq, "time": row.time, "action": row.action, "record_hash": row.record_hash.hex(),
        "head": row.head.hex(),
        "record": json.loads(row.record_json) if row.record_json is not None else "(metadata purged)",
        "content": json.loads(row.content_json) if row.content_json is not None else None,
    }
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def register(subparsers: Any) -> None:
    """Add `baken audit` and its subcommands."""
    audit = subparsers.add_parser("audit", help="check, export and purge the tamper-evident audit log")
    commands = audit.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)

    verify = commands.add_parser("verify", help="check the whole chain and the indexed columns; names the first "
                                 "bad record")
    verify.add_argument("--checkpoint", type=Path, help="also check against this exported checkpoint file")
    verify.add_argument("--witness", type=Path, metavar="DIR",
                        help="also check against every checkpoint in this witness directory (BAKEN_AUDIT__WITNESS_DIR "
                             "or a copy of it): reveals a log that was rewritten and re-signed")
    verify.set_defaults(handler=_verify)

    checkpoint = commands.add_parser("checkpoint", help="sign the current head now")
    checkpoint.add_argument("--output", type=Path, help="write the checkpoint file here (else print it)")
    checkpoint.set_defaults(handler=_checkpoint)

    public_key = commands.add_parser("public-key", help="print the public key that verifies checkpoints")
    public_key.add_argument("--output", type=Path, help="write the PEM file here")
    public_key.set_defaults(handler=_public_key)

    export = commands.add_parser("export", help="export records as verifiable JSONL or flat CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", help="from this UTC date or time (ISO-8601), inclusive")
    export.add_argument("--until", help="up to this UTC date or time (ISO-8601), exclusive")
    who = export.add_mutually_exclusive_group()
    who.add_argument("--actor", help="only this user (the user id; it is pseudonymised before the search)")
    who.add_argument("--actor-pseudonym", help="only this actor pseudonym, as it appears in the log")
    export.add_argument("--document", help="only records about this document id or content hash")
    export.add_argument("--output", type=Path, help="write to this file (else standard output)")
    export.set_defaults(handler=_export)

    purge = commands.add_parser("purge", help="destroy content and metadata past retention (holds respected)")
    purge.add_argument("--dry-run", action="store_true", help="only report what would be destroyed")
    purge.set_defaults(handler=_purge)

    hold = commands.add_parser("hold", help="legal holds: records that purge must keep")
    holds = hold.add_subparsers(dest="hold_command", metavar="ACTION", required=True)
    add = holds.add_parser("add", help="put a hold on a conversation or a seq range")
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--conversation", help="the conversation id to hold")
    scope.add_argument("--seqs", type=_seq_range, help="the seqs to hold: FIRST-LAST, FIRST- or SEQ")
    add.add_argument("--reason", required=True, help="why (e.g. the Woo request or case number)")
    add.set_defaults(handler=_hold_add)
    remove = holds.add_parser("remove", help="lift a hold")
    remove.add_argument("id", type=int, help="the hold id (see `baken audit hold list`)")
    remove.set_defaults(handler=_hold_remove)
    holds.add_parser("list", help="list the holds in force").set_defaults(handler=_hold_list)

    copy = commands.add_parser("copy", help="copy the whole log into an empty PostgreSQL schema (chain intact)")
    copy.add_argument("--to-dsn", required=True, metavar="DSN",
                      help="the target PostgreSQL, e.g. postgresql://baken@db/baken (a password may come from "
                           "PGPASSWORD or ~/.pgpass instead of the command line)")
    copy.add_argument("--to-schema", type=_schema_name, metavar="NAME",
                      help="the target schema (default: the configured BAKEN_AUDIT__PG_SCHEMA)")
    copy.set_defaults(handler=_copy, refuses="copy")

    show = commands.add_parser("show", help="show one record with its content")
    show.add_argument("seq", type=int)
    show.set_defaults(handler=_show)
