"""Login with the organisation's OpenID provider: /login/sso sends the browser there (code flow, PKCE, state,
nonce), /login/sso/callback checks what comes back, creates or updates the account from the claims and starts
an ordinary server-side session (origin "oidc"). Every outcome is in the audit log."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from web.accounts.oidc import LoginRefused
from web.accounts.routes import client_address, login_form, safe_next
from web.accounts.sso import Pending, map_claims, new_secret
from web.auth import SESSION_COOKIE, SSO_COOKIE, home_of
from web.context import ctx, language

logger = logging.getLogger(__name__)
CALLBACK = "/login/sso/callback"
MAX_CODE = 2048


def base_url(request: Request[Any, Any, Any]) -> str:
    """Baken's own address: the configured public URL, else the one this request came to."""
    configured = ctx(request).web.sso.public_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def _audit(request: Request[Any, Any, Any], action: str, actor: str, role: str, outcome: str,
           **details: Any) -> None:
    audit = ctx(request).audit
    if audit is not None:
        audit.append_auth_event(action, actor=actor, role=role, outcome=outcome, origin=client_address(request),
                                details={"baken.session.origin": "oidc",
                                         **{f"baken.sso.{k}": v for k, v in details.items()}})


@get("/login/sso", sync_to_thread=True)
def sso_start(request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Redirect:
    """Send the browser to the provider; the pending login is kept in the shared database."""
    context = ctx(request)
    if context.sso is None or context.pending is None:
        raise NotFoundException()
    browser = request.cookies.get(SSO_COOKIE) or new_secret()
    state, nonce, redirect_uri = new_secret(), new_secret(), base_url(request) + CALLBACK
    found = context.sso.authorize(redirect_uri, state, nonce, language(request))
    context.pending.add(state, browser, Pending(found.nonce, found.verifier, redirect_uri, safe_next(next),
                                                time.time()))
    response = Redirect(found.url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.cookies.append(Cookie(key=SSO_COOKIE, value=browser, httponly=True, samesite="lax", path="/login/sso",
                                   max_age=3600, secure=context.web.secure_cookies))
    return response


@get(CALLBACK, sync_to_thread=True)
def sso_callback(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Finish a login: the state must be one this browser started and not used before, the ID token valid
    and the user's claims must map to at least one role."""
    context, query = ctx(request), request.query_params
    # Read by hand: `state` is a name Litestar reserves for the application state.
    code, state, error = (str(query.get(k) or "") for k in ("code", "state", "error"))
    if context.sso is None or context.pending is None:
        raise NotFoundException()
    pending = context.pending.take(state, request.cookies.get(SSO_COOKIE))
    if error:  # the provider refused (not every provider returns the state with its error): nothing to trust
        _audit(request, "auth.login_failed", "sso:unknown", "unknown", "denied", reason=f"provider:{error[:64]}")
        return login_form(request, 401, error="sso.denied", next=pending.next if pending else "/")
    if pending is None or not code or len(code) > MAX_CODE:
        _audit(request, "auth.login_failed", "sso:unknown", "unknown", "denied", reason="unknown_state")
        return login_form(request, 400, error="sso.state")
    try:
        claims = context.sso.finish(code, pending.redirect_uri, pending.verifier, pending.nonce)
    except LoginRefused as exc:
        logger.warning("SSO login refused: %s", exc.reason)
        _audit(request, "auth.login_failed", "sso:unknown", "unknown", "denied", reason=exc.reason)
        return login_form(request, 401, error="sso.refused", next=pending.next)
    settings = context.web.sso
    mapped = map_claims(settings, claims)
    name = claims.get(settings.name_claim) if isinstance(claims.get(settings.name_claim), str) else None
    user = context.accounts.sso_user(f"{claims['iss']}|{claims['sub']}", name or str(claims["sub"]),
                                     mapped.roles, mapped.groups, disabled=mapped.disabled is not None)
    if mapped.disabled is not None or not user.active:
        reason = mapped.disabled or "disabled_locally"
        _audit(request, "auth.login_failed", user.id or f"sso:{claims['iss']}|{claims['sub']}",
               user.role or "unknown", "denied", reason=reason)
        return login_form(request, 403, error=f"sso.{reason}", next=pending.next)
    token = context.accounts.start_session(user, origin="oidc")
    _audit(request, "auth.login", user.id, user.role, "ok")
    response = Redirect(pending.next if pending.next != "/" else home_of(user), status_code=303)
    response.cookies.append(Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", path="/",
                                   secure=context.web.secure_cookies))
    response.cookies.append(Cookie(key=SSO_COOKIE, value="", max_age=0, path="/login/sso"))
    return response


ROUTES = [sso_start, sso_callback]
