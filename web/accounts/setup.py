"""First start: the first administrator account, with its password from the environment or printed once."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping

from core.errors import UserError
from web.app import build_accounts
from web.settings import AppSettings, web_settings

FIRST_ADMIN_ROLES = ("beheerder", "medewerker", "informatiebeheerder")


def ensure_first_admin(settings: AppSettings, environ: Mapping[str, str] | None = None,
                       say: Callable[[str], None] = print) -> bool:
    """Create the first administrator when there are no accounts yet; returns True when it was created. It is
    also a `medewerker` and `informatiebeheerder`, so that the first start can ask a question and add documents
    at once (never an `auditor`: separation of duties).

    The password comes from the variable named by `web.admin_password_env` (BAKEN_ADMIN_PASSWORD); when that
    is unset, a random one is generated and shown once through ``say`` (it is stored only as an argon2id hash).
    """
    web = web_settings(settings)
    accounts = build_accounts(settings)
    if accounts.users():
        return False
    environ = os.environ if environ is None else environ
    password = environ.get(web.admin_password_env)
    try:
        accounts.add_user(web.admin_name, FIRST_ADMIN_ROLES, password or (generated := secrets.token_urlsafe(15)))
    except UserError:
        if accounts.users():  # another process, starting at the same moment, created it first
            return False
        raise
    if password:
        say(f"Baken: administrator account {web.admin_name!r} created with the password from "
            f"${web.admin_password_env}.")
    else:
        say(f"Baken: administrator account {web.admin_name!r} created. Its password, shown only this once: "
            f"{generated}")
    return True
