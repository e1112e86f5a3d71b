"""The auditor's pages: filter the log, open one record with its content, export, verify the chain; each route
parses the request, asks `web.audit.review.AuditReview`, and renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from core.errors import NotFound, UserError
from web.audit.review import FILTERS, QUESTION, TURN, AuditReview
from web.auth import requires
from web.context import ctx, is_htmx, render, session_of

AUDIT = [requires("audit")]
ACTIONS = (QUESTION, TURN, "feedback.given", "document.upload", "document.reindex", "document.delete", "document.sync",
           "auth.login", "auth.login_failed", "auth.logout", "user.change", "audit.search", "audit.view",
           "audit.export", "audit.verify", "audit.purge", "audit.purge_preview", "audit.checkpoint",
           "audit.hold.add", "audit.hold.remove", "audit.copy", "audit.backup", "audit.restore",
           "audit.overview", "overview.view")
PAGE = 50


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:128] for k in FILTERS}


def _review(request: Request[Any, Any, Any]) -> AuditReview | None:
    context = ctx(request)
    if context.audit is None:
        return None
    index = context.services.index
    return AuditReview(context.audit, lambda: {d.doc_id: d.title for d in index.documents()})


def _unavailable(request: Request[Any, Any, Any]) -> Template:
    return render(request, "pages/audit.html", section="audit", available=False)


@get("/audit", guards=AUDIT, sync_to_thread=True)
def audit_page(request: Request[Any, Any, Any], offset: FromQuery[int] = 0) -> Template:
    """The filter form and the matching records, newest first."""
    review = _review(request)
    if review is None:
        return _unavailable(request)
    f, offset = _filters(request), max(offset, 0)
    records, error = [], None
    try:
        records = review.search(f, offset, PAGE, auditor=session_of(request).user.id)
    except UserError as exc:
        error = str(exc)
    query = urlencode({k: v for k, v in f.items() if v})
    return render(request, "pages/audit.html", section="audit", available=True, f=f, records=records,
                  error=error, query=query, actions=ACTIONS, offset=offset, limit=PAGE)


@post("/audit/verify", guards=AUDIT, sync_to_thread=True, status_code=200)
def verify(request: Request[Any, Any, Any]) -> Template:
    """Walk the whole chain (and the configured witness) and show whether it is intact; the check is logged.

    A POST with the CSRF token: a full-chain walk is work and a logged event, which a cross-site link or image
    must not be able to start in an auditor's browser."""
    review = _review(request)
    if review is None:
        return _unavailable(request)
    result, error = None, None
    try:
        result = review.verify(auditor=session_of(request).user.id)
    except UserError as exc:  # e.g. the configured witness directory is not mounted
        error = str(exc)
    if is_htmx(request):
        return render(request, "partials/verify.html", result=result, error=error)
    return render(request, "pages/audit_verify.html", section="audit", result=result, error=error)


@get("/audit/records/{seq:int}", guards=AUDIT, sync_to_thread=True)
def record(request: Request[Any, Any, Any], seq: FromPath[int]) -> Template:
    """One record: metadata, the (redacted) content with its sources, the redaction manifest."""
    review = _review(request)
    if review is None:
        return _unavailable(request)
    try:
        view = review.record(seq, auditor=session_of(request).user.id)
    except NotFound as exc:
        raise NotFoundException() from exc
    return render(request, "pages/audit_record.html", section="audit", **view)


@get("/audit/export", guards=AUDIT, sync_to_thread=True)
def export(request: Request[Any, Any, Any], format: FromQuery[str] = "jsonl") -> Response[bytes]:
    """The log as verifiable JSONL or flat CSV, with the date, actor and document filters (logged)."""
    review = _review(request)
    if review is None:
        raise NotFoundException()
    out = review.export(format, _filters(request), auditor=session_of(request).user.id)
    return Response(out.body, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"'})


ROUTES = [audit_page, verify, record, export]
