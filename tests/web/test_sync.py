"""Folder sync on the Documenten page: the scheduled job's status, "Nu synchroniseren" for the
informatiebeheerder, its document.sync audit records, and no access for other roles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from baken.settings import Settings
from baken.wiring import Services
from core.database import Database
from ingestion.folder_sync import FolderSync
from ingestion.settings import IngestionSettings
from ingestion.sync_state import SyncState
from tests.web.conftest import BASE_URL, fake_services, log_in


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "afval.md").write_text("# Afval\n\nDe groene bak gaat elke week aan de straat.\n", encoding="utf-8")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.4 niets")
    return folder


@pytest.fixture
def web_settings_(tmp_path: Path, share: Path) -> Settings:
    """A server that mirrors ``share`` only when asked (no schedule)."""
    return Settings(data_dir=tmp_path / "data", ingestion=IngestionSettings(sync_dir=share, sync_interval_minutes=0))


@pytest.fixture
def services(web_settings_: Settings) -> Iterator[Services]:
    """Fake models, with folder sync over the index's registry database."""
    data = web_settings_.data_dir
    data.mkdir(parents=True, exist_ok=True)
    built = fake_services(data)
    built.folder_sync = FolderSync(built.index, SyncState(Database(data / "index.sqlite3")), 50 * 1024 * 1024)
    yield built
    built.close()


def _wait(client: TestClient, text: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = client.get("/documents/sync").text
        if text in html and "Bezig sinds" not in html and "start zo" not in html:
            return html
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear: {html}")


def test_sync_now_mirrors_the_folder_and_the_page_shows_counts_and_failures(app, services: Services,
                                                                           share: Path) -> None:
    with TestClient(app, base_url=BASE_URL) as client:  # the lifespan starts the scheduler thread
        csrf = log_in(client, "informatiebeheerder")
        page = client.get("/documents").text
        assert "Mapsynchronisatie" in page and str(share) in page and "Er is nog niet gesynchroniseerd." in page
        assert "Nu synchroniseren" in page and "Alleen op verzoek." in page
        answer = client.post("/documents/sync/now", data={"csrf_token": csrf}, headers={"HX-Request": "true"})
        assert answer.status_code == 200 and "De synchronisatie is gevraagd." in answer.text
        html = _wait(client, "Mislukt bij de laatste synchronisatie")
    assert "kapot.pdf" in html and "beschadigde PDF" in html
    assert "informatiebeheerder</td>" in html and "<td>klaar</td>" in html
    assert any(d.source == "sync:algemeen/afval.md" for d in services.index.documents())
    events = services.audit.search(action="document.sync")
    assert sorted(e.outcome for e in events) == ["failed", "ok"]
    assert all('"role":"informatiebeheerder"' in e.record_json for e in events)


def test_a_second_sync_while_one_runs_is_refused_with_a_message(app, services: Services) -> None:
    state = SyncState(Database(services.settings.data_dir / "index.sqlite3"))
    state.begin("algemeen", "/elders", "cli", "cli:beheer")  # this process, still running
    with TestClient(app, base_url=BASE_URL) as client:
        csrf = log_in(client, "informatiebeheerder")
        answer = client.post("/documents/sync/now", data={"csrf_token": csrf}, headers={"HX-Request": "true"})
    assert answer.status_code == 409 and "Er loopt al een synchronisatie" in answer.text


@pytest.mark.parametrize("role", ["medewerker", "auditor", "beheerder"])
def test_other_roles_neither_see_nor_start_a_sync(login, role: str) -> None:
    client, csrf = login(role)
    assert client.get("/documents/sync").status_code == 403
    assert client.post("/documents/sync/now", data={"csrf_token": csrf}).status_code == 403


def test_a_scheduled_sync_runs_at_start_when_none_is_on_record(tmp_path: Path, share: Path) -> None:
    from web.app import build_accounts, create_app

    settings = Settings(data_dir=tmp_path / "scheduled", ingestion=IngestionSettings(sync_dir=share))
    settings.data_dir.mkdir()
    built = fake_services(settings.data_dir)
    built.folder_sync = FolderSync(built.index, SyncState(Database(settings.data_dir / "index.sqlite3")), 1 << 26)
    build_accounts(settings).add_user("info", "informatiebeheerder", "correct horse battery staple")
    app = create_app(settings, built)
    try:
        with TestClient(app, base_url=BASE_URL) as client:
            log_in(client, "info")
            html = _wait(client, "<td>schema</td>")
        assert "Elke 60 minuten." in html and "Volgende synchronisatie" in html
        assert built.audit.search(action="document.sync")[0].record_json.count("systeem") >= 1
    finally:
        built.close()


def test_the_status_tells_the_document_list_to_refresh_once_a_polled_run_ended(login) -> None:
    client, _ = login("informatiebeheerder")
    assert client.get("/documents/sync", params={"was_busy": "1"}).headers.get("HX-Trigger") == "documents-changed"
    assert "HX-Trigger" not in client.get("/documents/sync").headers
