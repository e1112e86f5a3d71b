"""Operations: /readyz (can this process answer questions now?) and /metrics (Prometheus), plus the
middleware that counts HTTP requests by route template."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Request, get
from litestar.response import Response
from litestar.types import ASGIApp, Receive, Scope, Send

from web.context import WebContext, ctx

if TYPE_CHECKING:
    from assistant.services import Services
    from core.database import Database

logger = logging.getLogger(__name__)


def _checks(services: Services, database: Database | None = None) -> dict[str, str]:
    """Each backend's state: "ok", "absent" (no audit log or shared database wired in), or the error's type
    (never its text: it may hold a URL with a secret)."""
    audit = services.audit
    probes: dict[str, Callable[[], object] | None] = {
        "llm": services.assistant.llm.check,
        "index": services.index.check,
        "audit": audit.store.last if audit is not None else None,
        "database": database.ping if database is not None else None,
    }
    results = {}
    for name, probe in probes.items():
        if probe is None:
            results[name] = "absent"
            continue
        try:
            probe()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 (any failure means not ready)
            logger.warning("readiness: %s failed: %s", name, type(exc).__name__)
            results[name] = type(exc).__name__
    return results


@get("/readyz", sync_to_thread=True)
def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when the model, the index, the audit store and the shared-state database answer; 503 (with which
    one failed) otherwise."""
    context = ctx(request)
    checks = _checks(context.services, context.database)
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if context.sso is not None:
        body["details"] = _sso_details(context)
    return Response(body, status_code=200 if ready else 503)


def _sso_details(context: WebContext) -> dict[str, Any]:
    """With SSO on: how many active local (break-glass) accounts exist, and whether the provider answers.
    Neither decides readiness: the provider being away stops new SSO logins, not the sessions there are."""
    details: dict[str, Any] = {"sso": "ok", "local_accounts": None}
    try:
        details["local_accounts"] = context.accounts.local_accounts()
    except Exception as exc:  # noqa: BLE001 (the database check above reports it)
        logger.warning("readiness: local accounts not counted: %s", type(exc).__name__)
    try:
        assert context.sso is not None
        context.sso.check()
    except Exception as exc:  # noqa: BLE001 (any failure: the provider cannot be used now)
        logger.warning("readiness: the OpenID provider failed: %s", type(exc).__name__)
        details["sso"] = type(exc).__name__
    return details


@get("/metrics", sync_to_thread=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text format: turns, latency, tokens per second, queue depth, requests, ingestion."""
    found = ctx(request).services.metrics
    if found is None:
        return Response(b"", status_code=404, media_type="text/plain")
    body, content_type = found.render()
    return Response(body, media_type=content_type)


class RequestMetrics:
    """Counts each request by method, route template (never the raw path) and status, with its duration."""

    def __init__(self, app: ASGIApp, metrics: Any) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.metrics is None:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = str(scope.get("path_template") or "unmatched")
            try:
                self.metrics.observe_request(str(scope.get("method", "")), route, status[0],
                                             time.perf_counter() - started)
            except Exception:
                logger.exception("cannot observe request metrics")


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


ROUTES = [healthz, readyz, metrics]
