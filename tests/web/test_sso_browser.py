"""The SSO journey in real headless Chromium (Debian's, through Playwright): Baken on a loopback port (fake
models: this journey tests the login, not the answers) and the OpenID provider of tests/web/oidc_provider.py on
another. Log in with the organisation, land in the chat, log out at the provider. axe-core checks Baken's pages;
screenshots go to tests/artifacts/web/."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from baken.settings import Settings
from tests.paths import REPO
from tests.web.conftest import PASSWORD, fake_services
from tests.web.oidc_provider import running
from tests.web.test_sso import sso_settings
from web.app import build_accounts, create_app
from web.settings import WebSettings

AXE = REPO / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "artifacts" / "web"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None or not AXE.exists():
        pytest.fail("chromium or axe-core is missing: run scripts/browser-deps")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _axe(page, name: str) -> None:
    violations = page.evaluate(
        "async () => (await axe.run()).violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {json.dumps(bad, indent=1)}"


def test_an_employee_logs_in_with_the_organisation_and_out_again(chromium, tmp_path: Path) -> None:
    from tests.web.test_browser import LiveServer

    data = tmp_path / "data"
    data.mkdir()
    with running() as provider:
        provider.set_user("anna.devries", preferred_username="anna", name="Anna de Vries",
                          groups=["/baken/medewerkers", "/afdelingen/hr"])
        settings = Settings(data_dir=data, web=WebSettings(sso=sso_settings(provider.issuer)))
        build_accounts(settings).add_user("noodbeheer", "beheerder", PASSWORD)
        services = fake_services(data)
        app = create_app(settings, services)
        live = LiveServer(app)
        context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        # Offline: only the two loopback servers answer (the provider's page names a CDN stylesheet).
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            (live.url, provider.issuer)) else route.abort())
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.set_default_timeout(30_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            page.goto(live.url + "/chat")
            assert "/login" in page.url
            _axe(page, "sso-login")
            page.screenshot(path=str(ARTIFACTS / "sso-1-login.png"), full_page=True)
            page.get_by_role("button", name="Inloggen met Gemeente Voorbeeld").click()
            page.wait_for_url(lambda url: url.startswith(provider.issuer))  # at the organisation's provider
            page.locator("input[name=sub]").fill("anna.devries")
            page.get_by_role("button", name="Authorize").click()
            page.wait_for_url(lambda url: url.startswith(live.url) and url.endswith("/chat"))
            assert "anna (medewerker)" in page.locator(".whoami").inner_text()
            assert page.locator("h1").first.inner_text() == "Stel een vraag"
            _axe(page, "sso-chat")
            page.screenshot(path=str(ARTIFACTS / "sso-2-chat.png"), full_page=True)
            anna = app.state.baken.accounts.user_named("anna")
            assert anna is not None and anna.origin == "oidc" and anna.groups == {"hr"}
            page.get_by_role("button", name="Uitloggen").click()
            page.wait_for_url(lambda url: "/oauth2/end_session" in url)  # the provider's session ends too
            page.get_by_role("button", name="End session").click()
            page.wait_for_url(lambda url: url.startswith(live.url + "/login"))
            page.goto(live.url + "/chat")
            assert "/login" in page.url  # Baken's session is gone
            page.screenshot(path=str(ARTIFACTS / "sso-3-logged-out.png"), full_page=True)
            # A break-glass administrator sees the SSO account, its roles and groups, on the Gebruikers page.
            page.goto(live.url + "/login")
            page.get_by_label("Gebruikersnaam").fill("noodbeheer")
            page.get_by_label("Wachtwoord").fill(PASSWORD)
            page.get_by_role("button", name="Inloggen", exact=True).click()
            page.wait_for_url(lambda url: url.endswith("/admin/users"))
            row = page.locator("tr", has_text="anna")
            assert "medewerker" in row.inner_text() and "hr" in row.inner_text() and "SSO" in row.inner_text()
            _axe(page, "sso-users")
            row.get_by_role("link", name="Rollen en groepen wijzigen").click()
            page.get_by_role("group", name="Rollen").get_by_label("informatiebeheerder").check()
            page.get_by_role("button", name="Opslaan").click()
            assert "zijn opgeslagen" in page.locator("[role=status]").inner_text()
            _axe(page, "sso-user-edit")
            page.screenshot(path=str(ARTIFACTS / "sso-4-user-edit.png"), full_page=True)
            assert app.state.baken.accounts.user_named("anna").roles == {"medewerker", "informatiebeheerder"}
            assert problems == []
        finally:
            context.close()
            live.stop()
            app.state.baken.chat.close()
            app.state.baken.indexer.close()
            services.close()
