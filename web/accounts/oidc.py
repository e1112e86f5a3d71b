"""The OpenID Connect client (Authlib, BSD-3-Clause; the one module that imports it): the authorization request
with PKCE (S256), state and nonce; the token request; the ID token checked as the NL GOV profile asks
(signature by the provider's published keys, iss, aud, azp, nonce, exp/iat/nbf with a small leeway, the age
of iat, acr when asked for); and the provider's logout address.

Discovery and the key set are fetched once and kept; a key id the set does not know makes it fetch again
(the provider rotated its keys)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OAuthError, OpenIDMixin
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.errors import JoseError

from core.errors import BackendUnavailable, BakenError
from web.accounts.sso import SsoSettings

logger = logging.getLogger(__name__)
METADATA_SECONDS = 3600  # discovery is read again after an hour (key rotation, moved endpoints)
RETRY_SECONDS = 30  # after a failed discovery, calls fail at once for this long instead of waiting on the network


class LoginRefused(BakenError):
    """The provider's answer is not a valid login (a bad token, a wrong audience, an expired token...);
    ``reason`` is a short code for the audit log and the message key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what the callback must check against."""

    url: str
    state: str
    nonce: str
    verifier: str


class _App(OAuth2Mixin, OpenIDMixin, BaseApp):
    client_cls = OAuth2Client


class OidcClient:
    """One relying party at one provider."""

    def __init__(self, settings: SsoSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._app: _App | None = None
        self._loaded = 0.0
        self._failed: tuple[float, BackendUnavailable] | None = None

    def _provider(self) -> _App:
        with self._lock:
            if self._failed and time.time() - self._failed[0] < RETRY_SECONDS:
                if self._app is None:  # /readyz and the login button must not wait on a provider that is away
                    raise self._failed[1]
                return self._app
            if self._app is None or time.time() - self._loaded > METADATA_SECONDS:
                s = self.settings
                secret: str | None = s.client_secret.get_secret_value() if s.client_secret else None
                methods = None
                if s.client_auth == "private_key_jwt" and s.private_key_file is not None:
                    secret, methods = s.private_key_file.read_text(encoding="utf-8"), [PrivateKeyJWT()]
                app = _App(None, name="sso", client_id=s.client_id, client_secret=secret,
                           server_metadata_url=s.discovery, client_auth_methods=methods,
                           client_kwargs={"scope": s.scopes, "code_challenge_method": "S256",
                                          "token_endpoint_auth_method": s.client_auth,
                                          "timeout": s.timeout_seconds,
                                          "verify": str(s.ca_file) if s.ca_file else True})
                try:
                    metadata = app.load_server_metadata()
                    if metadata.get("issuer") != s.issuer:
                        raise BackendUnavailable(f"the OpenID provider calls itself {metadata.get('issuer')!r}, "
                                                 f"not {s.issuer!r} (web.sso.issuer)")
                except Exception as exc:  # network, TLS, JSON, another issuer: the provider cannot be used
                    failure = exc if isinstance(exc, BackendUnavailable) else BackendUnavailable(
                        f"the OpenID provider {s.discovery} cannot be read: {type(exc).__name__}")
                    self._failed = (time.time(), failure)
                    if self._app is None:
                        raise failure from exc
                    logger.warning("OpenID provider metadata not refreshed: %s", failure)
                    return self._app  # the metadata we have serves until the provider answers again
                self._app, self._loaded, self._failed = app, time.time(), None
            return self._app

    def authorize(self, redirect_uri: str, state: str, nonce: str, language: str) -> Authorization:
        """The authorization request (code flow, PKCE S256) for one login."""
        extra = {"ui_locales": language}
        if self.settings.acr_values:
            extra["acr_values"] = self.settings.acr_values
        found = self._provider().create_authorization_url(redirect_uri, state=state, nonce=nonce, **extra)
        return Authorization(found["url"], found["state"], found["nonce"], found["code_verifier"])

    def finish(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict[str, Any]:
        """Redeem the code (with the PKCE verifier) and return the ID token's checked claims (with userinfo's,
        when configured); LoginRefused for a token that fails any check."""
        app, s = self._provider(), self.settings
        try:
            token = app.fetch_access_token(redirect_uri, code=code, code_verifier=verifier)
        except OAuthError as exc:
            raise LoginRefused("token_refused", exc.error or "") from exc
        except Exception as exc:
            raise BackendUnavailable(f"the OpenID provider's token endpoint failed: {type(exc).__name__}") from exc
        if "id_token" not in token:
            raise LoginRefused("no_id_token")
        options = {"iss": {"essential": True, "value": s.issuer}, "aud": {"essential": True, "value": s.client_id},
                   "exp": {"essential": True}, "iat": {"essential": True}, "nonce": {"essential": True}}
        try:
            claims = app.parse_id_token(token, nonce, claims_options=options, leeway=s.clock_skew_seconds)
        except JoseError as exc:
            raise LoginRefused(_reason(exc), exc.description or "") from exc
        except Exception as exc:
            raise LoginRefused("invalid_token", type(exc).__name__) from exc
        claims = dict(claims)
        if claims.get("iat", 0) < time.time() - s.max_token_age_seconds - s.clock_skew_seconds:
            raise LoginRefused("token_too_old")
        if s.acr_values and claims.get("acr") not in s.acr_values.split():
            raise LoginRefused("insufficient_acr", str(claims.get("acr")))
        if s.userinfo and app.load_server_metadata().get("userinfo_endpoint"):
            try:
                extra = dict(app.userinfo(token=token))
            except Exception as exc:
                raise BackendUnavailable(f"the OpenID provider's userinfo failed: {type(exc).__name__}") from exc
            if extra.get("sub") != claims.get("sub"):
                raise LoginRefused("userinfo_subject")
            claims = extra | claims
        return claims

    def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session address (RP-initiated logout), or None when it offers none."""
        try:
            app = self._provider()
            if not app.load_server_metadata().get("end_session_endpoint"):
                return None
            return app.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                         client_id=self.settings.client_id)["url"]
        except BakenError as exc:
            logger.warning("no provider logout: %s", exc)
            return None

    def check(self) -> None:
        """Raise BackendUnavailable when the provider's metadata cannot be read (for /readyz)."""
        self._provider()


def _reason(exc: JoseError) -> str:
    """A short reason for a refused ID token: which claim was missing or wrong, an expired token, a bad
    signature."""
    name, claim = type(exc).__name__, getattr(exc, "claim", None)
    if name == "ExpiredTokenError":
        return "expired_token"
    if claim and name == "MissingClaimError":
        return f"missing_{claim}"
    if claim:
        return f"invalid_{claim}"
    return {"BadSignatureError": "bad_signature", "InvalidKeyIdError": "unknown_key"}.get(name, "invalid_token")
