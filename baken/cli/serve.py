"""`baken serve` (the web server) and `baken users add/set/list` (accounts, their roles and groups)."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import TYPE_CHECKING

from baken.settings import Settings
from core.errors import UserError

if TYPE_CHECKING:
    from web.accounts.store import User

ROLE_CHOICES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")


def _roles_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    roles = parser.add_mutually_exclusive_group(required=required)
    roles.add_argument("--role", action="append", choices=ROLE_CHOICES, metavar="ROLE",
                       help=f"a role ({', '.join(ROLE_CHOICES)}); repeat for several")
    roles.add_argument("--roles", metavar="A,B", help="several roles, separated by commas")
    parser.add_argument("--groups", metavar="G1,G2",
                        help="groups, separated by commas (they decide which collections the user may read)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve` and `users`."""
    serve = subparsers.add_parser("serve", help="start the web server (indexes the demo corpus on first start)")
    serve.add_argument("--host", help="address to listen on (default BAKEN_WEB__HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default BAKEN_WEB__PORT, 8000)")
    serve.add_argument("--no-demo", action="store_true", help="do not index the demo corpus into an empty index")
    serve.set_defaults(handler=run_serve)
    users = subparsers.add_parser("users", help="local accounts of the web interface")
    commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="add a local account",
                              description="auditor and beheerder are never combined (separation of duties).")
    add.add_argument("name")
    _roles_arguments(add, required=True)
    add.add_argument("--password-env", metavar="VAR",
                     help="take the password from this environment variable instead of asking for it")
    add.set_defaults(handler=run_users_add)
    change = commands.add_parser("set", help="replace an account's roles and/or groups",
                                 description="Replace the roles (--role/--roles) and/or the groups (--groups; an "
                                             "empty value removes every group) of an existing account.")
    change.add_argument("name")
    _roles_arguments(change, required=False)
    change.set_defaults(handler=run_users_set)
    listing = commands.add_parser("list", help="list the accounts with their roles and groups")
    listing.set_defaults(handler=run_users_list)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`baken serve`: first administrator, demo corpus into an empty index, then uvicorn on localhost."""
    import uvicorn

    from baken.cli.chat import demo_corpus
    from baken.cli.documents import ingest_paths
    from baken.wiring import build_services
    from web.accounts.setup import ensure_first_admin
    from web.app import create_app
    from web.settings import web_settings

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


def _roles(args: argparse.Namespace) -> list[str] | None:
    """The roles given as --role (repeated) or --roles a,b; None when neither was given."""
    if args.role:
        return list(args.role)
    return [r.strip() for r in args.roles.split(",")] if args.roles is not None else None


def run_users_add(args: argparse.Namespace, settings: Settings) -> int:
    """`baken users add NAME --role ROLE [--role ROLE2 | --roles a,b] [--groups G1,G2] [--password-env VAR]`."""
    from web.accounts.store import check_groups, check_roles
    from web.app import build_accounts

    roles, groups = check_roles(_roles(args) or []), check_groups(args.groups or "")  # refused before the password
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise UserError(f"the environment variable {args.password_env} is not set")
    else:
        password = getpass.getpass("Wachtwoord: ")
        if getpass.getpass("Nogmaals: ") != password:
            raise UserError("the two passwords differ")
    user = build_accounts(settings).add_user(args.name, roles, password, groups)
    _log_change(settings, "add", user)
    print(f"{user.name} ({_described(user)}) toegevoegd")
    return 0


def run_users_set(args: argparse.Namespace, settings: Settings) -> int:
    """`baken users set NAME [--role ROLE ... | --roles a,b] [--groups G1,G2]`."""
    from web.app import build_accounts

    accounts = build_accounts(settings)
    user = accounts.user_named(args.name)
    if user is None:
        raise UserError(f"er is geen gebruiker {args.name!r} / there is no user called {args.name!r}")
    roles = _roles(args)
    if roles is None and args.groups is None:
        raise UserError("geef --role, --roles of --groups / give --role, --roles or --groups")
    user = accounts.set_roles(user.id, roles, args.groups)
    _log_change(settings, "roles", user)
    print(f"{user.name}: {_described(user)}")
    return 0


def run_users_list(args: argparse.Namespace, settings: Settings) -> int:
    """`baken users list`: name, roles, groups, how the account logs in, active."""
    from web.app import build_accounts

    for user in build_accounts(settings).users():
        print(f"{user.name}\t{user.role.replace('+', ',')}\t{','.join(sorted(user.groups)) or '-'}\t{user.origin}\t"
              f"{'actief' if user.active else 'uitgeschakeld'}")
    return 0


def _log_change(settings: Settings, change: str, user: User) -> None:
    """A `user.change` record, as the Gebruikers page writes one, by the operating-system user as beheerder."""
    from baken.wiring import build_audit
    from web.accounts.store import ordered

    log = build_audit(settings)
    try:
        log.append_auth_event("user.change", actor=getpass.getuser(), role="beheerder", outcome="ok",
                              details={"baken.user.change": change, "baken.user.target": log.pseudonym(user.id),
                                       "baken.user.roles": ordered(user.roles), "baken.user.groups": sorted(user.groups),
                                       "baken.channel": "cli"})
    finally:
        log.close()


def _described(user: User) -> str:
    groups = f"; groepen {', '.join(sorted(user.groups))}" if user.groups else ""
    return f"rollen {user.role.replace('+', ', ')}{groups}"
