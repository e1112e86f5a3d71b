"""The information manager's documents: streamed upload, background indexing status, list, search, delete,
re-index."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote

from litestar import Request, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from baken.errors import NotFound
from ingestion.registry import DocumentRecord
from web.auth import requires
from web.context import WebContext, ctx, is_htmx, language, render, session_of
from web.i18n import translator
from web.indexing import IndexJob, clean_filename

logger = logging.getLogger(__name__)
DOCS = [requires("documents")]


def _matching(context: WebContext, q: str) -> list[DocumentRecord]:
    documents = context.services.index.documents()
    words = q.lower().split()
    if words:
        documents = [d for d in documents
                     if all(w in f"{d.title} {d.name} {d.source} {d.doc_id}".lower() for w in words)]
    return sorted(documents, key=lambda d: d.ingested_at, reverse=True)


def _jobs_view(context: WebContext) -> dict[str, Any]:
    jobs = context.indexer.jobs()
    return {"jobs": jobs, "busy": any(j.status in ("queued", "indexing") for j in jobs)}


@get("/documents", guards=DOCS, sync_to_thread=True)
def documents_page(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """Upload form, indexing status and the searchable list of documents."""
    context = ctx(request)
    return render(request, "pages/documents.html", section="documents", q=q[:200],
                  documents=_matching(context, q[:200]), max_bytes=context.max_upload_bytes,
                  max_mb=context.max_upload_bytes // (1024 * 1024), **_jobs_view(context))


@get("/documents/list", guards=DOCS, sync_to_thread=True)
def documents_list(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """The list of documents matching a search (an htmx partial)."""
    return render(request, "partials/documents.html", documents=_matching(ctx(request), q[:200]))


@get("/documents/jobs", guards=DOCS, sync_to_thread=True)  # reads the shared database
def jobs(request: Request[Any, Any, Any], was_busy: FromQuery[str] = "") -> Template:
    """Indexing status per document (an htmx partial that polls itself while something is indexing)."""
    view = _jobs_view(ctx(request))
    response = render(request, "partials/jobs.html", **view)
    if was_busy and not view["busy"]:
        response.headers["HX-Trigger"] = "documents-changed"
    return response


def _json(status: int, message: str, job: IndexJob | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"message": message}
    if job is not None:
        body |= {"job": job.id, "name": job.name, "status": job.status}
    return Response(body, status_code=status)


@put("/documents/upload", guards=DOCS, request_max_body_size=None)
async def upload(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """One file as the raw request body (name in X-File-Name), streamed to disk with the size limit enforced
    while it arrives; then queued for indexing. Refused early (413) when Content-Length is over the limit."""
    context, session = ctx(request), session_of(request)
    t = translator(language(request))
    limit = context.max_upload_bytes
    too_large = t("docs.too_large", mb=limit // (1024 * 1024))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _json(413, too_large)
    name = clean_filename(unquote(request.headers.get("x-file-name", "")))
    spooled = context.indexer.spool_path()
    size = 0
    try:
        with spooled.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _TooLarge()
                out.write(chunk)
    except _TooLarge:
        spooled.unlink(missing_ok=True)
        return _json(413, too_large)
    except BaseException:
        spooled.unlink(missing_ok=True)
        raise
    if size == 0:
        spooled.unlink(missing_ok=True)
        return _json(400, t("docs.empty_upload"))
    job = await asyncio.to_thread(context.indexer.submit, spooled, name, session.user.id, session.user.role)
    return _json(202, t("docs.queued"), job)


class _TooLarge(Exception):
    pass


@post("/documents/{doc_id:str}/delete", guards=DOCS, sync_to_thread=True)
def delete(request: Request[Any, Any, Any], doc_id: FromPath[str], q: FromQuery[str] = "") -> Template | Redirect:
    """Remove a document and its chunks; answers with the refreshed list."""
    context, session = ctx(request), session_of(request)
    try:
        record = context.services.index.find(doc_id)
        context.services.index.delete(record.doc_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    if context.audit is not None:
        context.audit.append_document_event("document.delete", actor=session.user.id, role=session.user.role,
                                            doc_id=record.doc_id, sha256=record.doc_id,
                                            details={"baken.document.name": record.name})
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/documents.html", documents=_matching(context, q[:200]))


@post("/documents/{doc_id:str}/reindex", guards=DOCS, sync_to_thread=True)
def reindex(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Template | Redirect:
    """Index a document again from its stored original, in the background; answers with the job list."""
    context, session = ctx(request), session_of(request)
    try:
        context.indexer.reindex(doc_id, session.user.id, session.user.role)
    except NotFound as exc:
        raise NotFoundException() from exc
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/jobs.html", **_jobs_view(context))


ROUTES = [documents_page, documents_list, jobs, upload, delete, reindex]
