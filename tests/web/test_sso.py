"""Single sign-on against a real OpenID provider on loopback (tests/web/oidc_provider.py: oidc-provider-mock in a
thread, with PKCE enforced): a full login through the test client, the checks on what comes back (audience,
expiry, state, nonce), claims that change between logins, logout at the provider, break-glass local accounts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import TestClient
from pydantic import ValidationError

from assistant.services import Services
from baken.settings import Settings
from core.errors import BakenError
from tests.web.conftest import BASE_URL, PASSWORD, fake_services, log_in
from tests.web.oidc_provider import Provider, running
from web.accounts.sso import SsoSettings, claim_values, map_claims, sso_origins
from web.app import build_accounts, create_app
from web.settings import WebSettings

ROLE_MAP = {"/baken/medewerkers": ["medewerker"], "/baken/informatiebeheer": ["informatiebeheerder"],
            "/baken/beheer": ["beheerder"], "baken-auditors": ["auditor"]}
GROUP_MAP = {"/afdelingen/hr": ["hr"], "/afdelingen/jeugdzorg": ["jeugdzorg"]}


def sso_settings(issuer: str, **extra: Any) -> SsoSettings:
    """Keycloak-style settings: groups by path in the `groups` claim."""
    return SsoSettings(enabled=True, issuer=issuer, client_id="baken", client_secret="geheim",
                       organisation="Gemeente Voorbeeld", role_map=ROLE_MAP, group_map=GROUP_MAP,
                       disable_values=["/baken/geblokkeerd"], **extra)


class Site:
    """Baken with SSO on, its fake services and the provider it trusts."""

    def __init__(self, data: Path, provider: Provider, **extra: Any) -> None:
        data.mkdir(parents=True)
        self.provider, self.services = provider, fake_services(data)
        self.settings = Settings(data_dir=data, web=WebSettings(sso=sso_settings(provider.issuer, **extra)))
        self.accounts = build_accounts(self.settings)
        self.accounts.add_user("noodbeheer", "beheerder", PASSWORD)  # break-glass
        self.app = create_app(self.settings, self.services)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url=BASE_URL)

    def start(self, client: TestClient, next: str = "/") -> str:
        """Press "Inloggen met ...": the provider's authorization URL Baken redirects to."""
        response = client.get("/login/sso", params={"next": next}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return response.headers["location"]

    def log_in(self, client: TestClient, sub: str, next: str = "/") -> httpx.Response:
        """A whole login: to the provider, the user consents there as ``sub``, back to Baken, redirects followed."""
        back = self.provider.log_in(self.start(client, next), sub)
        assert back.startswith(f"{BASE_URL}/login/sso/callback?")
        return client.get(back, follow_redirects=True)

    def records(self, action: str) -> list[dict[str, Any]]:
        audit: Services = self.services
        assert audit.audit is not None
        return [json.loads(r.record_json) for r in audit.audit.search(action=action)]

    def close(self) -> None:
        self.app.state.baken.chat.close()
        self.app.state.baken.indexer.close()
        self.services.close()


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running() as started:
        yield started


@pytest.fixture
def site(tmp_path: Path, provider: Provider) -> Iterator[Site]:
    built = Site(tmp_path / "data", provider)
    yield built
    built.close()


def test_a_first_login_creates_the_account_with_its_mapped_roles_and_groups(site: Site, provider: Provider) -> None:
    provider.set_user("anna-1", preferred_username="anna", name="Anna de Vries",
                      groups=["/baken/medewerkers", "/afdelingen/hr", "/elders/onbekend"])
    client = site.client()
    authorize = site.start(client)
    query = parse_qs(urlsplit(authorize).query)
    # Code flow with PKCE S256, state and nonce of 256 bits, as the NL GOV profile asks.
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43 and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [f"{BASE_URL}/login/sso/callback"] and query["ui_locales"] == ["nl"]
    page = client.get(provider.log_in(authorize, "anna-1"), follow_redirects=True)
    assert page.status_code == 200 and str(page.url).endswith("/chat")
    assert "anna (medewerker)" in page.text and "Stel een vraag" in page.text
    assert provider.token_requests[-1]["code_verifier"]  # and the provider checked it against the challenge
    user = site.accounts.user_named("anna")
    assert user is not None and user.origin == "oidc" and user.roles == {"medewerker"} and user.groups == {"hr"}
    login = site.records("auth.login")[-1]
    assert login["baken.session.origin"] == "oidc" and login["role"] == "medewerker"
    assert login["actor"] == site.services.audit.pseudonym(user.id)  # type: ignore[union-attr]
    assert client.get("/documents", follow_redirects=False).status_code == 403


def test_the_next_page_survives_the_trip_to_the_provider(site: Site, provider: Provider) -> None:
    provider.set_user("bea-1", preferred_username="bea", groups=["/baken/medewerkers"])
    page = site.log_in(site.client(), "bea-1", next="/chat?q=1")
    assert str(page.url).endswith("/chat?q=1")


def test_roles_and_groups_follow_the_provider_at_every_login(site: Site, provider: Provider) -> None:
    provider.set_user("cor-1", preferred_username="cor", groups=["/baken/medewerkers", "/afdelingen/hr"])
    first = site.client()
    site.log_in(first, "cor-1")
    provider.set_user("cor-1", preferred_username="cor", groups=["/baken/medewerkers", "/baken/informatiebeheer",
                                                                 "/afdelingen/jeugdzorg"])
    second = site.client()
    assert site.log_in(second, "cor-1").status_code == 200
    cor = site.accounts.user_named("cor")
    assert cor is not None and cor.roles == {"medewerker", "informatiebeheerder"} and cor.groups == {"jeugdzorg"}
    assert second.get("/documents", follow_redirects=False).status_code == 200
    assert first.get("/documents", follow_redirects=False).status_code == 200  # a live session sees them at once
    # Losing every role disables the account: the login is refused, and the sessions it had are ended.
    provider.set_user("cor-1", preferred_username="cor", groups=["/afdelingen/jeugdzorg"])
    refused = site.log_in(site.client(), "cor-1")
    assert refused.status_code == 403 and "geen rol in Baken" in refused.text
    cor = site.accounts.user_named("cor")
    assert cor is not None and not cor.active
    assert first.get("/chat", follow_redirects=False).status_code == 303  # back to the login page
    assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == "no_role"
    # Given a role again, the provider's account comes back.
    provider.set_user("cor-1", preferred_username="cor", groups=["/baken/medewerkers"])
    assert site.log_in(site.client(), "cor-1").status_code == 200
    assert site.accounts.user_named("cor").active  # type: ignore[union-attr]


def test_the_provider_disables_an_account_through_the_mapping(site: Site, provider: Provider) -> None:
    provider.set_user("dirk-1", preferred_username="dirk", groups=["/baken/medewerkers"])
    site.log_in(site.client(), "dirk-1")
    provider.set_user("dirk-1", preferred_username="dirk", groups=["/baken/medewerkers", "/baken/geblokkeerd"])
    refused = site.log_in(site.client(), "dirk-1")
    assert refused.status_code == 403 and "door uw organisatie uitgeschakeld" in refused.text
    assert not site.accounts.user_named("dirk").active  # type: ignore[union-attr]


def test_someone_without_a_role_gets_no_account(site: Site, provider: Provider) -> None:
    provider.set_user("piet-1", preferred_username="piet", groups=["/afdelingen/hr"])
    refused = site.log_in(site.client(), "piet-1")
    assert refused.status_code == 403 and "geen rol in Baken" in refused.text
    assert site.accounts.user_named("piet") is None
    assert site.records("auth.login_failed")[-1]["actor"] == site.services.audit.pseudonym(  # type: ignore[union-attr]
        f"sso:{provider.issuer}|piet-1")


def test_an_account_disabled_in_baken_stays_disabled_when_the_provider_logs_it_in(site: Site,
                                                                                 provider: Provider) -> None:
    provider.set_user("els-1", preferred_username="els", groups=["/baken/medewerkers"])
    site.log_in(site.client(), "els-1")
    site.accounts.set_active(site.accounts.user_named("els").id, False)  # type: ignore[union-attr]
    refused = site.log_in(site.client(), "els-1")
    assert refused.status_code == 403 and "in Baken uitgeschakeld" in refused.text


def test_auditor_and_beheerder_from_the_provider_are_refused(site: Site, provider: Provider) -> None:
    provider.set_user("fem-1", preferred_username="fem", groups=["/baken/beheer", "baken-auditors"])
    refused = site.log_in(site.client(), "fem-1")
    assert refused.status_code == 403 and "functiescheiding" in refused.text
    assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == "separation_of_duties"


def test_a_provider_user_never_takes_over_a_local_account_by_its_name(site: Site, provider: Provider) -> None:
    provider.set_user("imposter", preferred_username="noodbeheer", groups=["/baken/medewerkers"])
    page = site.log_in(site.client(), "imposter")
    assert page.status_code == 200 and "noodbeheer~" in page.text
    local = site.accounts.user_named("noodbeheer")
    assert local is not None and local.origin == "local" and local.roles == {"beheerder"}


def test_an_id_token_for_another_client_is_refused(site: Site, provider: Provider) -> None:
    provider.set_user("gijs-1", preferred_username="gijs", groups=["/baken/medewerkers"])
    client = site.client()
    authorize = site.start(client)
    back = provider.log_in(authorize, "gijs-1")
    nonce = parse_qs(urlsplit(authorize).query)["nonce"][0]
    # An attacker swaps in a real token the provider issued to another application, with the same nonce.
    provider.substitute = provider.token_response("andere-app", "gijs-1", nonce, "https://andere-app.local/cb")
    refused = client.get(back, follow_redirects=True)
    assert refused.status_code == 401 and "niet worden gecontroleerd" in refused.text
    assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == "invalid_aud"
    assert site.accounts.user_named("gijs") is None


@pytest.mark.parametrize(("nonce", "reason"), [(None, "missing_nonce"), ("een-andere-nonce-" + "x" * 30,
                                                                           "invalid_nonce")])
def test_an_id_token_without_the_login_s_nonce_is_refused(site: Site, provider: Provider, nonce: str | None,
                                                         reason: str) -> None:
    provider.set_user("hans-1", preferred_username="hans", groups=["/baken/medewerkers"])
    client = site.client()
    back = provider.log_in(site.start(client), "hans-1")
    provider.substitute = provider.token_response("baken", "hans-1", nonce, f"{BASE_URL}/login/sso/callback")
    assert client.get(back, follow_redirects=True).status_code == 401
    assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == reason


def test_an_expired_id_token_is_refused(tmp_path: Path) -> None:
    with running(max_age=timedelta(minutes=-5)) as expired:  # its tokens expire five minutes before they are issued
        expired.set_user("ivo-1", preferred_username="ivo", groups=["/baken/medewerkers"])
        site = Site(tmp_path / "data", expired)
        try:
            refused = site.log_in(site.client(), "ivo-1")
            assert refused.status_code == 401
            assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == "expired_token"
            assert site.accounts.user_named("ivo") is None
        finally:
            site.close()


def test_a_replayed_state_is_refused(site: Site, provider: Provider) -> None:
    provider.set_user("jet-1", preferred_username="jet", groups=["/baken/medewerkers"])
    client = site.client()
    back = provider.log_in(site.start(client), "jet-1")
    assert client.get(back, follow_redirects=True).status_code == 200
    again = client.get(back, follow_redirects=True)
    assert again.status_code == 400 and "al gebruikt" in again.text
    assert site.records("auth.login_failed")[-1]["baken.sso.reason"] == "unknown_state"
    # Nor does a callback finish in another browser than the one that started the login.
    other = provider.log_in(site.start(site.client()), "jet-1")
    assert site.client().get(other, follow_redirects=True).status_code == 400
    assert site.client().get("/login/sso/callback?code=x", follow_redirects=True).status_code == 400


def test_a_wrong_pkce_verifier_gets_no_token(site: Site, provider: Provider) -> None:
    provider.set_user("kees-1", preferred_username="kees", groups=["/baken/medewerkers"])
    client = site.client()
    back = provider.log_in(site.start(client), "kees-1")
    code = parse_qs(urlsplit(back).query)["code"][0]
    stolen = httpx.post(f"{provider.issuer}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": f"{BASE_URL}/login/sso/callback",
        "code_verifier": "z" * 43}, auth=("baken", "geheim"))
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_the_provider_refusing_the_login_is_shown(site: Site, provider: Provider) -> None:
    client = site.client()
    denied = httpx.post(site.start(client), data={"action": "deny"})
    assert denied.status_code == 302 and "error=access_denied" in denied.headers["location"]
    page = client.get(denied.headers["location"], follow_redirects=True)
    assert page.status_code == 401 and "niet toegestaan" in page.text


def test_logout_ends_the_provider_session_too(site: Site, provider: Provider) -> None:
    provider.set_user("lot-1", preferred_username="lot", groups=["/baken/medewerkers"])
    client = site.client()
    csrf = log_in_page_csrf(site.log_in(client, "lot-1").text)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith(f"{provider.issuer}/oauth2/end_session?")
    query = parse_qs(urlsplit(out.headers["location"]).query)
    assert query["client_id"] == ["baken"] and query["post_logout_redirect_uri"] == [f"{BASE_URL}/login"]
    assert client.get("/chat", follow_redirects=False).status_code == 303
    logout = site.records("auth.logout")[-1]
    assert logout["baken.session.origin"] == "oidc"


def log_in_page_csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_break_glass_local_accounts_still_log_in_and_readyz_counts_them(site: Site, provider: Provider) -> None:
    response = site.client().get("/login")
    # The button's form and an SSO logout redirect to the provider: CSP's form-action lets them, and only there.
    assert f"form-action 'self' {provider.issuer};" in response.headers["content-security-policy"]
    page = response.text
    assert "Inloggen met Gemeente Voorbeeld" in page and 'name="password"' in page
    client = site.client()
    log_in(client, "noodbeheer")
    assert client.get("/admin/users").status_code == 200
    assert site.records("auth.login")[-1]["baken.session.origin"] == "password"
    ready = site.client().get("/readyz").json()
    assert ready["details"] == {"sso": "ok", "local_accounts": 1}
    out = client.post("/logout", data={"csrf_token": log_in_page_csrf(client.get("/admin/users").text)},
                      follow_redirects=False)
    assert out.headers["location"] == "/login"  # a local session does not go by the provider


def test_without_local_login_only_the_sso_button_shows_until_lokaal(tmp_path: Path, provider: Provider) -> None:
    site = Site(tmp_path / "data", provider, local_login=False)
    try:
        page = site.client().get("/login").text
        assert "Inloggen met Gemeente Voorbeeld" in page and 'name="password"' not in page
        client = site.client()
        form = client.get("/login?lokaal=1").text  # break-glass: the password form, on request
        assert 'name="password"' in form
        done = client.post("/login", data={"name": "noodbeheer", "password": PASSWORD,
                                           "csrf_token": log_in_page_csrf(form)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/admin/users"
    finally:
        site.close()


def test_sso_is_off_by_default_and_then_reaches_nothing(login, anonymous) -> None:
    assert anonymous.get("/login/sso", follow_redirects=False).status_code == 404
    assert "Inloggen met" not in anonymous.get("/login").text
    assert "details" not in anonymous.get("/readyz").json()


def test_settings_refuse_what_would_fail_every_login() -> None:
    with pytest.raises(ValidationError, match="separation of duties"):
        SsoSettings(enabled=True, issuer="https://login.example.nl/realms/gemeente", client_id="baken",
                    client_secret="geheim", role_map={"x": ["auditor", "beheerder"]})
    with pytest.raises(ValidationError, match="https"):
        sso_settings("http://login.example.nl/realms/gemeente")
    with pytest.raises(ValidationError, match="client_secret"):
        SsoSettings(enabled=True, issuer="https://login.example.nl", client_id="baken")
    with pytest.raises(ValidationError, match="openid"):
        sso_settings("https://login.example.nl", scopes="profile")
    assert not SsoSettings().enabled
    assert sso_origins(sso_settings("https://sso.gemeente.nl/realms/g", provider_origins=[
        "https://login.gemeente.nl/pages", "https://sso.gemeente.nl"])) == ("https://sso.gemeente.nl",
                                                                            "https://login.gemeente.nl")
    assert sso_origins(SsoSettings()) == ()


def test_entra_id_claims_map_by_object_id_and_app_role() -> None:
    settings = SsoSettings(role_map={"Baken.Medewerker": ["medewerker"]},
                           group_map={"5f0c5c1e-2b6a-4f7e-9d3a-0c1b2a3d4e5f": ["hr"]})
    claims = {"roles": ["Baken.Medewerker"], "groups": ["5f0c5c1e-2b6a-4f7e-9d3a-0c1b2a3d4e5f", "other"]}
    assert map_claims(settings, claims).roles == {"medewerker"} and map_claims(settings, claims).groups == {"hr"}
    assert claim_values({"groups": "a b"}, "groups") == ["a", "b"] and claim_values({}, "groups") == []


def test_an_unreachable_provider_stops_only_sso_logins(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    services = fake_services(data)
    settings = Settings(data_dir=data, web=WebSettings(sso=sso_settings("http://127.0.0.1:9")))  # nothing listens
    build_accounts(settings).add_user("noodbeheer", "beheerder", PASSWORD)
    app = create_app(settings, services)  # starting reaches for nothing
    try:
        client = TestClient(app, base_url=BASE_URL)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["details"]["sso"] == "BackendUnavailable"
        refused = client.get("/login/sso", follow_redirects=False)
        assert refused.status_code == 503 and "niet beschikbaar" in refused.text.lower()
        log_in(client, "noodbeheer")  # break-glass works without the provider
        assert client.get("/admin/users").status_code == 200
    finally:
        app.state.baken.chat.close()
        app.state.baken.indexer.close()
        services.close()


def test_a_login_started_on_one_host_finishes_on_another(site: Site, provider: Provider) -> None:
    provider.set_user("mo-1", preferred_username="mo", groups=["/baken/medewerkers"])
    other_host = create_app(site.settings, site.services)  # a second process over the same shared database
    try:
        here, there = site.client(), TestClient(other_host, base_url=BASE_URL)
        back = provider.log_in(site.start(here), "mo-1")
        there.cookies.set("baken_sso", here.cookies.get("baken_sso") or "", domain="testserver.local")
        assert str(there.get(back, follow_redirects=True).url).endswith("/chat")
    finally:
        other_host.state.baken.chat.close()
        other_host.state.baken.indexer.close()


def test_the_sso_stores_work_on_both_dialects(dialect_settings: Settings) -> None:
    from web.accounts.sso import Pending, PendingLogins
    from web.db import open_web_database

    db = open_web_database(dialect_settings)
    pending, accounts = PendingLogins(db), build_accounts(dialect_settings, db)
    pending.add("s" * 43, "b" * 43, Pending("n" * 43, "v" * 43, "https://baken/cb", "/chat", time.time()))
    assert pending.take("s" * 43, "other browser") is None and pending.take("s" * 43, "b" * 43) is None  # once
    pending.add("t" * 43, "b" * 43, Pending("n" * 43, "v" * 43, "https://baken/cb", "/chat", time.time()))
    assert pending.take("t" * 43, "b" * 43) == Pending("n" * 43, "v" * 43, "https://baken/cb", "/chat",
                                                        pytest.approx(time.time(), abs=5))
    first = accounts.sso_user("https://idp|42", "nina", {"medewerker"}, {"hr"}, disabled=False)
    again = accounts.sso_user("https://idp|42", "nina", {"auditor"}, set(), disabled=False)
    assert again.id == first.id and accounts.user(first.id).roles == {"auditor"}  # type: ignore[union-attr]
    gone = accounts.sso_user("https://idp|42", "nina", set(), set(), disabled=True)
    assert not gone.active and accounts.local_accounts() == 0


def test_an_sso_session_ends_after_reauthenticate_minutes_however_active(site: Site, provider: Provider) -> None:
    provider.set_user("olaf-1", preferred_username="olaf", groups=["/baken/medewerkers"])
    client = site.client()
    site.log_in(client, "olaf-1")
    assert client.get("/chat", follow_redirects=False).status_code == 200
    with site.app.state.baken.database.connect() as conn:  # logged in 61 minutes ago, active ever since
        conn.execute("UPDATE sessions SET created = created - 61 * 60 WHERE origin = 'oidc'")
    back = client.get("/chat", follow_redirects=False)
    assert back.status_code == 303 and "expired=1" in back.headers["location"]
    local = site.client()
    log_in(local, "noodbeheer")
    with site.app.state.baken.database.connect() as conn:
        conn.execute("UPDATE sessions SET created = created - 61 * 60 WHERE origin = 'password'")
    assert local.get("/admin/users", follow_redirects=False).status_code == 200  # local sessions only slide


def test_a_provider_that_is_away_is_not_waited_for_again_and_again() -> None:
    from web.accounts.oidc import OidcClient

    client = OidcClient(sso_settings("http://127.0.0.1:9"))
    with pytest.raises(BakenError) as first:
        client.check()
    for _ in range(20):  # a load balancer polling /readyz, users pressing the button: the same failure at once
        with pytest.raises(BakenError) as again:
            client.check()
        assert again.value is first.value  # no new attempt (which would raise a new error) for RETRY_SECONDS
