"""Mapsynchronisatie in Chromium (Playwright): the informatiebeheerder presses "Nu synchroniseren", the status
polls itself until the run is done and the document list refreshes; axe-core finds no serious violation; and
the same without JavaScript (a plain form, a redirect). Fake models: the page is what is tested."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from baken.settings import Settings
from core.database import Database
from ingestion.folder_sync import FolderSync
from ingestion.settings import IngestionSettings
from ingestion.sync_state import SyncState
from tests.web.conftest import fake_services
from tests.web.test_browser import PASSWORDS, LiveServer, Visit, browser  # noqa: F401 (a fixture)

ROLE = "informatiebeheerder"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose Documenten page mirrors a folder of two files, one of them broken."""
    from web.app import build_accounts, create_app

    root = tmp_path_factory.mktemp("sync-browser")
    share = root / "share"
    share.mkdir()
    (share / "afval.md").write_text("# Afvalkalender\n\nDe groene bak gaat elke week.\n", encoding="utf-8")
    (share / "kapot.pdf").write_bytes(b"%PDF-1.4 niets")
    settings = Settings(data_dir=root / "data", ingestion=IngestionSettings(sync_dir=share, sync_interval_minutes=0))
    settings.data_dir.mkdir()
    services = fake_services(settings.data_dir)
    services.folder_sync = FolderSync(services.index, SyncState(Database(settings.data_dir / "index.sqlite3")),
                                      1 << 26)
    build_accounts(settings).add_user(ROLE, ROLE, PASSWORDS[ROLE])
    server = LiveServer(create_app(settings, services))
    server.share = share  # type: ignore[attr-defined]
    yield server
    server.stop()
    services.close()


def test_sync_now_runs_the_sync_and_the_page_follows_it(browser, live: LiveServer) -> None:  # noqa: F811
    visit = Visit(browser, live, ROLE)
    visit.log_in()
    visit.go("/documents")
    page = visit.page
    assert page.get_by_role("heading", name="Mapsynchronisatie").is_visible()
    visit.axe("documents with folder sync")
    page.get_by_role("button", name="Nu synchroniseren").click()
    page.locator("#sync .sync-failures").wait_for()  # the partial polled itself until the run ended
    assert "kapot.pdf" in page.locator("#sync").inner_text()
    page.locator("#doc-list", has_text="Afvalkalender").wait_for()  # refreshed when the run ended
    visit.axe("documents after a sync")
    visit.shot("2-information-manager-folder-sync")
    assert not [p for p in visit.problems if "Content Security Policy" in p or "Refused" in p], visit.problems


def test_sync_now_works_without_javascript(browser, live: LiveServer) -> None:  # noqa: F811
    (live.share / "bomen.md").write_text("# Bomenkap\n\nEen kapvergunning is nodig vanaf 20 cm.\n",  # type: ignore[attr-defined]
                                         encoding="utf-8")
    visit = Visit(browser, live, ROLE, javascript=False)
    visit.log_in()
    visit.go("/documents")
    visit.page.get_by_role("button", name="Nu synchroniseren").click()
    visit.page.wait_for_url(lambda url: url.endswith("/documents"))
    deadline = time.monotonic() + 20
    while "Bomenkap" not in visit.page.content():
        assert time.monotonic() < deadline, "the sync did not index the new file"
        time.sleep(0.3)
        visit.go("/documents")
