"""Folder sync on the Documenten page: its status (an htmx partial that polls itself while a run goes on)
and the informatiebeheerder's "Nu synchroniseren", on a path of its own: with the GET and the POST on one path,
the GET answered 500 in this app (its thread wrapper's coroutine came back unawaited), which a bare Litestar app
with the same two handlers does not do; the cause is not found yet."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from core.errors import UserError
from web.auth import requires
from web.context import Form, WebContext, ctx, is_htmx, render, session_of
from web.documents.sync import SyncView

DOCS = [requires("documents")]


def sync_view(context: WebContext) -> SyncView | None:
    """What the page shows: the scheduled job's view; without one (no SYNC_DIR), the runs of `baken sync`
    when there were any; else nothing."""
    if context.sync is not None:
        return context.sync.view()
    folder_sync = context.services.folder_sync
    runs = folder_sync.runs(5) if folder_sync is not None else []
    return SyncView("", 0, False, "", runs, None, False) if runs else None


def _partial(request: Request[Any, Any, Any], notice: str = "", status_code: int = 200) -> Template:
    return render(request, "partials/sync.html", status_code, sync=sync_view(ctx(request)), notice=notice)


@get("/documents/sync", guards=DOCS, sync_to_thread=True)  # reads the shared database
def folder_sync_status(request: Request[Any, Any, Any], was_busy: FromQuery[str] = "") -> Template:
    """Folder sync's status: the last runs, the one going on, the next one; once a run it polled has ended,
    the document list is told to refresh."""
    response = _partial(request)
    view = sync_view(ctx(request))
    if was_busy and view is not None and view.running is None and not view.waiting:
        response.headers["HX-Trigger"] = "documents-changed"
    return response


@post("/documents/sync/now", guards=DOCS, sync_to_thread=True)
def folder_sync_now(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    """Start a sync at once (in the scheduler's thread); answers with the status."""
    context, session = ctx(request), session_of(request)
    if context.sync is None:
        return _partial(request, "sync.not_configured", 409)
    try:
        context.sync.request(session.user.id, session.user.role)
    except UserError as exc:
        return _partial(request, str(exc), 409)
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return _partial(request, "sync.started_now")


ROUTES = [folder_sync_status, folder_sync_now]
