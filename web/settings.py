"""Settings of the web front end; `Settings` holds them as `web` (env `BAKEN_WEB__...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.settings import LLMSettings
from core.database import DatabaseSettings
from ingestion.settings import IngestionSettings
from web.accounts.sso import SsoSettings


class WebSettings(BaseModel):
    """Where the server listens, how sessions and logins behave, and the interface language."""

    host: str = Field(default="127.0.0.1", description="Address `baken serve` listens on; localhost only by default.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `baken serve` listens on.")
    session_minutes: int = Field(
        default=480, ge=1,
        description="Minutes a session stays valid without activity; after that the user logs in again.",
    )
    secure_cookies: bool = Field(
        default=True,
        description="Send cookies with the Secure flag (browsers accept it on http://localhost and 127.0.0.1 too); "
        "switch off only behind a plain-http proxy on another host name.",
    )
    max_upload_mb: int | None = Field(
        default=None, ge=1,
        description="Largest upload in MB; defaults to the ingestion limit (BAKEN_INGESTION__MAX_FILE_MB).",
    )
    login_attempts: int = Field(
        default=5, ge=1,
        description="Failed logins for one user name from one client address before each further attempt waits"
        " (login_delay_seconds, doubling with every further failure). Never locks the account for others.",
    )
    login_address_attempts: int = Field(
        default=20, ge=1,
        description="Failed logins from one client address, whatever the user names, before each further attempt"
        " from it waits the same way (slows password spraying).",
    )
    login_delay_seconds: int = Field(
        default=30, ge=1, description="The first wait once a budget of failed logins is used up.",
    )
    login_max_delay_minutes: int = Field(default=15, ge=1, description="The longest wait between two attempts.")
    login_window_minutes: int = Field(
        default=60, ge=1,
        description="How long a failed login counts; a successful login clears its name's failures from that"
        " address at once.",
    )
    admin_password_env: str = Field(
        default="BAKEN_ADMIN_PASSWORD",
        description="Environment variable that holds the first administrator's password; when it is unset the "
        "password is generated and printed once.",
    )
    admin_name: str = Field(default="admin", description="User name of the first administrator account.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (10.0.0.0/8) of the load balancers in front of Baken;"
        " only their X-Forwarded-For/-Proto is believed, so that login rate limiting and the audit log see the"
        " real client. Empty: no proxy headers are believed.",
    )
    demo_corpus: bool = Field(
        default=True,
        description="Index the demo documents of Gemeente Voorbeeld into an empty index when `baken serve` starts"
        " (off in the container image: a real installation starts empty).",
    )
    history_days: int = Field(
        default=90, ge=1,
        description="Days a conversation is kept in the users' history after its last question; the history holds"
        " personal data as the user saw it. The audit log's own retention is separate.",
    )
    chat_workers: int = Field(
        default=1, ge=1, le=64,
        description="Questions this process answers at once. Keep 1 for the in-process model; with a model server,"
        " set it to the server's parallel slots (llama-server -np, vLLM's batch).",
    )
    max_pending_questions: int = Field(
        default=3, ge=1,
        description="Questions one user may have waiting or being answered at once; more are refused (429) until"
        " one is answered, so that one person cannot fill the model's queue.",
    )
    max_streams_per_session: int = Field(
        default=4, ge=1,
        description="Answer streams (server-sent events) one session may hold open on one process; more are"
        " refused (429).",
    )
    api_rate_per_minute: int = Field(
        default=60, ge=1,
        description="Calls a minute a new API key may make (`baken apikeys add --rate` sets it per key); more get"
        " 429 with Retry-After. Counted in the shared database, so across every host.",
    )
    api_max_waiting: int = Field(
        default=8, ge=1,
        description="API calls this process runs or holds waiting for the model at once; more get 429 with"
        " Retry-After (the queue is full).",
    )
    api_max_request_kb: int = Field(
        default=256, ge=1, le=1024,
        description="Largest body of an API request in KB; larger ones get 413.",
    )
    language: str = Field(default="nl", pattern="^(nl|en)$", description="Default interface language: nl or en.")
    sso: SsoSettings = Field(
        default_factory=SsoSettings,
        description="Single sign-on with the organisation's OpenID provider (off by default; env BAKEN_WEB__SSO__...).",
    )


class AppSettings(Protocol):
    """The settings sections the web app reads; the composed `baken.settings.Settings` is one."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def web(self) -> WebSettings: ...

    @property
    def llm(self) -> LLMSettings: ...

    @property
    def ingestion(self) -> IngestionSettings: ...

    @property
    def database(self) -> DatabaseSettings: ...

    @property
    def database_dsn(self) -> str | None: ...


def web_settings(settings: AppSettings) -> WebSettings:
    """The web section of the settings."""
    return settings.web
