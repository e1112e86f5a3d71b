"""Every route for every role (and anonymous) against the expected status: one table, checked to be complete."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from baken.settings import Settings
from tests.web.conftest import BASE_URL, PASSWORD, ROLES, fake_services, log_in
from web.app import build_accounts, create_app

WHO = ("anonymous", *ROLES)
M, I, A, B = ROLES  # medewerker, informatiebeheerder, auditor, beheerder


def expect(anonymous: int, **by_role: int) -> dict[str, int]:
    """Expected status per caller; roles not named get 403."""
    return {"anonymous": anonymous} | {role: by_role.get(role, 403) for role in ROLES}


def same(status: int) -> dict[str, int]:
    return dict.fromkeys(WHO, status)


# (method, path template, expected). {turn}, {conversation} belong to the medewerker; others see 404 for them.
TABLE = [
    ("GET", "/healthz", same(200)),
    ("GET", "/readyz", same(200)),
    ("GET", "/metrics", same(404)),  # the fake services have no metrics; see test_pages
    ("GET", "/", same(303)),
    ("GET", "/login", expect(200, **dict.fromkeys(ROLES, 303))),
    ("GET", "/language/{code}", same(303)),
    ("GET", "/static/baken.css", same(200)),
    ("GET", "/chat", expect(303, medewerker=200, informatiebeheerder=200)),
    ("GET", "/chat/{conversation}", expect(303, medewerker=200, informatiebeheerder=404)),
    ("POST", "/chat/ask", expect(303, medewerker=303, informatiebeheerder=303)),
    ("POST", "/chat/{spare}/delete", expect(303, medewerker=303, informatiebeheerder=404)),
    ("GET", "/chat/turns/{turn}/stream", expect(303, medewerker=200, informatiebeheerder=404)),
    ("GET", "/chat/turns/{turn}/sources/{n}", expect(303, medewerker=200, informatiebeheerder=404, auditor=404)),
    ("POST", "/chat/turns/{turn}/feedback", expect(303, medewerker=303, informatiebeheerder=404)),
    ("GET", "/documents/{doc}/original", expect(303, medewerker=200, informatiebeheerder=200, auditor=200)),
    ("GET", "/documents", expect(303, informatiebeheerder=200)),
    ("GET", "/documents/list", expect(303, informatiebeheerder=200)),
    ("GET", "/documents/jobs", expect(303, informatiebeheerder=200)),
    ("PUT", "/documents/upload", expect(303, informatiebeheerder=202)),
    ("POST", "/documents/upload-form", expect(303, informatiebeheerder=303)),
    ("POST", "/documents/{doc}/reindex", expect(303, informatiebeheerder=303)),
    ("POST", "/documents/{doomed}/delete", expect(303, informatiebeheerder=303)),
    ("POST", "/documents/{doc}/move", expect(303, informatiebeheerder=303)),
    ("GET", "/documents/sync", expect(303, informatiebeheerder=200)),
    ("POST", "/documents/sync/now", expect(303, informatiebeheerder=409)),  # no folder configured here
    ("GET", "/overview", expect(303, informatiebeheerder=200)),
    ("GET", "/audit/overview", expect(303, auditor=200)),
    ("GET", "/audit", expect(303, auditor=200)),
    ("POST", "/audit/verify", expect(303, auditor=200)),
    ("GET", "/audit/records/{seq}", expect(303, auditor=200)),
    ("GET", "/audit/export", expect(303, auditor=200)),
    ("GET", "/admin/users", expect(303, beheerder=200)),
    ("POST", "/admin/users/add", expect(303, beheerder=200)),
    ("POST", "/admin/users/{user}/active", expect(303, beheerder=303)),
    ("GET", "/admin/users/{user}", expect(303, beheerder=200)),
    ("POST", "/admin/users/{user}/roles", expect(303, beheerder=200)),
    ("GET", "/admin/collections", expect(303, beheerder=200)),
    ("POST", "/admin/collections/add", expect(303, beheerder=200)),
    ("POST", "/admin/collections/grant", expect(303, beheerder=400)),  # algemeen is open to all already
    ("POST", "/admin/collections/revoke", expect(303, beheerder=200)),
    # Single sign-on is off here (the default): its routes do not exist. tests/web/test_sso.py has them on.
    ("GET", "/login/sso", same(404)),
    ("GET", "/login/sso/callback", same(404)),
    ("POST", "/logout", same(303)),
    # The OpenAI-compatible API takes API keys only: a session is no key (tests/api has the keyed calls).
    ("GET", "/v1/models", same(401)),
    ("POST", "/v1/chat/completions", same(401)),
]
# Checked in test_session.py with its own CSRF cookie.
ELSEWHERE = {("POST", "/login")}


class World:
    """One app, a logged-in client per role, and the ids the table's paths need."""

    def __init__(self, data: Path) -> None:
        settings = Settings(data_dir=data)
        data.mkdir(parents=True)
        self.services = fake_services(data)
        accounts = build_accounts(settings)
        self.users = {role: accounts.add_user(role, role, PASSWORD) for role in ROLES}
        self.target_user = accounts.add_user("doelwit", "medewerker", PASSWORD)
        self.app = create_app(settings, self.services)
        self.clients: dict[str, tuple[TestClient, str]] = {}
        self.clients["anonymous"] = (TestClient(self.app, base_url=BASE_URL), "")
        for role in ROLES:
            client = TestClient(self.app, base_url=BASE_URL)
            self.clients[role] = (client, log_in(client, role))
        client, csrf = self.clients[M]
        response = client.post("/chat/ask", data={"question": "Wat kost een parkeervergunning?", "csrf_token": csrf},
                               headers={"HX-Request": "true"})
        self.turn = re.search(r'id="turn-([0-9a-f-]+)"', response.text).group(1)
        self.conversation = re.search(r'name="conversation_id" value="([0-9a-f-]+)"', response.text).group(1)
        client.get(f"/chat/turns/{self.turn}/stream")  # waits for the answer
        self.spare = self.app.state.baken.history.start(self.users[M].id, "te verwijderen")
        self.doc = self.services.index.documents()[0].doc_id
        self.doomed = self.services.index.ingest_bytes(b"# Weg\n\nDit document wordt verwijderd.\n", "weg.md",
                                                       "upload:weg.md").doc_id

    def path(self, template: str) -> str:
        return template.format(conversation=self.conversation, turn=self.turn, n=1, doc=self.doc, doomed=self.doomed, spare=self.spare, seq=1,
                               user=self.target_user.id, code="en")

    def wait_for_indexing(self, seconds: float = 60) -> None:
        """Until no indexing job of this app is queued or running."""
        deadline = time.monotonic() + seconds
        while self.app.state.baken.indexer.busy():
            assert time.monotonic() < deadline, "indexing jobs still running"
            time.sleep(0.05)

    def close(self) -> None:
        self.app.state.baken.chat.close()
        self.app.state.baken.indexer.close()
        self.services.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("routes") / "data")
    yield built
    built.close()


def _call(world: World, who: str, method: str, template: str) -> int:
    client, csrf = world.clients[who]
    if template == "/logout" and who != "anonymous":  # logging out must not end the shared session
        client = TestClient(world.app, base_url=BASE_URL)
        csrf = log_in(client, who)
    path = world.path(template)
    if template == "/documents/{doc}/move":  # not while the re-index row's job has the document out (it deletes,
        # then adds again: a window in which the document is not found)
        world.wait_for_indexing()
    if method == "GET":
        return client.get(path, follow_redirects=False).status_code
    if method == "PUT":
        return client.put(path, content=b"# Nieuw\n\nTekst.\n", follow_redirects=False,
                          headers={"X-CSRF-Token": csrf, "X-File-Name": "nieuw.md"}).status_code
    if template == "/documents/upload-form":  # multipart, the token first (as the page's form sends it)
        return client.post(path, data={"csrf_token": csrf}, files=[("files", ("nieuw.md", b"# Nieuw\n\nTekst.\n"))],
                           follow_redirects=False).status_code
    form = {"csrf_token": csrf, "question": "Wat kost parkeren?", "rating": "useful", "active": "1",
            "name": f"nieuw-{who}", "role_medewerker": "1", "password": PASSWORD, "confirmed": "yes",
            "collection": "algemeen", "group": "team-x"}
    return client.post(path, data=form, follow_redirects=False).status_code


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "template", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_route_answers_each_role_with_the_expected_status(world: World, method: str, template: str,
                                                           expected: dict[str, int], who: str) -> None:
    assert _call(world, who, method, template) == expected[who]


def test_the_table_covers_every_route(world: World) -> None:
    served = set()
    for route in world.app.routes:
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            served.add((method, path))
    served = {(m, p) for m, p in served if not p.startswith("/static")}
    listed = {(m, re.sub(r"\{\w+\}", "{}", p)) for m, p, _ in TABLE} | ELSEWHERE
    assert {(m, re.sub(r"\{\w+\}", "{}", p)) for m, p in served} <= listed
