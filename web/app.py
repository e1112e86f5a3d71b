"""The Litestar application: `create_app(settings, services)` is the one place the web front end is assembled."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from assistant.services import Services
from core.database import Database
from core.errors import BakenError, NotFound, UserError
from web.accounts import routes as account_routes
from web.accounts import sso_routes, user_routes
from web.accounts.oidc import OidcClient
from web.accounts.routes import login_redirect
from web.accounts.sso import PendingLogins, sso_origins
from web.accounts.store import Accounts, LoginLimits
from web.api.routes import build_api
from web.audit import overview_routes
from web.audit import routes as audit_routes
from web.auth import SecurityMiddleware, security_headers
from web.chat import routes as chat_routes
from web.chat.history import History, keep_purging
from web.chat.runner import ChatRunner
from web.context import WebContext, build_environment, language, render
from web.db import open_web_database
from web.documents import collection_routes, sync_routes
from web.documents import routes as document_routes
from web.documents.indexing import Indexer
from web.documents.library import audit_indexed
from web.documents.sync import SyncScheduler
from web.head import HeadAsGetLitestar
from web.i18n import MESSAGES, translator
from web.ops import routes as ops_routes
from web.ops.routes import RequestMetrics
from web.settings import AppSettings, web_settings

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def build_accounts(settings: AppSettings, db: Database | None = None) -> Accounts:
    """The account and session store, as configured (in ``db`` when the caller has the web database open)."""
    web = web_settings(settings)
    limits = LoginLimits(per_name=web.login_attempts, per_address=web.login_address_attempts,
                         first_delay=web.login_delay_seconds, max_delay=web.login_max_delay_minutes * 60,
                         window=web.login_window_minutes * 60)
    return Accounts(db or open_web_database(settings), web.session_minutes * 60, limits,
                    web.sso.reauthenticate_minutes * 60 if web.sso.enabled else None)


def create_app(settings: AppSettings, services: Services) -> Litestar:
    """The web application over ``services``, which the caller built (`baken.wiring.build_services`) and closes."""
    web = web_settings(settings)
    db = open_web_database(settings)
    accounts = build_accounts(settings, db)
    history = History(db)
    max_mb = web.max_upload_mb or settings.ingestion.max_file_mb
    context = WebContext(services=services, web=web, accounts=accounts, history=history,
                         chat=ChatRunner(services.assistant, history, web.chat_workers),
                         indexer=Indexer(services.index, settings.data_dir / "web" / "uploads", db,
                                         on_finished=lambda job: audit_indexed(services, job)),
                         max_upload_bytes=max_mb * 1024 * 1024, database=db, sync=_scheduled_sync(settings, services))
    if web.sso.enabled:  # off by default: nothing here then reaches for the network
        context.sso, context.pending = OidcClient(web.sso), PendingLogins(db)

    observed = services.metrics
    if observed is not None:
        observed.watch_ingestion(context.indexer.own_jobs)

    purging: list[threading.Event] = []

    def startup() -> None:
        purging.append(keep_purging(history, web.history_days))
        _fill_figures(services)
        if context.sync is not None:
            context.sync.start()

    def shutdown() -> None:
        for stop in purging:
            stop.set()
        context.chat.close()
        context.indexer.close()
        if context.sync is not None:
            context.sync.close()

    return HeadAsGetLitestar(
        route_handlers=[*account_routes.ROUTES, *sso_routes.ROUTES, *user_routes.ROUTES, *ops_routes.ROUTES,
                        *chat_routes.ROUTES, *document_routes.ROUTES, *sync_routes.ROUTES,
                        *collection_routes.ROUTES, *audit_routes.ROUTES, *overview_routes.ROUTES,
                        build_api(settings, services, db),
                        create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False)],
        middleware=[DefineMiddleware(RequestMetrics, metrics=observed),
                    DefineMiddleware(SecurityMiddleware, accounts=accounts)],
        before_send=[security_headers(sso_origins(web.sso))],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment())),
        exception_handlers={NotAuthorizedException: _not_authorized, PermissionDeniedException: _forbidden,
                            NotFoundException: _not_found, NotFound: _not_found, UserError: _bad_request,
                            BakenError: _unavailable, HTTPException: _http_error, OverflowError: _malformed},
        state=State({"baken": context}),
        openapi_config=None,
        on_startup=[startup],
        on_shutdown=[shutdown],
        request_max_body_size=1024 * 1024,
    )


def _scheduled_sync(settings: AppSettings, services: Services) -> SyncScheduler | None:
    """Folder sync as a job of this server, when a folder is configured (BAKEN_INGESTION__SYNC_DIR)."""
    ingestion = settings.ingestion
    if services.folder_sync is None or ingestion.sync_dir is None:
        return None
    return SyncScheduler(services.folder_sync, ingestion.sync_dir, interval_minutes=ingestion.sync_interval_minutes,
                         delete=ingestion.sync_delete, scope=ingestion.sync_collection, audit=services.audit,
                         redactor=services.assistant.redactor)


def _fill_figures(services: Services) -> None:
    """Bring the overviews' figure rows up to date in the background at start, so that the first overview
    opened on a long log does not wait for them (`assistant.audit.figures`)."""
    log = services.audit
    if log is None:
        return

    def run() -> None:
        try:
            log.store.update_figures()
        except BakenError as exc:
            logger.warning("audit figures not brought up to date at start: %s", type(exc).__name__)

    threading.Thread(target=run, name="baken-audit-figures", daemon=True).start()

def _page_error(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[Any]:
    if request.headers.get("hx-request") == "true":
        return Response(content=message, status_code=status, media_type="text/plain")
    t = translator(language(request))
    return render(request, "pages/error.html", status, title=title,
                  message=t(message) if message in MESSAGES else message)


def _not_authorized(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return login_redirect(request)


def _forbidden(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return _page_error(request, 403, "error.forbidden", "error.forbidden_text")


def _not_found(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return _page_error(request, 404, "error.not_found", "error.not_found_text")


def _bad_request(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return _page_error(request, 400, "error.bad_request", str(exc))


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error("request failed: %s", type(exc).__name__)
    return _page_error(request, 503, "error.unavailable", "error.unavailable_text")


# Litestar's own refusals (a parameter of the wrong type, a body too large, a method a route does not take):
# the user gets the status with a message in their language, not Litestar's English detail.
CLIENT_ERRORS = {400: "error.malformed_text", 405: "error.method_text", 413: "error.body_too_large_text"}


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 404:
        return _not_found(request, exc)
    if exc.status_code >= 500:
        logger.error("request failed: %s", exc.detail)
        return Response(content=str(exc.detail), status_code=exc.status_code, media_type="text/plain")
    logger.info("request refused (%d): %s", exc.status_code, type(exc).__name__)
    response = _page_error(request, exc.status_code, "error.bad_request",
                           CLIENT_ERRORS.get(exc.status_code, "error.malformed_text"))
    response.headers.update({k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")})
    return response


def _malformed(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """A number in the request too large for the database (an offset of 10^40): the request is malformed."""
    return _page_error(request, 400, "error.bad_request", "error.number_too_large_text")
