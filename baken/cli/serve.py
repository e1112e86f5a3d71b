"""`baken serve` (the web server) and `baken users add/list` (local accounts)."""

from __future__ import annotations

import argparse
import getpass
import os

from baken.settings import Settings
from core.errors import UserError

ROLE_CHOICES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve` and `users`."""
    serve = subparsers.add_parser("serve", help="start the web server (indexes the demo corpus on first start)")
    serve.add_argument("--host", help="address to listen on (default BAKEN_WEB__HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default BAKEN_WEB__PORT, 8000)")
    serve.add_argument("--no-demo", action="store_true", help="do not index the demo corpus into an empty index")
    serve.set_defaults(handler=run_serve)
    users = subparsers.add_parser("users", help="local accounts of the web interface")
    commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="add an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add.add_argument("--password-env", metavar="VAR",
                     help="take the password from this environment variable instead of asking for it")
    add.set_defaults(handler=run_users_add)
    listing = commands.add_parser("list", help="list the accounts")
    listing.set_defaults(handler=run_users_list)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`baken serve`: first administrator, demo corpus into an empty index, then uvicorn on localhost."""
    import uvicorn

    from baken.cli.chat import demo_corpus
    from baken.cli.documents import ingest_paths
    from baken.wiring import build_services
    from web.app import create_app
    from web.settings import web_settings
    from web.setup import ensure_first_admin

    web = web_settings(settings)
    host, port = args.host or web.host, args.port or web.port
    ensure_first_admin(settings)
    print("Baken laadt de modellen…", flush=True)
    services = build_services(settings)
    if not services.index.documents() and web.demo_corpus and not args.no_demo:
        print("Eerste start: de demodocumenten van Gemeente Voorbeeld worden geïndexeerd…", flush=True)
        ingest_paths(services.index, sorted(demo_corpus().glob("*.md")))
    print(f"Baken draait op http://{host}:{port}/ (Ctrl-C stopt)", flush=True)
    proxies = [p.strip() for p in web.trusted_proxies.split(",") if p.strip()]
    uvicorn.run(create_app(settings, services), host=host, port=port, log_level="warning",
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None, server_header=False)
    services.close()
    return 0


def run_users_add(args: argparse.Namespace, settings: Settings) -> int:
    """`baken users add NAME --role ROLE [--password-env VAR]`."""
    from web.app import build_accounts

    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise UserError(f"the environment variable {args.password_env} is not set")
    else:
        password = getpass.getpass("Wachtwoord: ")
        if getpass.getpass("Nogmaals: ") != password:
            raise UserError("the two passwords differ")
    user = build_accounts(settings).add_user(args.name, args.role, password)
    print(f"{user.name} ({user.role}) toegevoegd")
    return 0


def run_users_list(args: argparse.Namespace, settings: Settings) -> int:
    """`baken users list`: name, role, active."""
    from web.app import build_accounts

    for user in build_accounts(settings).users():
        print(f"{user.name}\t{user.role}\t{'actief' if user.active else 'uitgeschakeld'}")
    return 0
