"""The administrator's collections page: which groups may read which documents; add a collection, grant and
revoke a group (each change is logged, and takes effect at once for every search)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from core.errors import UserError
from web.auth import acting_role, requires
from web.context import Form, ctx, language, render, session_of
from web.i18n import translator

ADMIN = [requires("users")]  # who decides who may read what: the administrator, as for accounts


def _page(request: Request[Any, Any, Any], status_code: int = 200, message: str = "", error: bool = False) -> Template:
    return render(request, "pages/collections.html", status_code, section="collections",
                  collections=ctx(request).services.index.collections.list(), message=message, error=error)


def _change(request: Request[Any, Any, Any], action: str, done: str, apply: Any, **fields: str) -> Template:
    """Apply one change; log it; the page again with what happened (or why not)."""
    context, admin = ctx(request), session_of(request).user
    t = translator(language(request))
    try:
        collection = apply()
    except UserError as exc:
        return _page(request, 400, str(exc), error=True)
    if context.audit is not None:
        context.audit.append(action, actor=admin.id, role=acting_role(admin, "users"), outcome="ok",
                             record={"baken.collection": collection.name,
                                     **{f"baken.{k}": v for k, v in fields.items()}})
    return _page(request, 200, t(done, name=collection.name, **fields))


@get("/admin/collections", guards=ADMIN, sync_to_thread=True)
def collections_page(request: Request[Any, Any, Any]) -> Template:
    """Every collection with the groups that read it and how many documents it holds."""
    return _page(request)


@post("/admin/collections/add", guards=ADMIN, sync_to_thread=True)
def add(request: Request[Any, Any, Any], data: Form) -> Template:
    """Make a collection, readable by no group until one is granted."""
    collections = ctx(request).services.index.collections
    return _change(request, "collection.add", "collections.added",
                   lambda: collections.add(data.get("name") or "", data.get("title") or ""))


@post("/admin/collections/grant", guards=ADMIN, sync_to_thread=True)
def grant(request: Request[Any, Any, Any], data: Form) -> Template:
    """Let a group read a collection."""
    collections, group = ctx(request).services.index.collections, (data.get("group") or "").strip()
    return _change(request, "collection.grant", "collections.granted",
                   lambda: collections.grant(data.get("collection") or "", group), group=group)


@post("/admin/collections/revoke", guards=ADMIN, sync_to_thread=True)
def revoke(request: Request[Any, Any, Any], data: Form) -> Template:
    """Stop a group reading a collection."""
    collections, group = ctx(request).services.index.collections, (data.get("group") or "").strip()
    return _change(request, "collection.revoke", "collections.revoked",
                   lambda: collections.revoke(data.get("collection") or "", group), group=group)


ROUTES = [collections_page, add, grant, revoke]
