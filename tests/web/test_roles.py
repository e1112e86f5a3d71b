"""Several roles and groups per user: the account store and its migration, separation of duties, the first
administrator's first journey, the Gebruikers page, the CLI, and the role the audit log records."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from baken.cli.main import main
from baken.settings import Settings
from core.errors import UserError
from tests.web.conftest import BASE_URL, PASSWORD, csrf_of, fake_services
from tests.web.test_stores import OLD_SCHEMA
from web.accounts.setup import ensure_first_admin
from web.accounts.store import PasswordHasher, RoleConflict, check_groups, check_roles
from web.app import build_accounts, create_app
from web.db import open_web_database


def test_a_user_holds_several_roles_and_groups(dialect_settings: Settings) -> None:
    accounts = build_accounts(dialect_settings)
    mia = accounts.add_user("mia", ["medewerker", "informatiebeheerder"], PASSWORD, "hr, jeugdzorg")
    assert mia.roles == {"medewerker", "informatiebeheerder"} and mia.groups == {"hr", "jeugdzorg"}
    assert mia.has("medewerker") and not mia.has("auditor") and mia.role == "medewerker+informatiebeheerder"
    assert accounts.user(mia.id) == mia and accounts.authenticate("mia", PASSWORD) == mia
    session = accounts.session(accounts.start_session(mia))
    assert session is not None and session.user == mia and session.origin == "password"
    changed = accounts.set_roles(mia.id, ["auditor"], "")
    assert changed.roles == {"auditor"} and changed.groups == frozenset()
    assert accounts.session(accounts.start_session(mia)).user.roles == {"auditor"}  # type: ignore[union-attr]
    assert accounts.set_roles(mia.id, groups="hr").roles == {"auditor"}  # None leaves the roles


@pytest.mark.parametrize(("roles", "message"), [
    (["auditor", "beheerder"], "functiescheiding"),
    ([], "minstens één rol"),
    (["baas"], "onbekende rol"),
])
def test_roles_that_do_not_fit_are_refused(roles: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_roles(roles)
    with pytest.raises(UserError, match="invalid group name"):
        check_groups("hr, geen spaties")


def test_separation_of_duties_also_holds_when_roles_change(tmp_path: Path) -> None:
    accounts = build_accounts(Settings(data_dir=tmp_path))
    with pytest.raises(RoleConflict, match="separation of duties"):
        accounts.add_user("ad", ["auditor", "beheerder"], PASSWORD)
    ad = accounts.add_user("ad", "auditor", PASSWORD)
    with pytest.raises(RoleConflict):
        accounts.set_roles(ad.id, ["auditor", "beheerder"])
    assert accounts.user(ad.id).roles == {"auditor"}  # type: ignore[union-attr]


def test_the_migration_carries_each_role_over(tmp_path: Path) -> None:
    path = tmp_path / "web" / "web.sqlite3"
    path.parent.mkdir()
    hashed = PasswordHasher().hash(PASSWORD)
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
        old.executemany("INSERT INTO users (id, name, role, password_hash, created) VALUES (?, ?, ?, ?, 1.0)",
                        [("u1", "Oud", "beheerder", hashed), ("u2", "Piet", "auditor", hashed)])
    old.close()
    settings = Settings(data_dir=tmp_path)
    db = open_web_database(settings)
    open_web_database(settings)  # a second start applies nothing again
    accounts = build_accounts(settings, db)
    assert [(u.name, u.roles, u.groups, u.origin) for u in accounts.users()] == [
        ("Oud", {"beheerder"}, frozenset(), "local"), ("Piet", {"auditor"}, frozenset(), "local")]
    with db.connect() as conn:
        applied = [r["name"] for r in conn.execute("SELECT name FROM _migrations WHERE area = 'web' ORDER BY name")]
        assert applied == ["001_tables", "002_roles_and_groups"]
        # The one-role column stays filled for a process of the previous version.
        accounts.set_roles("u1", ["medewerker", "beheerder"])
        assert conn.execute("SELECT role FROM users WHERE id = 'u1'").fetchone()["role"] == "medewerker"


def test_the_first_administrator_can_log_in_and_try_a_question(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    settings, said = Settings(data_dir=data), []
    assert ensure_first_admin(settings, {"BAKEN_ADMIN_PASSWORD": PASSWORD}, said.append)
    services = fake_services(data)
    app = create_app(settings, services)
    try:
        client = TestClient(app, base_url=BASE_URL)
        page = client.get("/login")
        landed = client.post("/login", data={"name": "admin", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        assert str(landed.url).endswith("/chat") and "Stel een vraag" in landed.text  # the first journey
        assert "admin (medewerker, informatiebeheerder, beheerder)" in landed.text
        for path, status in (("/documents", 200), ("/admin/users", 200), ("/audit", 403)):
            assert client.get(path, follow_redirects=False).status_code == status
        csrf = csrf_of(landed.text)
        asked = client.post("/chat/ask", data={"question": "Wat kost een parkeervergunning?", "csrf_token": csrf},
                            headers={"HX-Request": "true"})
        turn = re.search(r'id="turn-([0-9a-f-]+)"', asked.text).group(1)  # type: ignore[union-attr]
        client.get(f"/chat/turns/{turn}/stream")
        assert services.audit is not None
        roles = {json.loads(r.record_json)["role"] for r in services.audit.search(action="conversation.turn")}
        assert roles == {"medewerker"}  # the role the question was asked in
        login = json.loads(services.audit.search(action="auth.login")[0].record_json)
        assert login["role"] == "medewerker+informatiebeheerder+beheerder"
    finally:
        app.state.baken.chat.close()
        app.state.baken.indexer.close()
        services.close()


def test_the_users_page_adds_and_edits_roles_and_groups(login, app) -> None:
    client, csrf = login("beheerder")
    added = client.post("/admin/users/add", data={"csrf_token": csrf, "name": "noor", "role_medewerker": "1",
                                                  "role_informatiebeheerder": "1", "groups": "hr, jeugdzorg",
                                                  "password": PASSWORD})
    assert added.status_code == 200 and "Gebruiker noor is toegevoegd" in added.text
    accounts = app.state.baken.accounts
    noor = accounts.user_named("noor")
    assert noor.roles == {"medewerker", "informatiebeheerder"} and noor.groups == {"hr", "jeugdzorg"}
    assert "hr, jeugdzorg" in client.get("/admin/users").text
    form = client.get(f"/admin/users/{noor.id}").text
    assert '<legend>Rollen</legend>' in form and 'name="role_medewerker" value="1" checked' in form
    saved = client.post(f"/admin/users/{noor.id}/roles", data={"csrf_token": csrf, "role_auditor": "1",
                                                               "groups": "hr"})
    assert saved.status_code == 200 and "zijn opgeslagen" in saved.text
    assert accounts.user(noor.id).roles == {"auditor"} and accounts.user(noor.id).groups == {"hr"}
    change = json.loads(app.state.baken.audit.search(action="user.change")[0].record_json)
    assert change["baken.user.roles"] == ["auditor"] and change["role"] == "beheerder"
    # Refused in Dutch: auditor with beheerder, no role at all; and a change needs the CSRF token.
    refused = client.post(f"/admin/users/{noor.id}/roles", data={"csrf_token": csrf, "role_auditor": "1",
                                                                 "role_beheerder": "1"})
    assert refused.status_code == 400 and "functiescheiding" in refused.text
    assert "Kies minstens één rol" in client.post(f"/admin/users/{noor.id}/roles", data={"csrf_token": csrf}).text
    assert client.post(f"/admin/users/{noor.id}/roles", data={"role_medewerker": "1"}).status_code == 403
    assert accounts.user(noor.id).roles == {"auditor"}
    admin = accounts.user_named("beheerder")
    own = client.post(f"/admin/users/{admin.id}/roles", data={"csrf_token": csrf, "role_medewerker": "1"})
    assert own.status_code == 400 and accounts.user(admin.id).roles == {"beheerder"}


def test_a_new_role_shows_at_once_in_the_navigation(login, app) -> None:
    client, _ = login("medewerker")
    assert 'href="/documents"' not in client.get("/chat").text
    accounts = app.state.baken.accounts
    accounts.set_roles(accounts.user_named("medewerker").id, ["medewerker", "informatiebeheerder"])
    page = client.get("/chat").text
    assert 'href="/documents"' in page and "(medewerker, informatiebeheerder)" in page


def test_the_cli_adds_and_changes_roles_and_groups(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WW", PASSWORD)
    assert main(["users", "add", "sam", "--role", "medewerker", "--role", "informatiebeheerder",
                 "--groups", "hr,jeugdzorg", "--password-env", "WW"]) == 0
    assert main(["users", "add", "tom", "--roles", "auditor,beheerder", "--password-env", "WW"]) == 2
    assert "functiescheiding" in capsys.readouterr().err
    assert main(["users", "set", "sam", "--roles", "auditor", "--groups", ""]) == 0
    assert main(["users", "set", "sam", "--role", "auditor", "--role", "beheerder"]) == 2
    assert main(["users", "set", "niemand", "--role", "auditor"]) == 2
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "sam\tauditor\t-\tlocal\tactief" in out
    accounts = build_accounts(Settings(data_dir=tmp_path))
    assert accounts.user_named("tom") is None and accounts.user_named("sam").roles == {"auditor"}
    from baken.wiring import build_audit

    log = build_audit(Settings(data_dir=tmp_path))
    try:  # each change is in the audit log, as from the Gebruikers page
        changes = [json.loads(r.record_json) for r in log.search(action="user.change")]
    finally:
        log.close()
    assert sorted((c["baken.user.change"], tuple(c["baken.user.roles"])) for c in changes) == [
        ("add", ("medewerker", "informatiebeheerder")), ("roles", ("auditor",))]
