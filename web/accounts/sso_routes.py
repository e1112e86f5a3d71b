"""Login with the organisation's OpenID provider: /login/sso sends the browser there (code flow, PKCE, state,
nonce), /login/sso/callback checks what comes back, creates or updates the account from the claims and starts
an ordinary server-side session (origin "oidc"), through `web.accounts.signin.SignIn`. Every outcome is in
the audit log."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from core.errors import NotFound
from web.accounts.routes import base_url, sign_in, signed_in
from web.auth import SSO_COOKIE
from web.context import ctx, language

CALLBACK = "/login/sso/callback"


@get("/login/sso", sync_to_thread=True)
def sso_start(request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Redirect:
    """Send the browser to the provider; the pending login is kept in the shared database."""
    try:
        url, browser = sign_in(request).sso_start(request.cookies.get(SSO_COOKIE), base_url(request) + CALLBACK,
                                                  next, language(request))
    except NotFound as exc:
        raise NotFoundException() from exc
    response = Redirect(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.cookies.append(Cookie(key=SSO_COOKIE, value=browser, httponly=True, samesite="lax", path="/login/sso",
                                   max_age=3600, secure=ctx(request).web.secure_cookies))
    return response


@get(CALLBACK, sync_to_thread=True)
def sso_callback(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Finish a login: the state must be one this browser started and not used before, the ID token valid
    and the user's claims must map to at least one role."""
    query = request.query_params
    # Read by hand: `state` is a name Litestar reserves for the application state.
    code, state, error = (str(query.get(k) or "") for k in ("code", "state", "error"))
    try:
        done = sign_in(request).sso_finish(code, state, error, request.cookies.get(SSO_COOKIE))
    except NotFound as exc:
        raise NotFoundException() from exc
    response = signed_in(request, done)
    if done.token is not None:
        response.cookies.append(Cookie(key=SSO_COOKIE, value="", max_age=0, path="/login/sso"))
    return response


ROUTES = [sso_start, sso_callback]
