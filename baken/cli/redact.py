"""`baken redact [--json]`: personal data out of the text on stdin, as Baken does before the model sees it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from guardrails import PiiSettings, Redactor, Vault


def register(subparsers: Any) -> None:
    """Add the `redact` command."""
    parser = subparsers.add_parser(
        "redact", help="redact personal data from text on stdin",
        description="Read text on stdin and print it with personal data replaced by placeholders such as "
                    "[BSN_1]. Nothing is logged.")
    parser.add_argument("--document", action="store_true",
                        help="treat the text as a retrieved document (precision first, as Baken does for sources) "
                             "instead of as a typed question (recall first, the default, as in the web chat)")
    parser.add_argument("--json", action="store_true",
                        help='print {"text", "findings": [{type, start, end, placeholder, score, recognizer}]}; '
                             "offsets are into the input")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    """Redact stdin to stdout; returns the exit status."""
    pii: PiiSettings = settings.pii
    text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    redactor = Redactor(pii, settings.model_dir)
    result = redactor.redact(text, Vault(), kind="document" if args.document else "typed")
    if args.json:
        payload = {"text": result.text, "findings": [dataclasses.asdict(f) for f in result.findings]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(result.text)
        if not result.text.endswith("\n"):
            sys.stdout.write("\n")
    return 0
