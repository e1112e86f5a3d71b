"""Single sign-on with OpenID Connect: its settings (`web.sso`, env `BAKEN_WEB__SSO__...`), how a provider's
claims map to Baken roles and groups, and the pending logins (state, nonce, PKCE verifier) in the shared
database, so that the callback may land on any host.

The protocol itself (discovery, the token request, the ID token's signature and claims) is `web.oidc`, the one
module that imports Authlib. Everything here is plain data, testable without a provider.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator

from core.database import Database
from core.errors import UserError
from web.accounts.store import check_roles

PENDING_SECONDS = 600  # a login not finished within ten minutes must start again
SECRET_BYTES = 32  # state, nonce and browser binding: 256 bits each (the NL GOV profile asks for at least 128)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class SsoSettings(BaseModel):
    """The OpenID provider, this client's registration there, and how its claims become roles and groups."""

    enabled: bool = Field(default=False, description="Offer login with the organisation's OpenID provider.")
    issuer: str = Field(
        default="",
        description="The provider's issuer URL, exactly as in its ID tokens (Entra ID: "
        "https://login.microsoftonline.com/<tenant-id>/v2.0; Keycloak: https://<host>/realms/<realm>).",
    )
    discovery_url: str = Field(
        default="", description="Its discovery document; empty: <issuer>/.well-known/openid-configuration.",
    )
    client_id: str = Field(default="", description="This application's client id at the provider.")
    client_secret: SecretStr | None = Field(
        default=None, description="The client secret (client_secret_basic or client_secret_post).",
    )
    client_auth: Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] = Field(
        default="client_secret_basic",
        description="How Baken authenticates at the token endpoint; the NL GOV profile asks confidential clients"
        " for private_key_jwt (with private_key_file).",
    )
    private_key_file: Path | None = Field(
        default=None, description="PEM private key for private_key_jwt; its public key is registered there.",
    )
    scopes: str = Field(default="openid profile email", description="Scopes asked for; must contain openid.")
    organisation: str = Field(
        default="uw organisatie", description="Name on the login button: \"Inloggen met <organisation>\".",
    )
    public_url: str = Field(
        default="",
        description="Baken's own address as users reach it (https://baken.gemeente.nl); the redirect URI is "
        "<public_url>/login/sso/callback. Empty: taken from each request.",
    )
    name_claim: str = Field(default="preferred_username", description="Claim that names the account.")
    roles_claim: str = Field(default="roles", description="Claim with role names (Entra ID app roles).")
    groups_claim: str = Field(
        default="groups", description="Claim with groups (Entra ID: object ids; Keycloak: paths such as /hr).",
    )
    role_map: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Provider value (in the roles or groups claim) -> Baken roles, as JSON: "
        "{\"baken-medewerkers\": [\"medewerker\"]}. A user without any mapped role cannot log in.",
    )
    group_map: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Provider value (in the groups or roles claim) -> Baken groups, as JSON: "
        "{\"/afdelingen/hr\": [\"hr\"]}.",
    )
    disable_values: list[str] = Field(
        default_factory=list,
        description="Provider values (in the roles or groups claim) that disable the Baken account, whatever else"
        " the user holds (e.g. a \"baken-geblokkeerd\" group).",
    )
    local_login: bool = Field(
        default=True,
        description="Keep the password form on the login page. Off: only the SSO button shows; break-glass local "
        "accounts still log in at /login?lokaal=1.",
    )
    acr_values: str = Field(
        default="", description="Requested levels of assurance (NL GOV: e.g. an eHerkenning level); when set, "
        "the ID token's acr must be one of them.",
    )
    userinfo: bool = Field(
        default=False, description="Also read the userinfo endpoint (when the groups are not in the ID token).",
    )
    provider_origins: list[str] = Field(
        default_factory=list,
        description="Other origins (https://host) of the provider's login and logout pages, when they are not "
        "on the issuer's host; the pages' CSP lets forms lead there.",
    )
    reauthenticate_minutes: int = Field(
        default=60, ge=1,
        description="An SSO session ends this many minutes after its login, however active, so that the provider "
        "decides again (roles, groups, a disabled account); its own session usually logs the user straight back.",
    )
    clock_skew_seconds: int = Field(default=60, ge=0, le=600, description="Leeway on exp, iat and nbf.")
    max_token_age_seconds: int = Field(
        default=600, ge=30, description="An ID token issued longer ago than this (iat) is refused.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of each call to the provider.")
    ca_file: Path | None = Field(
        default=None, description="CA bundle for the provider's TLS certificate (an internal CA); empty: system.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SsoSettings:
        """Refuse at start what would fail at every login."""
        if not self.enabled:
            return self
        if not self.issuer or not self.client_id:
            raise ValueError("web.sso needs issuer and client_id when enabled")
        for url in (self.issuer, self.discovery_url, self.public_url, *self.provider_origins):
            if url and not secure_url(url):
                raise ValueError(f"{url!r} must be https (plain http only on loopback)")
        if "openid" not in self.scopes.split():
            raise ValueError("web.sso.scopes must contain openid")
        if self.client_auth == "private_key_jwt" and self.private_key_file is None:
            raise ValueError("web.sso.client_auth private_key_jwt needs private_key_file")
        if self.client_auth in ("client_secret_basic", "client_secret_post") and self.client_secret is None:
            raise ValueError(f"web.sso.client_auth {self.client_auth} needs client_secret")
        for value, roles in self.role_map.items():
            try:
                check_roles(roles)
            except UserError as exc:
                raise ValueError(f"web.sso.role_map[{value!r}]: {exc}") from exc
        return self

    @property
    def discovery(self) -> str:
        """Where the provider's metadata is read."""
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def sso_origins(settings: SsoSettings) -> tuple[str, ...]:
    """The provider's origin, where the login button and an SSO session's logout lead (empty with SSO off)."""
    if not settings.enabled:
        return ()
    origins = [settings.issuer, *settings.provider_origins]
    return tuple(dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, origins)))


def secure_url(url: str) -> bool:
    """https, or http on a loopback host (a provider started by tests)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK)


@dataclass(frozen=True)
class Mapped:
    """What a provider's claims grant: roles, groups, and whether the account is disabled (and why)."""

    roles: frozenset[str]
    groups: frozenset[str]
    disabled: str | None = None  # "no_role", "disabled_by_provider" or "separation_of_duties"


def claim_values(claims: dict[str, Any], name: str) -> list[str]:
    """A claim as a list of strings: a list, one string, or a space-separated string (some providers)."""
    value = claims.get(name)
    if isinstance(value, str):
        return value.split() if " " in value else [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def map_claims(settings: SsoSettings, claims: dict[str, Any]) -> Mapped:
    """The roles and groups the provider's roles and groups claims grant through the settings' maps."""
    values = set(claim_values(claims, settings.roles_claim)) | set(claim_values(claims, settings.groups_claim))
    roles = frozenset(r for v in values for r in settings.role_map.get(v, ()))
    groups = frozenset(g for v in values for g in settings.group_map.get(v, ()))
    if values & set(settings.disable_values):
        return Mapped(frozenset(), groups, "disabled_by_provider")
    if not roles:
        return Mapped(roles, groups, "no_role")
    try:
        check_roles(roles)
    except UserError:
        return Mapped(roles, groups, "separation_of_duties")
    return Mapped(roles, groups)


# --- pending logins ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A login sent to the provider and not yet back: what the callback needs to finish it."""

    nonce: str
    verifier: str
    redirect_uri: str
    next: str
    created: float


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    """A random URL-safe value for state, nonce or the browser binding."""
    return secrets.token_urlsafe(SECRET_BYTES)


class PendingLogins:
    """Logins between the redirect to the provider and its callback, one row each, used at most once.

    The row is found by the hash of `state` and also holds the hash of a random cookie set in the browser
    that started the login, so a callback URL replayed, or opened in another browser, finds nothing."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, state: str, browser: str, pending: Pending) -> None:
        """Remember a login that is going to the provider (and drop those that expired)."""
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sso_logins WHERE created < ?", (time.time() - PENDING_SECONDS,))
            conn.execute("INSERT INTO sso_logins (state_hash, browser_hash, nonce, verifier, redirect_uri, next, "
                         "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (_digest(state), _digest(browser), pending.nonce, pending.verifier, pending.redirect_uri,
                          pending.next, pending.created))

    def take(self, state: str, browser: str | None) -> Pending | None:
        """The pending login of ``state`` started in this browser, removed so it cannot be used again; None for
        an unknown, used, expired or foreign one."""
        if not state or len(state) > 256:
            return None
        with self._db.transaction(lock="sso-login") as conn:
            row = conn.execute("SELECT * FROM sso_logins WHERE state_hash = ?", (_digest(state),)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM sso_logins WHERE state_hash = ?", (_digest(state),))
        if not browser or not hmac.compare_digest(row["browser_hash"], _digest(browser)):
            return None
        if row["created"] < time.time() - PENDING_SECONDS:
            return None
        return Pending(row["nonce"], row["verifier"], row["redirect_uri"], row["next"], float(row["created"]))
