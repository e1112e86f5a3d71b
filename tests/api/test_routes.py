"""The /v1 routes in process over fake models (fast): the wire format and the refusals a real server is slow to
provoke (the key database down, an error after the stream started)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from baken.settings import Settings
from core.errors import BackendUnavailable
from tests.web.conftest import fake_services
from web.apikeys import ApiKeys
from web.app import create_app
from web.db import open_web_database

QUESTION = [{"role": "user", "content": "Wat kost een parkeervergunning?"}]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    services = fake_services(settings.data_dir)
    _, token = ApiKeys(open_web_database(settings)).add("tests", "Team Test", "tests")
    with TestClient(create_app(settings, services)) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    services.close()


def test_a_whole_answer_is_a_chat_completion_with_the_baken_field(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    response = client.post("/v1/chat/completions", headers=auth, json={"model": "baken", "messages": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    message = body["choices"][0]["message"]
    assert message["content"].endswith("[1].") and message["baken"]["sources"][0]["cited"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_a_stream_is_server_sent_chunks_ending_in_done(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    response = client.post("/v1/chat/completions", headers=auth, json={
        "model": "baken-guarded", "messages": QUESTION, "stream": True, "stream_options": {"include_usage": True}})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) \
        == "Een parkeervergunning kost veertig euro [1]."


def test_a_session_is_no_key_and_the_refusal_is_in_openai_format(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer bk-wrong"}):
        response = client.get("/v1/models", headers=headers)
        assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"


def test_the_key_database_down_is_503_not_an_html_page(api: tuple[TestClient, dict[str, str]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client, auth = api

    def down(*_: object) -> None:
        raise BackendUnavailable("the database is unreachable")

    monkeypatch.setattr(ApiKeys, "authenticate", down)
    response = client.get("/v1/models", headers=auth)
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    assert response.headers["retry-after"]
