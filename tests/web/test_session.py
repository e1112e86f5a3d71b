"""Logging in and out, rate limiting, CSRF, expired sessions, the first administrator, the users command."""

from __future__ import annotations

import time
from pathlib import Path

from litestar.testing import TestClient

from baken.cli.main import main
from baken.settings import Settings
from tests.web.conftest import BASE_URL, PASSWORD, csrf_of
from web.accounts.setup import ensure_first_admin
from web.app import build_accounts
from web.auth import SESSION_COOKIE


def _login(client: TestClient, name: str, password: str, next_path: str = "/") -> object:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": next_path},
                       follow_redirects=False)


def test_login_sends_each_role_to_its_start_page(app, anonymous: TestClient) -> None:
    response = _login(anonymous, "auditor", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/audit"
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie


def test_the_session_cookie_holds_only_a_random_token_whose_hash_is_stored(app, anonymous: TestClient,
                                                                           web_settings_: Settings) -> None:
    _login(anonymous, "medewerker", PASSWORD)
    token = anonymous.cookies[SESSION_COOKIE]
    assert len(token) >= 40 and "medewerker" not in token
    raw = (web_settings_.data_dir / "web" / "web.sqlite3").read_bytes()
    assert token.encode() not in raw


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app, anonymous: TestClient) -> None:
    for name in ("medewerker", "niemand"):
        response = _login(anonymous, name, "wrong password!!")
        assert response.status_code == 401 and "Gebruikersnaam of wachtwoord klopt niet" in response.text


def test_after_five_failures_even_the_right_password_waits_and_is_told_how_long(app, anonymous: TestClient) -> None:
    for _ in range(5):
        _login(anonymous, "medewerker", "wrong password!!")
    response = _login(anonymous, "medewerker", PASSWORD)
    assert response.status_code == 429 and 0 < int(response.headers["retry-after"]) <= 30
    assert "Te veel mislukte pogingen. Probeer het over 30 seconden opnieuw." in response.text


def test_failures_from_one_address_do_not_lock_the_account_for_others(app, anonymous: TestClient) -> None:
    for _ in range(6):
        _login(anonymous, "medewerker", "wrong password!!")
    assert _login(anonymous, "medewerker", PASSWORD).status_code == 429
    assert app.state.baken.accounts.log_in("medewerker", PASSWORD, "10.0.0.2").user is not None


def test_login_without_its_csrf_token_is_refused(app, anonymous: TestClient) -> None:
    anonymous.get("/login")
    response = anonymous.post("/login", data={"name": "medewerker", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_state_changing_requests_need_the_sessions_csrf_token(login) -> None:
    client, csrf = login("medewerker")
    question = {"question": "Wat kost parkeren?"}
    assert client.post("/chat/ask", data=question, follow_redirects=False).status_code == 403
    assert client.post("/chat/ask", data=question | {"csrf_token": "x" * 43}, follow_redirects=False).status_code == 403
    assert client.post("/chat/ask", data=question, headers={"X-CSRF-Token": csrf},
                       follow_redirects=False).status_code == 303
    assert client.post("/chat/ask", data=question | {"csrf_token": csrf}, follow_redirects=False).status_code == 303


def test_logout_ends_the_session_on_the_server(login) -> None:
    client, csrf = login("medewerker")
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    replay = TestClient(client.app, base_url=BASE_URL, cookies={SESSION_COOKIE: token})
    assert replay.get("/chat", follow_redirects=False).headers["location"].startswith("/login")


def test_an_expired_session_leads_to_the_login_page_and_back(app, login, web_settings_: Settings) -> None:
    client, _ = login("medewerker")
    with build_accounts(web_settings_)._db.connect() as conn:
        conn.execute("UPDATE sessions SET expires = ?", (time.time() - 1,))
    response = client.get("/chat?x=1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/chat%3Fx%3D1&expired=1"
    assert "Uw sessie is verlopen" in client.get(response.headers["location"]).text
    htmx = client.get("/documents/jobs", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    assert _login(client, "medewerker", PASSWORD, "/chat?x=1").headers["location"] == "/chat?x=1"


def test_login_never_redirects_to_another_site(app, anonymous: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert _login(anonymous, "medewerker", PASSWORD, target).headers["location"] == "/chat"


def test_a_disabled_account_loses_its_sessions(app, login, web_settings_: Settings) -> None:
    client, _ = login("medewerker")
    accounts = build_accounts(web_settings_)
    target = next(u for u in accounts.users() if u.name == "medewerker")
    admin, csrf = login("beheerder")
    admin.post(f"/admin/users/{target.id}/active", data={"csrf_token": csrf, "active": "0"})
    assert client.get("/chat", follow_redirects=False).status_code == 303
    assert _login(TestClient(app, base_url=BASE_URL), "medewerker", PASSWORD).status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(app, web_settings_: Settings) -> None:
    with build_accounts(web_settings_)._db.connect() as conn:
        hashes = [r["password_hash"] for r in conn.execute("SELECT password_hash FROM users").fetchall()]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_first_admin_takes_the_password_from_the_environment_once(tmp_path: Path) -> None:
    settings, said = Settings(data_dir=tmp_path), []
    assert ensure_first_admin(settings, {"BAKEN_ADMIN_PASSWORD": "een lang geheim wachtwoord"}, said.append)
    assert not ensure_first_admin(settings, {}, said.append)
    assert len(said) == 1 and "een lang geheim" not in said[0]
    admin = build_accounts(settings).authenticate("admin", "een lang geheim wachtwoord")
    # Also a medewerker and informatiebeheerder, so the first start can ask and add documents; never an auditor.
    assert admin is not None and admin.roles == {"beheerder", "medewerker", "informatiebeheerder"}


def test_two_processes_starting_together_create_one_first_admin(tmp_path: Path) -> None:
    import threading

    settings, said, barrier = Settings(data_dir=tmp_path), [], threading.Barrier(4)
    build_accounts(settings)  # the tables exist before the race, as after the first start's schema step

    def start() -> None:
        barrier.wait()
        created.append(ensure_first_admin(settings, {"BAKEN_ADMIN_PASSWORD": "een lang geheim wachtwoord"},
                                          said.append))

    created: list[bool] = []
    starters = [threading.Thread(target=start) for _ in range(4)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    assert sorted(created) == [False, False, False, True] and len(said) == 1
    assert [u.name for u in build_accounts(settings).users()] == ["admin"]


def test_first_admin_without_a_password_gets_one_printed_once(tmp_path: Path) -> None:
    settings, said = Settings(data_dir=tmp_path), []
    ensure_first_admin(settings, {}, said.append)
    password = said[0].rsplit(" ", 1)[1]
    assert build_accounts(settings).authenticate("admin", password) is not None


def test_users_command_adds_and_lists_accounts(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NIEUW_WACHTWOORD", "nog een lang wachtwoord")
    assert main(["users", "add", "jan", "--role", "auditor", "--password-env", "NIEUW_WACHTWOORD"]) == 0
    assert main(["users", "add", "jan", "--role", "auditor", "--password-env", "NIEUW_WACHTWOORD"]) == 2
    assert main(["users", "add", "piet", "--role", "auditor", "--password-env", "ONBEKEND"]) == 2
    assert main(["users", "list"]) == 0
    assert "jan\tauditor\t-\tlocal\tactief" in capsys.readouterr().out  # name, roles, groups, origin, status


def test_serve_creates_the_admin_indexes_the_demo_corpus_and_starts_uvicorn(tmp_path: Path, monkeypatch,
                                                                              capsys) -> None:
    import uvicorn

    import baken.wiring
    from tests.web.conftest import fake_services

    data = tmp_path / "data"
    data.mkdir()
    services = fake_services(data)
    for document in services.index.documents():  # an empty index gets the demo corpus
        services.index.delete(document.doc_id)
    started = {}
    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    monkeypatch.setattr(baken.wiring, "build_services", lambda settings: services)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw, app=app))
    assert main(["serve", "--port", "8123"]) == 0
    assert started["host"] == "127.0.0.1" and started["port"] == 8123
    out = capsys.readouterr().out
    assert "administrator account 'admin' created" in out and "http://127.0.0.1:8123/" in out
    assert len(services.index.documents()) == 5


def test_the_wait_is_told_in_seconds_then_in_minutes() -> None:
    from web.accounts.routes import wait_text
    from web.i18n import translator

    t = translator("nl")
    assert [wait_text(t, s) for s in (0.2, 30, 119, 120, 900)] == [
        "1 seconde", "30 seconden", "119 seconden", "2 minuten", "15 minuten"]
