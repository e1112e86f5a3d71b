"""The administrator's page: list accounts with their roles and groups, add one, change its roles and groups,
enable or disable one; each route parses the form, calls `web.accounts.admin.UserAdmin` (which logs the
change), and renders."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.errors import NotFound, UserError
from web.accounts.admin import OwnAdminRole, UserAdmin
from web.accounts.store import ROLES, RoleConflict, User
from web.auth import requires
from web.context import Form, ctx, language, render, session_of
from web.i18n import translator

USERS = [requires("users")]


def _admin(request: Request[Any, Any, Any]) -> UserAdmin:
    return UserAdmin(ctx(request), session_of(request).user)


def _page(request: Request[Any, Any, Any], status_code: int = 200, message: str = "", error: bool = False) -> Template:
    return render(request, "pages/users.html", status_code, section="users", users=_admin(request).users(),
                  roles=ROLES, message=message, error=error)


def _chosen(data: dict[str, str]) -> list[str]:
    """The roles ticked in a form (one checkbox `role_<name>` each)."""
    return [r for r in ROLES if data.get(f"role_{r}")]


def _refusal(request: Request[Any, Any, Any], exc: UserError, roles: list[str]) -> str:
    """A refused change in the user's language (the account store's own messages carry both languages)."""
    t = translator(language(request))
    if isinstance(exc, OwnAdminRole):
        return t("users.own_admin")
    if isinstance(exc, RoleConflict):
        return t("users.separation")
    return t("users.no_role") if not roles else str(exc)


@get("/admin/users", guards=USERS, sync_to_thread=True)
def users_page(request: Request[Any, Any, Any]) -> Template:
    """Every account and the form to add one."""
    return _page(request)


@post("/admin/users/add", guards=USERS, sync_to_thread=True)
def add_user(request: Request[Any, Any, Any], data: Form) -> Template:
    """Add a local account (argon2id hash) with its roles and groups; the change is logged."""
    roles = _chosen(data) or [r for r in (data.get("role") or "").split(",") if r]  # one `role` field: older forms
    try:
        user = _admin(request).add(data.get("name") or "", roles, data.get("password") or "", data.get("groups") or "")
    except UserError as exc:
        return _page(request, 400, _refusal(request, exc, roles), error=True)
    return _page(request, 200, translator(language(request))("users.added", name=user.name))


def _edit(request: Request[Any, Any, Any], target: User, status_code: int = 200, message: str = "",
          error: bool = False) -> Template:
    return render(request, "pages/user_edit.html", status_code, section="users", target=target, roles=ROLES,
                  message=message, error=error)


@get("/admin/users/{user_id:str}", guards=USERS, sync_to_thread=True)
def edit_page(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Template:
    """The form to change one account's roles and groups."""
    try:
        return _edit(request, _admin(request).user(user_id))
    except NotFound as exc:
        raise NotFoundException() from exc


@post("/admin/users/{user_id:str}/roles", guards=USERS, sync_to_thread=True)
def set_roles(request: Request[Any, Any, Any], user_id: FromPath[str], data: Form) -> Template:
    """Replace one account's roles and groups (its sessions see them at once); the change is logged. An
    administrator cannot take their own beheerder role away (someone must be left to administer)."""
    admin, roles = _admin(request), _chosen(data)
    try:
        target = admin.user(user_id)
        changed = admin.set_roles(user_id, roles, data.get("groups") or "")
    except NotFound as exc:
        raise NotFoundException() from exc
    except UserError as exc:
        return _edit(request, target, 400, _refusal(request, exc, roles), error=True)
    return _edit(request, changed, 200, translator(language(request))("users.saved", name=changed.name))


@post("/admin/users/{user_id:str}/active", guards=USERS, sync_to_thread=True)
def set_active(request: Request[Any, Any, Any], user_id: FromPath[str], data: Form) -> Redirect:
    """Enable or disable an account (disabling ends its sessions); the change is logged."""
    try:
        _admin(request).set_active(user_id, data.get("active") == "1")
    except NotFound as exc:
        raise NotFoundException() from exc
    return Redirect("/admin/users", status_code=303)


ROUTES = [users_page, add_user, edit_page, set_roles, set_active]
