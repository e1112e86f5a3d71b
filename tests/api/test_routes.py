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
from web.api.gateway import without_evidence
from web.api.keys import ApiKeys
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


HR = "Het verzuimprotocol van team Personeelszaken telt zeven stappen."


@pytest.fixture
def scoped(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """An `hr` document beside the open one, a key without `hr` and a key with it."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    services = fake_services(settings.data_dir, answer="Het verzuimprotocol telt zeven stappen [1].")
    services.index.collections.add("hr")
    hr = settings.data_dir / "verzuim.md"
    hr.write_text(f"# Verzuim\n\n{HR}\n", encoding="utf-8")
    services.index.ingest_file(hr, collection="hr")
    keys = ApiKeys(open_web_database(settings))
    _, plain = keys.add("zonder-hr", "Team Test", "tests")
    _, with_hr = keys.add("met-hr", "Team Test", "tests", ("hr",))
    with TestClient(create_app(settings, services)) as client:
        yield client, {"Authorization": f"Bearer {plain}"}, {"Authorization": f"Bearer {with_hr}"}
    services.close()


def test_a_key_reads_only_its_collections_and_gets_403_for_another(
        scoped: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, plain, with_hr = scoped
    question = [{"role": "user", "content": "Hoeveel stappen telt het verzuimprotocol?"}]
    for stream in (False, True):
        response = client.post("/v1/chat/completions", headers=plain,
                               json={"model": "baken", "messages": question, "stream": stream})
        assert response.status_code == 200 and "zeven stappen telt" not in response.text
        assert "verzuim" not in response.text.lower()
    refused = client.post("/v1/chat/completions", headers=plain, json={
        "model": "baken", "messages": question, "baken": {"collections": ["hr"]}})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "collection_not_allowed"
    assert refused.json()["error"]["param"] == "baken.collections"
    allowed = client.post("/v1/chat/completions", headers=with_hr, json={
        "model": "baken", "messages": question, "baken": {"collections": ["hr"]}}).json()
    extension = allowed["choices"][0]["message"]["baken"]
    assert {s["collection"] for s in extension["sources"]} == {"hr"} and HR in extension["sources"][0]["text"]
    malformed = client.post("/v1/chat/completions", headers=with_hr, json={
        "model": "baken", "messages": question, "baken": {"collections": "hr"}})
    assert malformed.status_code == 400 and malformed.json()["error"]["param"] == "baken.collections"


def test_the_evidence_leads_the_content_and_is_left_out_of_the_memory_when_sent_back(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    content = client.post("/v1/chat/completions", headers=auth, json={"model": "baken", "messages": QUESTION}) \
        .json()["choices"][0]["message"]["content"]
    assert content.startswith("**Uit de documenten**\n- “Een parkeervergunning kost veertig euro per jaar.” [1]")
    assert without_evidence(content) == "Een parkeervergunning kost veertig euro [1]."
    response = client.post("/v1/chat/completions", headers=auth, json={"model": "baken", "stream": True,
                                                                       "messages": QUESTION})
    chunks = [json.loads(line.removeprefix("data: ")) for line in response.text.split("\n\n")
              if line and line != "data: [DONE]"]
    assert chunks[0]["choices"][0]["delta"]["content"].startswith("**Uit de documenten**")
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == content
