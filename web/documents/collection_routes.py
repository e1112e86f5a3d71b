"""The administrator's collections page: which groups may read which documents; add a collection, grant and
revoke a group (each change is logged, and takes effect at once for every search)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from core.errors import UserError
from ingestion.collection import Collection
from web.auth import requires
from web.context import Form, ctx, language, render, session_of
from web.documents.access import CollectionAdmin
from web.i18n import translator

ADMIN = [requires("users")]  # who decides who may read what: the administrator, as for accounts


def _admin(request: Request[Any, Any, Any]) -> CollectionAdmin:
    return CollectionAdmin(ctx(request), session_of(request).user)


def _page(request: Request[Any, Any, Any], status_code: int = 200, message: str = "", error: bool = False) -> Template:
    return render(request, "pages/collections.html", status_code, section="collections",
                  collections=_admin(request).list(), message=message, error=error)


def _change(request: Request[Any, Any, Any], done: str, apply: Callable[[], Collection], **fields: str) -> Template:
    """Apply one change (logged by CollectionAdmin); the page again with what happened (or why not)."""
    try:
        collection = apply()
    except UserError as exc:
        return _page(request, 400, str(exc), error=True)
    return _page(request, 200, translator(language(request))(done, name=collection.name, **fields))


@get("/admin/collections", guards=ADMIN, sync_to_thread=True)
def collections_page(request: Request[Any, Any, Any]) -> Template:
    """Every collection with the groups that read it and how many documents it holds."""
    return _page(request)


@post("/admin/collections/add", guards=ADMIN, sync_to_thread=True)
def add(request: Request[Any, Any, Any], data: Form) -> Template:
    """Make a collection, readable by no group until one is granted."""
    admin = _admin(request)
    return _change(request, "collections.added", lambda: admin.add(data.get("name") or "", data.get("title") or ""))


@post("/admin/collections/grant", guards=ADMIN, sync_to_thread=True)
def grant(request: Request[Any, Any, Any], data: Form) -> Template:
    """Let a group read a collection."""
    admin, group = _admin(request), (data.get("group") or "").strip()
    return _change(request, "collections.granted", lambda: admin.grant(data.get("collection") or "", group),
                   group=group)


@post("/admin/collections/revoke", guards=ADMIN, sync_to_thread=True)
def revoke(request: Request[Any, Any, Any], data: Form) -> Template:
    """Stop a group reading a collection."""
    admin, group = _admin(request), (data.get("group") or "").strip()
    return _change(request, "collections.revoked", lambda: admin.revoke(data.get("collection") or "", group),
                   group=group)


ROUTES = [collections_page, add, grant, revoke]
