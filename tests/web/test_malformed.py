"""Malformed requests get a 4xx, never a 500: every route with junk query parameters, junk headers, junk
bodies and junk path parameters, for every role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.test_routes import TABLE, WHO, World

HUGE = str(10 ** 40)
QUERIES: list[dict[str, str] | str] = [
    {"offset": HUGE}, {"offset": "-" + HUGE}, {"offset": "1e999"}, {"offset": "abc"}, {"offset": "9" * 5000},
    {"format": "\u0000"}, {"format": "x" * 5000}, "q=%FF%FE&offset=%00", "offset=1&offset=2", {"q": "%"}, {"next": "\u202e//evil"},
    {"expired": "maybe"}, {"since": "2026-13-45", "until": "gisteren"}, {"since": HUGE}, {"actor": "'; DROP"},
    {"was_busy": "\u00e9" * 100},
]
HEADERS = [
    {"X-CSRF-Token": "t\u00e9st\u00ff"}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "x" * 10000},
    {"HX-Request": "\u00e9"}, {"Accept-Language": "\u00e9\u00e9;q=abc"}, {"Content-Type": "multipart/form-data"},
    {"Content-Type": "multipart/form-data; boundary=\"\""}, {"Content-Type": "application/x-www-form-urlencoded; charset=\u00e9"},
    {"X-File-Name": "%ZZ%00"}, {"X-File-Name": "\u00e9" * 300}, {"Cookie": "baken_session=\u00e9\u00ff; baken_lang=\u00e9"},
    {"Cookie": "baken_session=" + "x" * 5000}, {"Content-Length": "abc"},
]
BODIES = [b"\xff\xfe\x00garbage", b"csrf_token=%ZZ&question=%FF%FE", b"=" * 2000, b"question=" + b"a" * 5000]
PATH_JUNK = {"{turn}": "%00", "{conversation}": "\u00e9" * 200, "{n}": HUGE, "{seq}": HUGE, "{doc}": "..%2F..%2Fetc",
             "{doomed}": "x" * 300, "{spare}": "%ff", "{user}": "'", "{code}": "\u00e9"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("malformed") / "data")
    yield built
    built.close()


def _send(world: World, who: str, method: str, path: str, *, params: dict[str, str] | str | None = None,
          headers: dict[str, str] | None = None, body: bytes | None = None) -> int:
    """The status of one request; a raw query string is sent as it is, header values as UTF-8 bytes."""
    client, csrf = world.clients[who]
    if path == "/logout":
        return 303  # logging out would end the shared session of the role; its input is the CSRF token only
    if isinstance(params, str):
        path, params = f"{path}?{params}", None
    sent = {"X-CSRF-Token": csrf} if csrf and method != "GET" else {}
    raw = {k: v.encode() for k, v in (sent | (headers or {})).items()}
    status = client.request(method, path, params=params, headers=raw, content=body,
                            follow_redirects=False).status_code
    client.cookies.pop("baken_lang", None)  # /language/en must not switch the shared clients to English
    return status


ROUTES = [(m, p) for m, p, _ in TABLE]


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_junk_query_parameters_headers_and_bodies_never_give_a_server_error(world: World, method: str,
                                                                           template: str) -> None:
    failures = []
    for who in WHO:
        path = world.path(template)
        for params in QUERIES:
            status = _send(world, who, method, path, params=params)
            failures += [(who, "query", params, status)] if status >= 500 else []
        for headers in HEADERS:
            status = _send(world, who, method, path, headers=headers)
            failures += [(who, "headers", headers, status)] if status >= 500 else []
        if method != "GET":
            for body in BODIES:
                status = _send(world, who, method, path, body=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
                failures += [(who, "body", body[:40], status)] if status >= 500 else []
        junk = template
        for name, value in PATH_JUNK.items():
            junk = junk.replace(name, value)
        if junk != template:
            status = _send(world, who, method, junk)
            failures += [(who, "path", junk, status)] if status >= 500 else []
    assert failures == []


def test_a_non_ascii_csrf_token_is_refused_in_dutch(world: World) -> None:
    client, _ = world.clients["medewerker"]
    response = client.post("/chat/ask", data={"question": "Wat kost parkeren?"},
                           headers={"X-CSRF-Token": "t\u00e9st".encode()}, follow_redirects=False)
    assert response.status_code == 403 and "beveiligingstoken" in response.text


@pytest.mark.parametrize("path", [f"/audit?offset={HUGE}", f"/audit/records/{HUGE}", "/audit?offset=abc"])
def test_a_malformed_or_huge_number_is_a_400_in_dutch(world: World, path: str) -> None:
    client, _ = world.clients["auditor"]
    response = client.get(path)
    assert response.status_code == 400 and "Dit verzoek klopt niet" in response.text
    assert "Validation failed" not in response.text


def test_a_method_a_route_does_not_take_is_a_405_in_dutch(world: World) -> None:
    client, _ = world.clients["medewerker"]
    response = client.delete("/chat")
    assert response.status_code == 405 and "kan zo niet worden opgevraagd" in response.text
