"""The OpenAI-compatible API with the official `openai` client against a real `baken serve` (real embedder,
guardrails, index and audit log; a capturing fake model server, so the prompt the model got can be read)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.api.conftest import Served

pytestmark = pytest.mark.slow
BSN, NAME = "111222333", "Jan Jansen"


def _turns(served: Served, channel: str) -> list[dict]:
    return [r for r in served.audit_records() if r["action"] == "conversation.turn" and r.get("baken.channel") == channel]


def test_models_lists_baken_and_baken_guarded(served: Served) -> None:
    client = served.client(served.add_key("models"))
    assert {m.id for m in client.models.list()} == {"baken", "baken-guarded"}


def test_baken_answers_from_the_documents_with_citations_and_evidence(served: Served) -> None:
    client = served.client(served.add_key("baken-plain"))
    answer = client.chat.completions.create(model="baken", messages=[
        {"role": "user", "content": "Hoeveel dagen per week mag ik thuiswerken?"}])
    message = answer.choices[0].message
    extension = message.model_extra["baken"]
    assert answer.model == "baken" and answer.choices[0].finish_reason == "stop"
    assert extension["outcome"] == "answered" and extension["sources"] and extension["evidence"]
    assert "[1]" in message.content
    assert any(s["cited"] and s["title"] for s in extension["sources"])
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0


def test_baken_streams_evidence_first_then_the_checked_answer_and_usage(served: Served) -> None:
    client = served.client(served.add_key("baken-stream"))
    chunks = list(client.chat.completions.create(
        model="baken", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Hoeveel dagen per week mag ik thuiswerken?"}]))
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert with_choices[0].choices[0].delta.model_extra["baken"]["evidence"]
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert "[1]" in text
    last = with_choices[-1].choices[0]
    assert last.finish_reason == "stop" and last.delta.model_extra["baken"]["sources"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_a_multi_turn_conversation_keeps_its_bsn_and_name_from_the_model_and_the_log(served: Served) -> None:
    token = served.add_key("privacy")
    client = served.client(token)
    conversation = [
        {"role": "system", "content": "Je bent een behulpzame assistent."},
        {"role": "user", "content": f"Mijn naam is {NAME} en mijn BSN is {BSN}."},
        {"role": "assistant", "content": f"Dank u, {NAME}. Ik heb uw BSN {BSN} genoteerd."},
        {"role": "user", "content": f"Herhaal: {NAME} heeft BSN {BSN}"}]
    before = len(served.model.prompts)
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="baken-guarded", messages=conversation, stream=True, user="medewerker-42@voorbeeld.nl")
        if c.choices)
    plain = client.chat.completions.create(model="baken-guarded", messages=conversation, user="medewerker-42@voorbeeld.nl")
    assert streamed == plain.choices[0].message.content == f"{NAME} heeft BSN {BSN}"  # restored for the caller
    asked = client.chat.completions.create(model="baken", messages=[
        *conversation[:3], {"role": "user", "content": f"Mag {NAME} twee dagen per week thuiswerken?"}])
    assert asked.choices[0].message.model_extra["baken"]["outcome"] in ("answered", "no_source")
    prompts = served.model.prompts[before:]
    assert len(prompts) >= 2
    for prompt in prompts:
        text = repr(prompt)
        assert BSN not in text and "Jansen" not in text
    # One vault per request: the name is one placeholder in every message of the conversation.
    guarded = prompts[0]
    placeholder = guarded[1]["content"].split("naam is ")[1].split(" ")[0]
    assert placeholder.startswith("[") and all(placeholder in m["content"] for m in guarded[1:])
    records = served.audit_records()
    assert BSN not in repr(records) and "Jansen" not in repr(records)
    for path in served.data.rglob("*"):  # nothing Baken wrote holds the raw values
        if path.is_file():
            data = path.read_bytes()
            assert BSN.encode() not in data and b"Jansen" not in data, path
    key = served.key_row("privacy")
    mine = [r for r in records if r["actor"] == key["audit_actor"] and r["action"] == "conversation.turn"]
    assert [r["baken.channel"] for r in mine] == ["api:baken-guarded", "api:baken-guarded", "api:baken"]
    assert len({r["baken.client_user"] for r in mine[:2]}) == 1 and "medewerker-42" not in repr(mine)
    assert all(r["role"] == "api" and r["gen_ai.request.model"] == "fake-model" for r in mine)


def test_a_revoked_key_is_refused_at_once(served: Served) -> None:
    token = served.add_key("revoked")
    client = served.client(token)
    assert client.models.list().data
    done = served.server.baken("apikeys", "revoke", "revoked")
    assert done.returncode == 0, done.stderr
    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    key = served.key_row("revoked")
    events = [r for r in served.audit_records() if r.get("baken.apikey.id") == key["id"]]
    assert [r["action"] for r in events] == ["apikey.add", "apikey.revoke"]
    assert events[0]["baken.apikey.actor"] == key["audit_actor"] and "Team Test" not in repr(events)
    with pytest.raises(openai.AuthenticationError):
        served.client("bk-not-a-key").chat.completions.create(model="baken", messages=[{"role": "user", "content": "x"}])


def test_a_key_over_its_rate_gets_429_with_retry_after(served: Served) -> None:
    client = served.client(served.add_key("slow", "--rate", "3/min"))
    for _ in range(3):
        client.models.list()
    with pytest.raises(openai.RateLimitError) as refused:
        client.models.list()
    assert refused.value.code == "rate_limit_exceeded"
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60


def test_a_full_waiting_room_gets_429_queue_full(served: Served) -> None:
    client = served.client(served.add_key("busy"))
    long = " ".join(["woord"] * 150)  # 1.5 s of streaming at 10 ms a word
    streams = [client.chat.completions.create(model="baken-guarded", stream=True,
                                              messages=[{"role": "user", "content": f"Herhaal: {long}"}])
               for _ in range(2)]
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="baken-guarded", messages=[{"role": "user", "content": "Hallo"}])
    assert refused.value.code == "queue_full" and refused.value.response.headers["retry-after"]
    for stream in streams:
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith("woord")


@pytest.mark.parametrize("model", ["baken-guarded", "baken"])
def test_a_client_that_hangs_up_mid_stream_still_leaves_the_turn_in_the_log(served: Served, model: str) -> None:
    name = f"hangup-{model}"
    client = served.client(served.add_key(name))
    key = served.key_row(name)
    content = f"Herhaal: {' '.join(['woord'] * 100)}" if model == "baken-guarded" else \
        "Hoeveel dagen per week mag ik thuiswerken?"
    stream = client.chat.completions.create(model=model, stream=True, messages=[{"role": "user", "content": content}])
    for n, _ in enumerate(stream):
        if n == (3 if model == "baken-guarded" else 0):  # `baken`: gone after the evidence, before the answer
            break
    stream.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mine = [r for r in _turns(served, f"api:{model}") if r["actor"] == key["audit_actor"]]
        if mine:
            break
        time.sleep(0.2)
    assert mine and mine[0]["outcome"] == "answered"
    if model == "baken-guarded":
        assert mine[0]["gen_ai.usage.output_tokens"] == 100


def test_errors_come_in_openai_format(served: Served) -> None:
    token = served.add_key("errors")
    client = served.client(token)
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hallo"}])
    assert unknown.value.code == "model_not_found" and unknown.value.param == "model"
    with pytest.raises(openai.APIStatusError) as large:
        client.chat.completions.create(model="baken-guarded", messages=[{"role": "user", "content": "x" * 70_000}])
    assert large.value.status_code == 413 and large.value.code == "request_too_large"
    with pytest.raises(openai.BadRequestError) as long:
        client.chat.completions.create(model="baken", messages=[{"role": "user", "content": "woord " * 900}])
    assert long.value.code == "context_length_exceeded"
    malformed = httpx.post(f"{served.url}/chat/completions", content=b"{not json",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert set(malformed.json()["error"]) == {"message", "type", "code", "param"}


def test_a_model_server_that_is_down_gives_503(served: Served) -> None:
    client = served.client(served.add_key("down"))
    served.model.down = True
    try:
        with pytest.raises(openai.InternalServerError) as down:
            client.chat.completions.create(model="baken-guarded", messages=[{"role": "user", "content": "Hallo"}])
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="baken-guarded", stream=True,
                                           messages=[{"role": "user", "content": "Hallo"}])
    finally:
        served.model.down = False
    assert down.value.status_code == 503 and down.value.code == "unavailable"
    assert down.value.response.headers.get("retry-after")


def test_concurrent_streams_each_get_their_own_answer(served: Served) -> None:
    client = served.client(served.add_key("parallel"))
    answers: dict[int, str] = {}

    def ask(n: int) -> None:
        answers[n] = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="baken-guarded", stream=True, messages=[{"role": "user", "content": f"Herhaal: antwoord {n}"}])
            if c.choices)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == {0: "antwoord 0", 1: "antwoord 1"}


def test_open_webuis_forwarded_user_id_is_the_client_user_when_the_body_has_none(served: Served) -> None:
    client = served.client(served.add_key("open-webui"))
    key = served.key_row("open-webui")
    for options in ({"user": "u-7"}, {"extra_headers": {"X-OpenWebUI-User-Id": "u-7"}}):
        client.chat.completions.create(model="baken-guarded", messages=[{"role": "user", "content": "Hallo"}],
                                       **options)
    mine = [r for r in _turns(served, "api:baken-guarded") if r["actor"] == key["audit_actor"]]
    assert len(mine) == 2 and mine[0]["baken.client_user"] == mine[1]["baken.client_user"]
    assert "u-7" not in repr(mine)


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_the_llm_cli_works_unchanged_through_its_extra_openai_models_entry(served: Served, tmp_path: Path,
                                                                          stream: bool) -> None:
    """simonw's `llm` as a user sets it up: an `extra-openai-models.yaml` entry per model, the key under a name."""
    name = f"llm-cli-{'streamed' if stream else 'whole'}"
    home = tmp_path / "llm"
    home.mkdir()
    (home / "extra-openai-models.yaml").write_text("".join(
        f"- model_id: {model}\n  model_name: {model}\n  api_base: {served.url}\n  api_key_name: baken\n"
        for model in ("baken", "baken-guarded")), encoding="utf-8")
    (home / "keys.json").write_text(json.dumps({"baken": served.add_key(name)}), encoding="utf-8")
    env = {**os.environ, "LLM_USER_PATH": str(home)}

    def llm(*args: str) -> str:
        done = subprocess.run([str(Path(sys.executable).parent / "llm"), *args, *([] if stream else ["--no-stream"])],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    before = len(served.model.prompts)
    assert "[1]" in llm("-m", "baken", "Hoeveel dagen per week mag ik thuiswerken?")
    assert llm("-m", "baken-guarded", f"Herhaal: {NAME} heeft BSN {BSN}") == f"{NAME} heeft BSN {BSN}"
    assert BSN not in repr(served.model.prompts[before:]) and "Jansen" not in repr(served.model.prompts[before:])
    key = served.key_row(name)
    mine = [r for r in served.audit_records() if r["actor"] == key["audit_actor"] and r["action"] == "conversation.turn"]
    assert [r["baken.channel"] for r in mine] == ["api:baken", "api:baken-guarded"]


def test_a_key_without_hr_never_gets_the_hr_document_and_gets_403_asking_for_it(served: Served) -> None:
    question = [{"role": "user", "content": "Hoe laat moet ik me ziek melden bij de leidinggevende?"}]
    client = served.client(served.add_key("zonder-hr"))
    before = len(served.model.prompts)
    whole = client.chat.completions.create(model="baken", messages=question)
    streamed = list(client.chat.completions.create(model="baken", messages=question, stream=True))
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="baken", messages=question, extra_body={"baken": {"collections": ["hr"]}})
    assert refused.value.status_code == 403 and refused.value.code == "collection_not_allowed"
    seen = repr(served.model.prompts[before:]) + whole.model_dump_json() + repr(served.audit_records()) + \
        "".join(c.model_dump_json() for c in streamed)  # prompt, answer, sources, evidence, the log
    # "8.30" as the time the HR document gives, not inside a log timestamp such as "20:37:48.303650".
    assert "Voorbeeldzorg" not in seen and "casemanager" not in seen and not re.search(r"(?<![\d.])8\.30(?!\d)", seen)
    reader = served.client(served.add_key("met-hr", "--collections", "hr"))
    answer = reader.chat.completions.create(model="baken", messages=question,
                                            extra_body={"baken": {"collections": ["hr"]}})
    sources = answer.choices[0].message.model_extra["baken"]["sources"]
    assert sources and {s["collection"] for s in sources} == {"hr"} and "Voorbeeldzorg" in sources[0]["text"]
