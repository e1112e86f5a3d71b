"""The information manager's documents: streamed upload (and a plain form upload without JavaScript),
background indexing status, list, search, delete, re-index."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from typing import IO, Annotated, Any, NamedTuple
from urllib.parse import unquote

from litestar import Request, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from core.errors import NotFound
from ingestion.collection import OPEN, Collection
from ingestion.registry import DocumentRecord
from web.accounts import User
from web.auth import acting_role, requires
from web.context import WebContext, ctx, is_htmx, language, render, session_of
from web.i18n import Translate, translator
from web.indexing import IndexJob, clean_filename, logged_name
from web.routes.session import Form
from web.routes.sync import sync_view

logger = logging.getLogger(__name__)
DOCS = [requires("documents")]
MAX_FORM_FILES = 20  # a plain form upload may carry this many files at the size limit
FORM_OVERHEAD = 64 * 1024  # room for the multipart headers of those files and the CSRF field


class Outcome(NamedTuple):
    """What became of one file of a plain form upload (name is empty for a message about the whole form)."""

    name: str
    message: str
    status: int = 400  # 202 queued, 413 too large, 400 otherwise refused


def _matching(context: WebContext, q: str, user: User) -> list[DocumentRecord]:
    documents = context.services.index.documents(context.readable(user))
    words = q.lower().split()
    if words:
        documents = [d for d in documents
                     if all(w in f"{d.title} {d.name} {d.source} {d.doc_id}".lower() for w in words)]
    return sorted(documents, key=lambda d: d.ingested_at, reverse=True)


def _jobs_view(context: WebContext, user: User) -> dict[str, Any]:
    jobs = context.indexer.jobs(context.readable(user))
    return {"jobs": jobs, "busy": any(j.status in ("queued", "indexing") for j in jobs)}


def _page(request: Request[Any, Any, Any], q: str = "", status_code: int = 200,
          outcomes: list[Outcome] | None = None) -> Template:
    context, user = ctx(request), session_of(request).user
    return render(request, "pages/documents.html", status_code, section="documents", q=q[:200],
                  documents=_matching(context, q[:200], user), collections=_collections(context, user),
                  max_bytes=context.max_upload_bytes, max_mb=context.max_upload_bytes // (1024 * 1024), outcomes=outcomes or [], sync=sync_view(context),
                  **_jobs_view(context, user))


@get("/documents", guards=DOCS, sync_to_thread=True)
def documents_page(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """Upload form, indexing status and the searchable list of documents."""
    return _page(request, q)


@get("/documents/list", guards=DOCS, sync_to_thread=True)
def documents_list(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """The list of documents matching a search (an htmx partial)."""
    context, user = ctx(request), session_of(request).user
    return render(request, "partials/documents.html", documents=_matching(context, q[:200], user),
                  collections=_collections(context, user))


@get("/documents/jobs", guards=DOCS, sync_to_thread=True)  # reads the shared database
def jobs(request: Request[Any, Any, Any], was_busy: FromQuery[str] = "") -> Template:
    """Indexing status per document (an htmx partial that polls itself while something is indexing)."""
    view = _jobs_view(ctx(request), session_of(request).user)
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
    collection = request.headers.get("x-collection") or OPEN
    if collection not in context.readable(session.user):  # never into a collection one may not read
        spooled.unlink(missing_ok=True)
        return _json(403, t("docs.collection_refused"))
    job = await asyncio.to_thread(context.indexer.submit, spooled, name, session.user.id,
                                  acting_role(session.user, "documents"), collection=collection)
    return _json(202, t("docs.queued"), job)


class _TooLarge(Exception):
    pass


async def _form_within_limit(request: Request[Any, Any, Any]) -> Template | None:
    """Refuse a plain form upload larger than MAX_FORM_FILES files at the limit before any of it is read.

    The route's own request_max_body_size cannot say this: the limit is a setting, known only once the app is
    built. So the route has none, and this hook holds the body to its Content-Length (which browsers always
    send with a form, and the server holds the body to); a body without one is refused."""
    t = translator(language(request))
    limit = ctx(request).max_upload_bytes
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return await asyncio.to_thread(_page, request, status_code=411,
                                       outcomes=[Outcome("", t("docs.upload_failed"))])
    if int(declared) > limit * MAX_FORM_FILES + FORM_OVERHEAD:
        too_much = t("docs.too_much", mb=limit * MAX_FORM_FILES // (1024 * 1024))
        return await asyncio.to_thread(_page, request, status_code=413, outcomes=[Outcome("", too_much)])
    return None


@post("/documents/upload-form", guards=DOCS, request_max_body_size=None, before_request=_form_within_limit)
async def upload_form(request: Request[Any, Any, Any],
                      data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
                      ) -> Template | Redirect:
    """The upload without JavaScript: a multipart form with one or more files, each refused or queued as the PUT
    route does. All queued: a redirect to the documents page, whose job list shows them; otherwise that page
    with what became of each file."""
    session = session_of(request)
    t = translator(language(request))
    collection = str(data.get("collection") or OPEN)
    if collection not in ctx(request).readable(session.user):
        return await asyncio.to_thread(_page, request, status_code=403,
                                       outcomes=[Outcome("", t("docs.collection_refused"), 403)])
    value = data.get("files")
    files = [f for f in (value if isinstance(value, list) else [value]) if isinstance(f, UploadFile)]
    try:
        if not files:  # an empty file input still sends a part, without a file name
            return await asyncio.to_thread(_page, request, status_code=400,
                                           outcomes=[Outcome("", t("docs.no_files"))])
        outcomes = [await asyncio.to_thread(_queue, ctx(request), upload.file, upload.filename, session.user.id,
                                            acting_role(session.user, "documents"), t, collection)
                    for upload in files]
    finally:
        for upload in files:
            await upload.close()
    if all(o.status == 202 for o in outcomes):
        return Redirect("/documents", status_code=303)
    return await asyncio.to_thread(_page, request, status_code=max(o.status for o in outcomes), outcomes=outcomes)


def _queue(context: WebContext, upload: IO[bytes], filename: str, actor_id: str, actor_role: str,
           t: Translate, collection: str) -> Outcome:
    """One file of a form, already spooled by Litestar: measured without reading it, then copied to the
    indexer's spool and queued, as the PUT route does."""
    name = clean_filename(filename)
    limit = context.max_upload_bytes
    size = upload.seek(0, os.SEEK_END)
    if size > limit:
        return Outcome(name, t("docs.too_large", mb=limit // (1024 * 1024)), 413)
    if size == 0:
        return Outcome(name, t("docs.empty_upload"))
    upload.seek(0)
    spooled = context.indexer.spool_path()
    try:
        with spooled.open("wb") as out:
            shutil.copyfileobj(upload, out, 1024 * 1024)
    except BaseException:
        spooled.unlink(missing_ok=True)
        raise
    context.indexer.submit(spooled, name, actor_id, actor_role, collection=collection)
    return Outcome(name, t("docs.queued"), 202)


@post("/documents/{doc_id:str}/delete", guards=DOCS, sync_to_thread=True)
def delete(request: Request[Any, Any, Any], doc_id: FromPath[str], data: Form,
           q: FromQuery[str] = "") -> Template | Redirect:
    """Remove a document and its chunks; answers with the refreshed list. htmx asks for confirmation in the
    browser (hx-confirm); the plain form (no JavaScript) gets a confirmation page first."""
    context, session = ctx(request), session_of(request)
    try:
        record = context.services.index.find(doc_id, context.readable(session.user))
        if not is_htmx(request) and data.get("confirmed") != "yes":
            return render(request, "pages/confirm_delete.html", section="documents", document=record)
        context.services.index.delete(record.doc_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    if context.audit is not None:
        context.audit.append_document_event("document.delete", actor=session.user.id,
                                            role=acting_role(session.user, "documents"),
                                            doc_id=record.doc_id, sha256=record.doc_id,
                                            details={"baken.document.name": logged_name(
                                                record.name, context.services.assistant.redactor),
                                                     "baken.collection": record.collection})
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/documents.html", documents=_matching(context, q[:200], session.user),
                  collections=_collections(context, session.user))


@post("/documents/{doc_id:str}/reindex", guards=DOCS, sync_to_thread=True)
def reindex(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Template | Redirect:
    """Index a document again from its stored original, in the background; answers with the job list."""
    context, session = ctx(request), session_of(request)
    try:
        context.indexer.reindex(doc_id, session.user.id, acting_role(session.user, "documents"),
                                context.readable(session.user))
    except NotFound as exc:
        raise NotFoundException() from exc
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/jobs.html", **_jobs_view(context, session.user))


@post("/documents/{doc_id:str}/move", guards=DOCS, sync_to_thread=True)
def move(request: Request[Any, Any, Any], doc_id: FromPath[str], data: Form,
         q: FromQuery[str] = "") -> Template | Redirect:
    """Put a document in another collection (both must be ones the user reads); takes effect at once."""
    context, session = ctx(request), session_of(request)
    readable = context.readable(session.user)
    target = str(data.get("collection") or "")
    try:
        record = context.services.index.find(doc_id, readable)
    except NotFound as exc:
        raise NotFoundException() from exc
    if target not in readable:
        t = translator(language(request))
        return _page(request, q, 403, [Outcome(record.name, t("docs.collection_refused"), 403)])
    context.services.index.move(record.doc_id, target)
    if context.audit is not None:
        context.audit.append_document_event("document.move", actor=session.user.id,
                                            role=acting_role(session.user, "documents"), doc_id=record.doc_id,
                                            sha256=record.doc_id, details={"baken.collection.from": record.collection,
                                                                           "baken.collection": target})
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/documents.html", documents=_matching(context, q[:200], session.user),
                  collections=_collections(context, session.user))


def _collections(context: WebContext, user: User) -> list[Collection]:
    """The collections the user reads (what the upload and move choices offer)."""
    readable = context.readable(user)
    return [c for c in context.services.index.collections.list() if c.name in readable]


ROUTES = [documents_page, documents_list, jobs, upload, upload_form, delete, reindex, move]
