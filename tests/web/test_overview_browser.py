"""The overviews in real headless Chromium against a live server (fake models: these journeys read the audit
log, they ask nothing): the information manager's and the auditor's, by mouse and keyboard, with and without
JavaScript; axe-core without serious violations; screenshots in tests/artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.audit import AuditLog
from assistant.audit.records import prepare_record
from baken.settings import Settings
from tests.web.conftest import fake_services
from tests.web.test_browser import PASSWORDS, LiveServer, Visit, browser  # noqa: F401  (browser: a fixture)

GAP = "Mag ik mijn hond meenemen naar het stadskantoor van <PERSON_1>?"


def seed(log: AuditLog, doc_id: str) -> None:
    """Three weeks of turns, feedback and a few readings, in the app's own audit log."""
    now = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)

    def put(at: datetime, action: str, record: dict[str, Any], outcome: str,
            content: dict[str, Any] | None = None) -> int:
        return log.store.append(lambda seq, head: prepare_record(
            seq, head, time=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), action=action, actor=log.pseudonym("mw"),
            role="medewerker", attributes=record, content=content, conversation_id="c", outcome=outcome)).seq

    for day in range(21):
        at = now - timedelta(days=day)
        for n in range(day % 4 + 1):
            answered = put(at, "conversation.turn", {
                "baken.sources": [{"doc_id": doc_id, "collection": "algemeen", "cited": True}],
                "baken.withheld": n == 2, "baken.redactions": [{"type": "BSN"}] if n == 1 else []}, "answered",
                {"question": "Hoe vraag ik een parkeervergunning aan?"})
            if n == 0:
                put(at, "feedback.given", {"baken.feedback.turn_seq": answered,
                                           "baken.feedback.rating": "useful" if day % 3 else "not_useful"},
                    "recorded")
        if day % 5 == 0:
            put(at, "conversation.turn", {"baken.sources": [], "baken.redactions": [{"type": "PERSON"}]},
                "no_source", {"question": GAP})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app over fake models with a seeded audit log, behind a live server, one account per role."""
    from web.app import build_accounts, create_app

    data = tmp_path_factory.mktemp("overview-browser") / "data"
    data.mkdir(parents=True)
    services = fake_services(data)
    seed(services.audit, services.index.documents()[0].doc_id)
    app_settings = Settings(data_dir=data)
    accounts = build_accounts(app_settings)
    for role, password in PASSWORDS.items():
        accounts.add_user(role, role, password)
    server = LiveServer(create_app(app_settings, services))
    yield server
    server.stop()
    services.close()


def test_information_manager_reads_the_overview_and_changes_the_period_by_keyboard(browser, live) -> None:  # noqa: F811
    visit = Visit(browser, live, "informatiebeheerder")
    visit.log_in()
    page = visit.page
    page.get_by_role("link", name="Overzicht", exact=True).click()
    page.get_by_role("heading", name="Vragen per dag", exact=True).first.wait_for()
    assert page.url.endswith("/overview")
    assert page.get_by_role("img", name="Vragen per dag").count() == 1  # the chart, named for screen readers
    table = page.get_by_role("table", name="Tabel: Vragen per dag")
    assert table.locator("tbody tr").count() == 30
    assert GAP in page.locator("table.gaps").inner_text()
    visit.axe("overview-30")
    visit.shot("5-information-manager-overview")
    link = page.get_by_role("link", name="Laatste 7 dagen")
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Getoond: de laatste 7 dagen").wait_for()
    assert page.url.endswith("/overview?days=7")  # htmx put the period in the address
    assert page.get_by_role("table", name="Tabel: Vragen per dag").locator("tbody tr").count() == 7
    assert page.get_by_role("link", name="Laatste 7 dagen").get_attribute("aria-current") == "true"
    page.keyboard.press("Tab")  # the tables scroll, and can be reached and scrolled by keyboard
    visit.axe("overview-7")
    visit.shot("5-information-manager-overview-7-days")
    visit.close()


def test_the_period_links_work_without_javascript(browser, live) -> None:  # noqa: F811
    visit = Visit(browser, live, "informatiebeheerder", javascript=False)
    visit.log_in()
    visit.go("/overview")
    with visit.page.expect_navigation():
        visit.page.get_by_role("link", name="Laatste 90 dagen").click()
    assert visit.page.url.endswith("/overview?days=90")
    assert visit.page.get_by_role("table", name="Tabel: Vragen per dag").locator("tbody tr").count() == 90
    visit.close()


def test_auditor_sees_chain_and_witness_verifies_and_finds_the_reading_logged(browser, live) -> None:  # noqa: F811
    visit = Visit(browser, live, "auditor")
    visit.log_in()
    page = visit.page
    page.get_by_role("link", name="Auditoverzicht").click()
    page.get_by_role("heading", name="Keten en controlepunten").wait_for()
    assert "Geen getuige ingesteld" in page.locator("dl.status-list").inner_text()
    assert page.get_by_role("img", name="Verwijderde persoonsgegevens in vragen, per soort").count() == 1
    visit.axe("audit-overview")
    page.get_by_role("button", name="Keten nu controleren").click()
    page.get_by_text("De keten is intact").wait_for()
    page.get_by_role("link", name="Laatste 90 dagen").click()
    page.get_by_text("Getoond: de laatste 90 dagen").wait_for()
    status = page.locator("dl.status-list").inner_text()
    assert "intact (" in status  # the verification just made is the last one in the log
    readers = page.get_by_role("table", name="Wie het auditlog raadpleegde").inner_text()
    assert "2" in readers and "1" in readers  # two openings of this overview, one verification
    visit.axe("audit-overview-verified")
    visit.shot("6-auditor-overview")
    visit.close()
