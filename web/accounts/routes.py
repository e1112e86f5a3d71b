"""Login, logout, language choice and the start page; signing in and out is `web.accounts.signin.SignIn`."""

from __future__ import annotations

import math
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from web.accounts.signin import SignedIn, SignIn, safe_next
from web.auth import LANGUAGE_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, current_session, home_of
from web.context import Form, ctx, language, render
from web.i18n import Translate, translator


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client's address, for rate limiting and the audit log."""
    return request.client.host if request.client else "unknown"


def base_url(request: Request[Any, Any, Any]) -> str:
    """Baken's own address: the configured public URL, else the one this request came to."""
    return ctx(request).web.sso.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def sign_in(request: Request[Any, Any, Any]) -> SignIn:
    return SignIn(ctx(request), client_address(request))


def signed_in(request: Request[Any, Any, Any], done: SignedIn, **values: Any) -> Template | Redirect:
    """A login's result as a response: the redirect with the session cookie, or the login page with the reason."""
    if done.token is None:
        t = translator(language(request))
        text = t(done.error, wait=wait_text(t, done.retry_after)) if done.retry_after else None
        response = login_form(request, done.status, next=done.target, error=done.error, error_text=text, **values)
        if done.retry_after:
            response.headers["Retry-After"] = str(int(done.retry_after))
        return response
    redirect = Redirect(done.target, status_code=303)
    redirect.cookies.append(Cookie(key=SESSION_COOKIE, value=done.token, httponly=True, samesite="lax", path="/",
                                   secure=ctx(request).web.secure_cookies))
    return redirect


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> Redirect:
    """The start page of the user's role, or the login page."""
    session = current_session(request)
    return Redirect(home_of(session.user) if session else "/login", status_code=303)


@get("/login", sync_to_thread=False)
def login_page(request: Request[Any, Any, Any], next: FromQuery[str] = "/", expired: FromQuery[bool] = False,
               lokaal: FromQuery[bool] = False) -> Template | Redirect:
    """The login form (with its own CSRF token, as there is no session yet); with SSO on, the button to the
    organisation's provider, and the password form unless `web.sso.local_login` is off (then only at
    /login?lokaal=1, for break-glass accounts)."""
    if current_session(request) is not None:
        return Redirect(safe_next(next), status_code=303)
    return login_form(request, next=safe_next(next), expired=expired, local=lokaal)


def login_form(request: Request[Any, Any, Any], status_code: int = 200, local: bool = False,
               **values: Any) -> Template:
    """The login page, with ``error`` (a message key) when the last attempt failed."""
    context = ctx(request)
    sso = context.web.sso if context.sso is not None else None
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "pages/login.html", status_code, login_csrf=token,
                      sso_organisation=sso.organisation if sso else None,
                      password_form=sso is None or sso.local_login or local or status_code == 429
                      or values.get("error") in ("login.failed", "login.blocked"),
                      **{"name": "", "next": "/", "expired": False, "error": None, "error_text": None} | values)
    response.cookies.append(Cookie(key=LOGIN_CSRF_COOKIE, value=token, httponly=True, samesite="strict", path="/login",
                                   secure=ctx(request).web.secure_cookies))
    return response


@post("/login", sync_to_thread=True)
def login(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    """Check the password (throttled per name from this address, and per address), start a session, log the
    attempt. A throttled attempt gets 429 with Retry-After and when to try again, its password unchecked."""
    name = (data.get("name") or "").strip()[:64]
    done = sign_in(request).with_password(name, data.get("password") or "", data.get("next"))
    response = signed_in(request, done, name=name)
    if done.token is not None:
        response.cookies.append(Cookie(key=LOGIN_CSRF_COOKIE, value="", max_age=0, path="/login"))
    return response


def wait_text(t: Translate, seconds: float) -> str:
    """A wait in words: "45 seconden", "3 minuten"."""
    if seconds <= 1:
        return t("time.second")
    if seconds < 120:
        return t("time.seconds", n=math.ceil(seconds))
    return t("time.minutes", n=math.ceil(seconds / 60))


@post("/logout", sync_to_thread=True)
def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session (server side too) and go to the login page; a session that began at the OpenID provider
    goes by the provider's end-session page, when it offers one, so that its session ends too."""
    target = sign_in(request).log_out(current_session(request), request.cookies.get(SESSION_COOKIE), base_url(request))
    response = Redirect(target, status_code=303)
    response.cookies.append(Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"))
    return response


@get("/language/{code:str}", sync_to_thread=False)
def set_language(code: FromPath[str], next: FromQuery[str] = "/") -> Response[None]:
    """Switch the interface language (a preference cookie) and go back."""
    response: Response[None] = Redirect(safe_next(next), status_code=303)
    if code in ("nl", "en"):
        response.cookies.append(Cookie(key=LANGUAGE_COOKIE, value=code, max_age=365 * 86400, samesite="lax", path="/"))
    return response


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """Where an anonymous (or expired) request goes: the login page, back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    expired = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
    location = f"/login?next={quote(target)}{expired}"
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=401, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


ROUTES = [home, login_page, login, logout, set_language]
