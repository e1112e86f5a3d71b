"""`baken ask` (one question) and `baken chat` (an interactive terminal chat over the indexed documents)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from baken.settings import Settings
from core.errors import BakenError, UserError

if TYPE_CHECKING:
    from assistant.turn import Actor

DEMO_PACKAGE = "baken.demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `ask` and `chat`."""
    ask = subparsers.add_parser("ask", help="answer one question from the indexed documents")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--user", help="answer with this account's rights (its groups' collections); without it,"
                                    " only the open collection algemeen")
    ask.set_defaults(handler=run_ask)
    chat = subparsers.add_parser("chat", help="chat in the terminal (indexes the demo corpus on first start)")
    chat.add_argument("--no-demo", action="store_true", help="do not index the demo corpus into an empty index")
    chat.set_defaults(handler=run_chat)


def demo_corpus() -> Path:
    """The folder of the demo documents shipped with Baken."""
    return Path(str(resources.files(DEMO_PACKAGE)))


def cli_actor() -> Actor:
    """The person at the terminal: the operating-system user, as an employee (pseudonymised in the log)."""
    from assistant.turn import Actor

    return Actor(user_id=f"os:{getpass.getuser()}", role="medewerker")


def user_actor(settings: Settings, index, name: str) -> Actor:
    """The account ``name`` as the one who asks: its id, and the collections its groups may read."""
    from assistant.turn import Actor
    from web.app import build_accounts

    user = build_accounts(settings).user_named(name)
    if user is None or not user.active:
        raise UserError(f"er is geen actief account {name!r} (baken users list)")
    role = next((r for r in ("medewerker", "informatiebeheerder") if user.has(r)), None)  # who may chat on the web
    if role is None:
        raise UserError(f"{name!r} heeft de rol medewerker of informatiebeheerder niet en mag geen vragen stellen")
    return Actor(user_id=user.id, role=role, collections=index.collections.readable(user.groups))


def result_json(result) -> dict:
    """The `ask --json` object: answer, evidence, checked sentences, sources, model."""
    return {
        "answer": result.answer,
        "evidence": result.evidence_records(),
        "sentences": [s.record() for s in result.sentences],
        "withheld": result.withheld,
        "mode": result.mode,
        "follow_up": result.follow_up,
        "sources": [s.record() for s in result.sources],
        "model": result.model,
        "outcome": result.outcome,
    }


def _print_evidence(result) -> None:
    """The evidence, as soon as it is chosen (before the model's answer)."""
    if not result.evidence:
        return
    print("Uit de documenten:")
    for e in result.evidence_records():
        where = e["title"] + (f" — {e['heading']}" if e["heading"] and e["heading"] != e["title"] else "")
        page = f", p. {e['page']}" if e["page"] else ""
        print(f"  “{e['text']}” [{e['n']}] {where}{page}")
    print(flush=True)


def _print_answer(piece: str, result_mode: str) -> None:
    """The checked answer (in extractive mode the evidence printed before is the answer)."""
    if result_mode != "extractive":
        print(piece, end="", flush=True)


def _print_sources(result) -> None:
    for s in result.sources:
        page = f", p. {s.page}" if s.page else ""
        mark = "*" if s.cited else " "
        print(f" {mark}[{s.n}] {s.title}{page} — {s.document} (score {s.score:.2f})")


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`baken ask QUESTION [--json]`."""
    from baken.wiring import build_assistant

    assistant = build_assistant(settings)
    question = " ".join(args.question)
    actor = user_actor(settings, assistant.index, args.user) if args.user else cli_actor()
    if args.json:
        print(json.dumps(result_json(assistant.ask(question, actor=actor)), ensure_ascii=False, indent=2))
        return 0
    result = assistant.ask(question, actor=actor, on_token=lambda t: _print_answer(t, settings.answer.mode),
                           on_evidence=_print_evidence)
    print()
    _print_sources(result)
    return 0


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    """`baken chat`: a read-eval-print loop; `/nieuw` starts a new conversation, `/stop` or Ctrl-D ends."""
    from baken.cli.documents import ingest_paths
    from baken.wiring import build_assistant, build_index

    index = build_index(settings)
    if not index.documents() and not args.no_demo:
        print("Eerste start: de demodocumenten van Gemeente Voorbeeld worden geïndexeerd…")
        ingest_paths(index, sorted(demo_corpus().glob("*.md")))
    print("Baken laadt het taalmodel…", flush=True)
    assistant = build_assistant(settings, index=index)
    print(f"Baken is klaar ({len(index.documents())} documenten). Stel een vraag; /nieuw begint een nieuw "
          "gesprek, /stop sluit af.\nLet op: antwoorden zijn door AI gemaakt; controleer ze in de bronnen.")
    conversation = assistant.new_conversation()
    while True:
        try:
            question = input("\nVraag> ").strip()
        except EOFError:
            print()
            return 0
        if question in {"/stop", "/quit", "/exit"}:
            return 0
        if question in {"/nieuw", "/new"}:
            conversation = assistant.new_conversation()
            print("Nieuw gesprek.")
            continue
        if not question:
            continue
        try:
            result = assistant.ask(question, conversation, cli_actor(),
                                   on_token=lambda t: _print_answer(t, settings.answer.mode),
                                   on_evidence=_print_evidence)
        except UserError as exc:
            print(f"baken: {exc}", file=sys.stderr)
            continue
        except BakenError as exc:
            print(f"baken: dit antwoord is mislukt ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        print()
        _print_sources(result)
