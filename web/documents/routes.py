"""The information manager's documents: streamed upload (and a plain form upload without JavaScript),
background indexing status, list, search, delete, re-index, move. Each route parses the request, calls
`web.documents.library.Library`, and renders (an upload's body is streamed to the spool here)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any
from urllib.parse import unquote

from litestar import Request, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from core.errors import NotFound
from web.auth import requires
from web.context import Form, ctx, is_htmx, language, render, session_of
from web.documents.indexing import IndexJob
from web.documents.library import CollectionRefused, Library, Outcome
from web.documents.sync_routes import sync_view
from web.i18n import translator

logger = logging.getLogger(__name__)
DOCS = [requires("documents")]
MAX_FORM_FILES = 20  # a plain form upload may carry this many files at the size limit
FORM_OVERHEAD = 64 * 1024  # room for the multipart headers of those files and the CSRF field


def _library(request: Request[Any, Any, Any]) -> Library:
    return Library(ctx(request), session_of(request).user)


def _page(request: Request[Any, Any, Any], q: str = "", status_code: int = 200,
          outcomes: list[Outcome] | None = None) -> Template:
    context, library, t = ctx(request), _library(request), translator(language(request))
    return render(request, "pages/documents.html", status_code, section="documents", q=q[:200],
                  documents=library.matching(q), collections=library.collections(),
                  max_bytes=context.max_upload_bytes, max_mb=context.max_upload_bytes // (1024 * 1024),
                  outcomes=[o._replace(message=t(o.message, **o.values)) for o in outcomes or []],
                  sync=sync_view(context), **library.jobs())


def _list(request: Request[Any, Any, Any], library: Library, q: str) -> Template:
    return render(request, "partials/documents.html", documents=library.matching(q),
                  collections=library.collections())


@get("/documents", guards=DOCS, sync_to_thread=True)
def documents_page(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """Upload form, indexing status and the searchable list of documents."""
    return _page(request, q)


@get("/documents/list", guards=DOCS, sync_to_thread=True)
def documents_list(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """The list of documents matching a search (an htmx partial)."""
    return _list(request, _library(request), q)


@get("/documents/jobs", guards=DOCS, sync_to_thread=True)  # reads the shared database
def jobs(request: Request[Any, Any, Any], was_busy: FromQuery[str] = "") -> Template:
    """Indexing status per document (an htmx partial that polls itself while something is indexing)."""
    view = _library(request).jobs()
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
    context, library = ctx(request), _library(request)
    t = translator(language(request))
    limit = context.max_upload_bytes
    too_large = t("docs.too_large", mb=limit // (1024 * 1024))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _json(413, too_large)
    name = unquote(request.headers.get("x-file-name", ""))
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
    try:
        collection = library.check_collection(request.headers.get("x-collection"))
    except CollectionRefused:
        spooled.unlink(missing_ok=True)
        return _json(403, t("docs.collection_refused"))
    job = await asyncio.to_thread(library.submit, spooled, name, collection)
    return _json(202, t("docs.queued"), job)


class _TooLarge(Exception):
    pass


async def _form_within_limit(request: Request[Any, Any, Any]) -> Template | None:
    """Refuse a plain form upload larger than MAX_FORM_FILES files at the limit before any of it is read.

    The route's own request_max_body_size cannot say this: the limit is a setting, known only once the app is
    built. So the route has none, and this hook holds the body to its Content-Length (which browsers always
    send with a form, and the server holds the body to); a body without one is refused."""
    limit = ctx(request).max_upload_bytes
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return await asyncio.to_thread(_page, request, status_code=411, outcomes=[Outcome("", "docs.upload_failed")])
    if int(declared) > limit * MAX_FORM_FILES + FORM_OVERHEAD:
        too_much = Outcome("", "docs.too_much", values={"mb": limit * MAX_FORM_FILES // (1024 * 1024)})
        return await asyncio.to_thread(_page, request, status_code=413, outcomes=[too_much])
    return None


@post("/documents/upload-form", guards=DOCS, request_max_body_size=None, before_request=_form_within_limit)
async def upload_form(request: Request[Any, Any, Any],
                      data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
                      ) -> Template | Redirect:
    """The upload without JavaScript: a multipart form with one or more files, each refused or queued as the PUT
    route does. All queued: a redirect to the documents page, whose job list shows them; otherwise that page
    with what became of each file."""
    library = _library(request)
    value = data.get("files")
    files = [f for f in (value if isinstance(value, list) else [value]) if isinstance(f, UploadFile)]
    try:
        try:
            collection = library.check_collection(str(data.get("collection") or ""))
        except CollectionRefused:
            return await asyncio.to_thread(_page, request, status_code=403,
                                           outcomes=[Outcome("", "docs.collection_refused", 403)])
        if not files:  # an empty file input still sends a part, without a file name
            return await asyncio.to_thread(_page, request, status_code=400, outcomes=[Outcome("", "docs.no_files")])
        outcomes = [await asyncio.to_thread(library.queue, upload.file, upload.filename, collection)
                    for upload in files]
    finally:
        for upload in files:
            await upload.close()
    if all(o.status == 202 for o in outcomes):
        return Redirect("/documents", status_code=303)
    return await asyncio.to_thread(_page, request, status_code=max(o.status for o in outcomes), outcomes=outcomes)


@post("/documents/{doc_id:str}/delete", guards=DOCS, sync_to_thread=True)
def delete(request: Request[Any, Any, Any], doc_id: FromPath[str], data: Form,
           q: FromQuery[str] = "") -> Template | Redirect:
    """Remove a document and its chunks; answers with the refreshed list. htmx asks for confirmation in the
    browser (hx-confirm); the plain form (no JavaScript) gets a confirmation page first."""
    library = _library(request)
    try:
        record = library.find(doc_id)
        if not is_htmx(request) and data.get("confirmed") != "yes":
            return render(request, "pages/confirm_delete.html", section="documents", document=record)
        library.delete(record)
    except NotFound as exc:
        raise NotFoundException() from exc
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return _list(request, library, q)


@post("/documents/{doc_id:str}/reindex", guards=DOCS, sync_to_thread=True)
def reindex(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Template | Redirect:
    """Index a document again from its stored original, in the background; answers with the job list."""
    library = _library(request)
    try:
        library.reindex(doc_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return render(request, "partials/jobs.html", **library.jobs())


@post("/documents/{doc_id:str}/move", guards=DOCS, sync_to_thread=True)
def move(request: Request[Any, Any, Any], doc_id: FromPath[str], data: Form,
         q: FromQuery[str] = "") -> Template | Redirect:
    """Put a document in another collection (both must be ones the user reads); takes effect at once."""
    library = _library(request)
    try:
        record = library.find(doc_id)
        library.move(record, str(data.get("collection") or ""))
    except NotFound as exc:
        raise NotFoundException() from exc
    except CollectionRefused:
        return _page(request, q, 403, [Outcome(record.name, "docs.collection_refused", 403)])
    if not is_htmx(request):
        return Redirect("/documents", status_code=303)
    return _list(request, library, q)


ROUTES = [documents_page, documents_list, jobs, upload, upload_form, delete, reindex, move]
