"""The administrator's page: list accounts, add one, enable or disable one (each change is logged)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.errors import UserError
from web.accounts import ROLES
from web.auth import requires
from web.context import ctx, language, render, session_of
from web.i18n import translator
from web.routes.session import Form

USERS = [requires("users")]


def _page(request: Request[Any, Any, Any], status_code: int = 200, message: str = "", error: bool = False) -> Template:
    return render(request, "pages/users.html", status_code, section="users", users=ctx(request).accounts.users(),
                  roles=ROLES, message=message, error=error)


@get("/admin/users", guards=USERS, sync_to_thread=True)
def users_page(request: Request[Any, Any, Any]) -> Template:
    """Every account and the form to add one."""
    return _page(request)


@post("/admin/users/add", guards=USERS, sync_to_thread=True)
def add_user(request: Request[Any, Any, Any], data: Form) -> Template:
    """Add an account (argon2id hash); the change is logged."""
    context, admin = ctx(request), session_of(request).user
    try:
        user = context.accounts.add_user(data.get("name") or "", data.get("role") or "", data.get("password") or "")
    except UserError as exc:
        return _page(request, 400, str(exc), error=True)
    if context.audit is not None:
        context.audit.append_auth_event("user.change", actor=admin.id, role=admin.role, outcome="ok",
                                        details={"baken.user.change": "add", "baken.user.target":
                                                 context.audit.pseudonym(user.id), "baken.user.role": user.role})
    return _page(request, 200, translator(language(request))("users.added", name=user.name))


@post("/admin/users/{user_id:str}/active", guards=USERS, sync_to_thread=True)
def set_active(request: Request[Any, Any, Any], user_id: FromPath[str], data: Form) -> Redirect:
    """Enable or disable an account (disabling ends its sessions); the change is logged."""
    context, admin = ctx(request), session_of(request).user
    target = context.accounts.user(user_id)
    if target is None or target.id == admin.id:
        raise NotFoundException()
    active = data.get("active") == "1"
    context.accounts.set_active(user_id, active)
    if context.audit is not None:
        context.audit.append_auth_event("user.change", actor=admin.id, role=admin.role, outcome="ok",
                                        details={"baken.user.change": "enable" if active else "disable",
                                                 "baken.user.target": context.audit.pseudonym(user_id)})
    return Redirect("/admin/users", status_code=303)


ROUTES = [users_page, add_user, set_active]
