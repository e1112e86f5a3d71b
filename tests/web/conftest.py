"""Web test fixtures: the app over fake models (fast), accounts for every role, logged-in test clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from assistant.audit import AuditLog, AuditSettings
from assistant.journal import AuditJournal
from assistant.llm import FakeLLM
from assistant.turn import Assistant, NoRedaction
from baken.settings import Settings
from baken.wiring import Services
from core.database import Database, DatabaseSettings
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore
from web.app import build_accounts, create_app

ROLES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")
PASSWORD = "correct horse battery staple"
BASE_URL = "https://testserver.local"  # cookies are Secure by default


@pytest.fixture(params=["sqlite", "postgres"])
def dialect_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for the web database of each dialect; on PostgreSQL, a schema of its own, dropped afterwards."""
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path)
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield Settings(data_dir=tmp_path, database=DatabaseSettings(dsn=dsn, pg_schema=schema))
    db = Database.open(dsn, tmp_path, schema)
    with db.connect() as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    db.close()


def fake_services(data: Path, answer: str = "Een parkeervergunning kost veertig euro [1].") -> Services:
    """Services over fake models, with an audit log and one indexed document."""
    settings = Settings(data_dir=data)
    index = Index(FakeEmbedder(), FakeStore(), Registry(data / "index.sqlite3"), data / "documents",
                  settings.ingestion)
    source = data / "parkeren.md"
    source.write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n", encoding="utf-8")
    index.ingest_file(source)
    audit = AuditLog.open(AuditSettings(durable=False), data)
    assistant = Assistant(index, FakeLLM(answer), NoRedaction(), AuditJournal(audit), settings)
    return Services(settings, index, assistant, audit=audit)


@pytest.fixture
def web_settings_(tmp_path: Path) -> Settings:
    """Settings with a fresh data directory."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def services(web_settings_: Settings) -> Iterator[Services]:
    """Fake services in the test's data directory."""
    web_settings_.data_dir.mkdir(parents=True, exist_ok=True)
    built = fake_services(web_settings_.data_dir)
    yield built
    built.close()


@pytest.fixture
def app(web_settings_: Settings, services: Services):
    """The web app, with one account per role (named after the role)."""
    accounts = build_accounts(web_settings_)
    for role in ROLES:
        accounts.add_user(role, role, PASSWORD)
    return create_app(web_settings_, services)


@pytest.fixture
def anonymous(app) -> TestClient:
    """A client that has not logged in."""
    return TestClient(app, base_url=BASE_URL)


def csrf_of(html: str) -> str:
    """The CSRF token a page carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"]).text)


@pytest.fixture
def login(app):
    """login(role) -> (client, csrf): a client logged in with that role."""

    def make(role: str) -> tuple[TestClient, str]:
        client = TestClient(app, base_url=BASE_URL)
        return client, log_in(client, role)

    yield make
    app.state.baken.chat.close()
    app.state.baken.indexer.close()
