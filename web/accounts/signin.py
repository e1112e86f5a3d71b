"""Signing in and out as a service: the password login (throttled by the account store), the OpenID Connect
login's two legs, and logging out; every outcome is in the audit log. The routes (`web/accounts/routes.py`,
`web/accounts/sso_routes.py`) parse the request, call one of these, and turn the result into a page or a
redirect with its cookies.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from core.errors import NotFound
from web.accounts.oidc import LoginRefused, OidcClient
from web.accounts.sso import Pending, PendingLogins, map_claims, new_secret
from web.accounts.store import Session, User
from web.auth import home_of
from web.context import WebContext

logger = logging.getLogger(__name__)
MAX_CODE = 2048  # longer than any provider's authorisation code: refused unread


@dataclass(frozen=True)
class SignedIn:
    """A login's result: a session token and where to go, or the message key (and status) of the refusal."""

    token: str | None = None
    target: str = "/"
    error: str | None = None
    status: int = 200
    retry_after: float = 0.0


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site, `//host`) becomes `/`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SignIn:
    """Sign-in and sign-out from one client address, over the web context's accounts, SSO client and log."""

    def __init__(self, context: WebContext, address: str) -> None:
        self.context, self.address = context, address

    def with_password(self, name: str, password: str, next: str | None) -> SignedIn:
        """Check the password (throttled per name from this address, and per address) and start a session.
        A throttled attempt has ``retry_after`` and its password unchecked."""
        name, target = name.strip()[:64], safe_next(next)
        attempt = self.context.accounts.log_in(name, password, self.address)
        if attempt.retry_after:
            self._audit("auth.login_failed", f"name:{name.lower()}", "unknown", "rate_limited", "password")
            return SignedIn(target=target, error="login.blocked", status=429, retry_after=attempt.retry_after)
        user = attempt.user
        if user is None:
            self._audit("auth.login_failed", f"name:{name.lower()}", "unknown", "denied", "password")
            return SignedIn(target=target, error="login.failed", status=401)
        return self._start(user, target, "password")

    def sso_start(self, browser: str | None, redirect_uri: str, next: str | None, language: str) -> tuple[str, str]:
        """Where to send the browser at the provider, and the browser's binding secret (kept in a cookie);
        the pending login is kept in the shared database (NotFound when SSO is off)."""
        sso, pending = self._sso()
        browser = browser or new_secret()
        state, nonce = new_secret(), new_secret()
        found = sso.authorize(redirect_uri, state, nonce, language)
        pending.add(state, browser, Pending(found.nonce, found.verifier, redirect_uri, safe_next(next), time.time()))
        return found.url, browser

    def sso_finish(self, code: str, state: str, error: str, browser: str | None) -> SignedIn:
        """Finish an SSO login: the state must be one this browser started and not used before, the ID token
        valid, and the user's claims must map to at least one role (NotFound when SSO is off)."""
        sso, pendings = self._sso()
        pending = pendings.take(state, browser)
        if error:  # the provider refused (not every provider returns the state with its error): nothing to trust
            self._sso_failed(f"provider:{error[:64]}")
            return SignedIn(target=pending.next if pending else "/", error="sso.denied", status=401)
        if pending is None or not code or len(code) > MAX_CODE:
            self._sso_failed("unknown_state")
            return SignedIn(error="sso.state", status=400)
        try:
            claims = sso.finish(code, pending.redirect_uri, pending.verifier, pending.nonce)
        except LoginRefused as exc:
            logger.warning("SSO login refused: %s", exc.reason)
            self._sso_failed(exc.reason)
            return SignedIn(target=pending.next, error="sso.refused", status=401)
        settings = self.context.web.sso
        mapped = map_claims(settings, claims)
        name = claims.get(settings.name_claim) if isinstance(claims.get(settings.name_claim), str) else None
        user = self.context.accounts.sso_user(f"{claims['iss']}|{claims['sub']}", name or str(claims["sub"]),
                                              mapped.roles, mapped.groups, disabled=mapped.disabled is not None)
        if mapped.disabled is not None or not user.active:
            reason = mapped.disabled or "disabled_locally"
            self._audit("auth.login_failed", user.id or f"sso:{claims['iss']}|{claims['sub']}", user.role or "unknown",
                        "denied", "oidc", reason=reason)
            return SignedIn(target=pending.next, error=f"sso.{reason}", status=403)
        return self._start(user, pending.next, "oidc")

    def log_out(self, session: Session | None, token: str | None, base_url: str) -> str:
        """End the session (server side too); where to go next: the login page, or for a session that began at
        the OpenID provider its end-session page, when it offers one, so that its session ends too."""
        if session is None:
            return "/login"
        context = self.context
        context.accounts.end_session(token)
        self._audit("auth.logout", session.user.id, session.user.role, "ok", session.origin)
        if session.origin == "oidc" and context.sso is not None:
            return context.sso.logout_url(base_url + "/login") or "/login"
        return "/login"

    def _start(self, user: User, target: str, origin: str) -> SignedIn:
        token = self.context.accounts.start_session(user, origin=origin)
        self._audit("auth.login", user.id, user.role, "ok", origin)
        return SignedIn(token=token, target=target if target != "/" else home_of(user))

    def _sso(self) -> tuple[OidcClient, PendingLogins]:
        if self.context.sso is None or self.context.pending is None:
            raise NotFound("sso")
        return self.context.sso, self.context.pending

    def _sso_failed(self, reason: str) -> None:
        self._audit("auth.login_failed", "sso:unknown", "unknown", "denied", "oidc", reason=reason)

    def _audit(self, action: str, actor: str, role: str, outcome: str, origin: str, **sso: Any) -> None:
        audit = self.context.audit
        if audit is not None:
            audit.append_auth_event(action, actor=actor, role=role, outcome=outcome, origin=self.address,
                                    details={"baken.session.origin": origin,
                                             **{f"baken.sso.{k}": v for k, v in sso.items()}})
