"""Who may do what: roles -> permissions, the route guards, and the middleware that loads the session,
checks CSRF on every state-changing request and adds the security headers."""

from __future__ import annotations

import asyncio
import hmac
import re
from typing import Any
from urllib.parse import parse_qs

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

RawMessage = dict[str, Any]  # ASGI messages built and read here by hand

from web.accounts.store import ROLES, Accounts, Session, User

SESSION_COOKIE = "baken_session"
LOGIN_CSRF_COOKIE = "baken_login_csrf"
LANGUAGE_COOKIE = "baken_lang"
SSO_COOKIE = "baken_sso"  # binds a pending SSO login to the browser that started it
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSIONLESS = {"/healthz", "/readyz", "/metrics"}
MAX_FORM_BYTES = 1024 * 1024
MAX_FIRST_PART = 8 * 1024  # a multipart form's CSRF field comes first; no further is read

PERMISSIONS: dict[str, set[str]] = {
    "chat": {"medewerker", "informatiebeheerder"},
    "documents": {"informatiebeheerder"},
    "sources": {"medewerker", "informatiebeheerder", "auditor"},
    "audit": {"auditor"},
    "overview": {"informatiebeheerder"},
    "users": {"beheerder"},
}
# A user's start page: that of the first of their roles in this order (the first administrator, who is also a
# medewerker, starts in the chat, as README's first journey asks).
HOME = {"medewerker": "/chat", "informatiebeheerder": "/documents", "auditor": "/audit", "beheerder": "/admin/users"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


def allowed(user: User | None, permission: str) -> bool:
    """True when one of the user's roles has ``permission``."""
    return user is not None and bool(user.roles & PERMISSIONS[permission])


def acting_role(user: User, permission: str) -> str:
    """The role under which ``user`` uses ``permission`` (the first of theirs that grants it), for the audit
    log: an administrator who is also a medewerker asks questions as medewerker."""
    return next((r for r in ROLES if r in user.roles and r in PERMISSIONS[permission]), user.role)


def home_of(user: User) -> str:
    """The start page of the user's first role."""
    return next((HOME[r] for r in ROLES if r in user.roles), "/login")


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Session | None:
    """The session the middleware loaded for this request."""
    return current_session_of_scope(connection.scope)


def current_session_of_scope(scope: Scope) -> Session | None:
    """The session the middleware put in an ASGI scope (for other middleware)."""
    return scope.get("state", {}).get("session")  # type: ignore[return-value]


def requires(permission: str):
    """A guard: anonymous -> 401 (shown as a redirect to the login page), wrong role -> 403."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        session = current_session(connection)
        if session is None:
            raise NotAuthorizedException()
        if not allowed(session.user, permission):
            raise PermissionDeniedException()

    return guard


def logged_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: any logged-in user."""
    if current_session(connection) is None:
        raise NotAuthorizedException()


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def security_headers(form_targets: tuple[str, ...] = ()) -> Any:
    """A `before_send` hook: strict CSP, no framing, no sniffing, no caching on every response (404s too).
    ``form_targets``: origins a form may lead to besides our own (the OpenID provider, where the SSO button and
    the logout of an SSO session redirect: CSP's form-action also governs a form's redirects)."""
    extra = [(b"content-security-policy", CSP.replace("form-action 'self'", " ".join(("form-action 'self'",
                                                                                     *form_targets))).encode())]
    defaults = extra + [(k, v) for k, v in SECURITY_HEADERS if k != b"content-security-policy"]

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {bytes(k).lower() for k, _ in headers}
            headers += [(k, v) for k, v in defaults if k not in present]
            if b"cache-control" not in present:
                headers.append((b"cache-control", b"no-store"))
            message["headers"] = headers

    return add


add_security_headers = security_headers()


class SecurityMiddleware:
    """Loads the session from its cookie and refuses state-changing requests without the right CSRF token."""

    def __init__(self, app: ASGIApp, accounts: Accounts) -> None:
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, SESSION_COOKIE) if not _sessionless(scope["path"]) else None
        # The session store may be a database across the network: never wait for it on the event loop.
        session = await asyncio.to_thread(self.accounts.session, token) if token else None
        scope.setdefault("state", {})["session"] = session

        if scope["method"] not in SAFE_METHODS:  # type: ignore[typeddict-item]
            expected = session.csrf if session else _cookie(scope, LOGIN_CSRF_COOKIE) if scope["path"] == "/login" \
                else None
            if expected is not None:
                given = _header(scope, CSRF_HEADER.encode())
                if given is None:
                    given, receive = await _form_field(scope, receive, CSRF_FIELD)
                # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
                if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
                    await _refuse(send)
                    return
            elif scope["path"] == "/login":
                await _refuse(send)
                return
        await self.app(scope, receive, send)


def _sessionless(path: str) -> bool:
    """Paths that never need a session: probes and static files answer even when the session store is down."""
    return path in SESSIONLESS or path.startswith("/static/")


async def _form_field(scope: Scope, receive: Any, field: str) -> tuple[str | None, Any]:
    """Find ``field`` in a url-encoded form, or as the first part of a multipart form; the app then gets the
    body unchanged."""
    content_type, _, params = (_header(scope, b"content-type") or "").partition(";")
    content_type = content_type.strip().lower()
    if content_type == "multipart/form-data":
        return await _first_part(params, receive, field)
    if content_type != "application/x-www-form-urlencoded":
        return None, receive
    body, more = b"", True
    while more:
        message = await receive()
        body += bytes(message.get("body", b""))  # type: ignore[arg-type]
        more = bool(message.get("more_body", False))
        if len(body) > MAX_FORM_BYTES:
            return None, receive
    values = parse_qs(body.decode("utf-8", "replace")).get(field)
    return (values[0] if values else None), _replay(body, False, receive)


async def _first_part(params: str, receive: Any, field: str) -> tuple[str | None, Any]:
    """The token of a multipart form (the plain upload form, without JavaScript), read from its first part.

    Browsers send a form's fields in document order, so a form that puts its hidden ``csrf_token`` first has it
    in the first few hundred bytes: only those are read here, and the upload behind them streams on to the
    route with its size limits. Not a ``?csrf_token=`` in the form's action instead: a token in the URL lands
    in the access log of every reverse proxy in front of us, and it must never be logged."""
    pairs = (p.strip().partition("=") for p in params.split(";"))
    boundary = next((value.strip().strip('"') for key, _, value in pairs if key.lower() == "boundary"), "")
    if not boundary:
        return None, receive
    delimiter = b"--" + boundary.encode("latin-1")
    head, more = b"", True
    while more and len(head) <= MAX_FIRST_PART and b"\r\n" + delimiter not in head:
        message = await receive()
        head += bytes(message.get("body", b""))  # type: ignore[arg-type]
        more = bool(message.get("more_body", False))
    headers, found, rest = head.removeprefix(delimiter + b"\r\n").partition(b"\r\n\r\n")
    value, closed, _ = rest.partition(b"\r\n" + delimiter)
    named = re.search(rb'(?im)^content-disposition:\s*form-data;\s*name="' + re.escape(field.encode()) + rb'"\s*$',
                      headers)
    given = value.decode("utf-8", "replace") if head.startswith(delimiter) and found and closed and named else None
    return given, _replay(head, more, receive)


def _replay(body: bytes, more: bool, receive: Any) -> Any:
    """A `receive` that hands on what was already read, then the rest of the request."""
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


async def _refuse(send: Any) -> None:
    body = b"Het beveiligingstoken (CSRF) ontbreekt of klopt niet. Herlaad de pagina en probeer het opnieuw."
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
