"""Entry point of the `baken` command: builds Settings once, dispatches, maps errors to one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.errors import BakenError, UserError
from core.offline import go_offline

# Each command module has `register(subparsers)`, which adds its parsers with `set_defaults(handler=...)`;
# a handler takes (args, settings) and returns an exit status. A command that refuses to act on state it finds
# (a migration into a live database, a restore into a used directory) also sets `refuses="<what>"`: its
# UserError is then a refusal, exit status 1, rather than bad input (2).
COMMAND_MODULES = ("documents", "sync", "chat", "models", "audit", "redact", "serve", "migrate", "backup", "restore",
                   "apikeys", "collections", "index")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command module registered."""
    import importlib

    parser = argparse.ArgumentParser(prog="baken", description="Baken: the municipality's own AI assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"baken.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `baken` command; returns (and exits with) its status."""
    go_offline()
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from baken.settings import Settings
    from core.logging_setup import configure_logging
    from core.process import keep_private

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"BAKEN_{'__'.join(str(p).upper() for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        print(f"baken: invalid setting: {problems}", file=sys.stderr)
        return _exit(2, argv)
    if argv is None and args.command != "models":  # the process's own umask; models are for other users too
        keep_private(settings.data_dir)
    # Servers log at the configured level (INFO by default); one-shot commands only say what went wrong.
    level = "DEBUG" if args.verbose else (settings.log.level if args.command == "serve" else "WARNING")
    configure_logging(settings.log.model_copy(update={"level": level}))
    try:
        status = args.handler(args, settings)
    except UserError as exc:
        refuses = getattr(args, "refuses", None)
        print(f"baken: {refuses} refused: {exc}" if refuses else f"baken: {exc}", file=sys.stderr)
        status = 1 if refuses else 2
    except BakenError as exc:
        print(f"baken: {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 3
    except KeyboardInterrupt:
        print("baken: interrupted", file=sys.stderr)
        status = 130
    return _exit(status, argv)


def _exit(status: int, argv: Sequence[str] | None) -> int:
    if argv is None:
        sys.exit(status)
    return status
