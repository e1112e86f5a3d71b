"""The administrator's page: list accounts with their roles and groups, add one, change its roles and groups,
enable or disable one (each change is logged)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.errors import UserError
from web.accounts.store import ROLES, RoleConflict, User, ordered
from web.auth import acting_role, requires
from web.context import Form, ctx, language, render, session_of
from web.i18n import translator

USERS = [requires("users")]


def _page(request: Request[Any, Any, Any], status_code: int = 200, message: str = "", error: bool = False) -> Template:
    return render(request, "pages/users.html", status_code, section="users", users=ctx(request).accounts.users(),
                  roles=ROLES, message=message, error=error)


def _chosen(data: dict[str, str]) -> list[str]:
    """The roles ticked in a form (one checkbox `role_<name>` each)."""
    return [r for r in ROLES if data.get(f"role_{r}")]


def _refusal(request: Request[Any, Any, Any], exc: UserError, roles: list[str]) -> str:
    """A refused change in the user's language (the account store's own messages carry both languages)."""
    t = translator(language(request))
    if isinstance(exc, RoleConflict):
        return t("users.separation")
    return t("users.no_role") if not roles else str(exc)


def _log_change(request: Request[Any, Any, Any], change: str, target: User, **details: Any) -> None:
    context, admin = ctx(request), session_of(request).user
    if context.audit is not None:
        context.audit.append_auth_event("user.change", actor=admin.id, role=acting_role(admin, "users"), outcome="ok",
                                        details={"baken.user.change": change,
                                                 "baken.user.target": context.audit.pseudonym(target.id),
                                                 **{f"baken.user.{k}": v for k, v in details.items()}})


@get("/admin/users", guards=USERS, sync_to_thread=True)
def users_page(request: Request[Any, Any, Any]) -> Template:
    """Every account and the form to add one."""
    return _page(request)


@post("/admin/users/add", guards=USERS, sync_to_thread=True)
def add_user(request: Request[Any, Any, Any], data: Form) -> Template:
    """Add a local account (argon2id hash) with its roles and groups; the change is logged."""
    roles = _chosen(data) or [r for r in (data.get("role") or "").split(",") if r]  # one `role` field: older forms
    try:
        user = ctx(request).accounts.add_user(data.get("name") or "", roles, data.get("password") or "",
                                              data.get("groups") or "")
    except UserError as exc:
        return _page(request, 400, _refusal(request, exc, roles), error=True)
    _log_change(request, "add", user, role=user.role, roles=ordered(user.roles), groups=sorted(user.groups))
    return _page(request, 200, translator(language(request))("users.added", name=user.name))


def _edit(request: Request[Any, Any, Any], target: User, status_code: int = 200, message: str = "",
          error: bool = False) -> Template:
    return render(request, "pages/user_edit.html", status_code, section="users", target=target, roles=ROLES,
                  message=message, error=error)


@get("/admin/users/{user_id:str}", guards=USERS, sync_to_thread=True)
def edit_page(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Template:
    """The form to change one account's roles and groups."""
    target = ctx(request).accounts.user(user_id)
    if target is None:
        raise NotFoundException()
    return _edit(request, target)


@post("/admin/users/{user_id:str}/roles", guards=USERS, sync_to_thread=True)
def set_roles(request: Request[Any, Any, Any], user_id: FromPath[str], data: Form) -> Template:
    """Replace one account's roles and groups (its sessions see them at once); the change is logged. An
    administrator cannot take their own beheerder role away (someone must be left to administer)."""
    context, admin = ctx(request), session_of(request).user
    target = context.accounts.user(user_id)
    if target is None:
        raise NotFoundException()
    roles, t = _chosen(data), translator(language(request))
    if target.id == admin.id and "beheerder" not in roles:
        return _edit(request, target, 400, t("users.own_admin"), error=True)
    try:
        changed = context.accounts.set_roles(user_id, roles, data.get("groups") or "")
    except UserError as exc:
        return _edit(request, target, 400, _refusal(request, exc, roles), error=True)
    _log_change(request, "roles", changed, role=changed.role, roles=ordered(changed.roles),
                groups=sorted(changed.groups))
    return _edit(request, changed, 200, t("users.saved", name=changed.name))


@post("/admin/users/{user_id:str}/active", guards=USERS, sync_to_thread=True)
def set_active(request: Request[Any, Any, Any], user_id: FromPath[str], data: Form) -> Redirect:
    """Enable or disable an account (disabling ends its sessions); the change is logged."""
    context, admin = ctx(request), session_of(request).user
    target = context.accounts.user(user_id)
    if target is None or target.id == admin.id:
        raise NotFoundException()
    active = data.get("active") == "1"
    context.accounts.set_active(user_id, active)
    _log_change(request, "enable" if active else "disable", target)
    return Redirect("/admin/users", status_code=303)


ROUTES = [users_page, add_user, edit_page, set_roles, set_active]
