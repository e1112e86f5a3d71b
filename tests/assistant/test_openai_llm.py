"""The OpenAI-compatible adapter: its wire contract (httpx.MockTransport) and real llama_cpp.server runs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.llm import GenerationParams, Message
from assistant.openai_llm import OpenAICompatibleLLM
from assistant.remote_settings import RemoteLLMSettings
from core.errors import BackendUnavailable
from tests.assistant.test_turn import RecordingJournal, fake_assistant
from tests.paths import MODELS_DIR
from tests.servers import free_port

GGUF = MODELS_DIR / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTION: list[Message] = [{"role": "user", "content": "Write a long story about a lighthouse."}]


def sse(*events: dict | str) -> bytes:  # type: ignore[type-arg]
    """An SSE body as OpenAI-compatible servers send it."""
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


def delta(text: str) -> dict:  # type: ignore[type-arg]
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def mock_llm(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM("http://model.test:8080", n_ctx=2048, transport=httpx.MockTransport(handler),
                               retry_backoff_s=0.0, **kwargs)


# --- the wire contract, no server -------------------------------------------------------------------------


def test_stream_posts_the_chat_request_and_yields_each_delta() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=sse({"choices": [{"delta": {"role": "assistant"}}]}, delta("Hal"),
                                               delta("lo"), "[DONE]"))

    llm = mock_llm(handler, model="smol", api_key="geheim")
    params = GenerationParams(max_tokens=20, temperature=0.0, seed=7, stop=("</s>",))
    assert list(llm.stream(QUESTION, params)) == ["Hal", "lo"]
    request = seen[0]
    assert request.url == "http://model.test:8080/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer geheim"
    body = json.loads(request.content)
    assert body["messages"] == QUESTION and body["stream"] is True and body["model"] == "smol"
    assert (body["max_tokens"], body["temperature"], body["seed"], body["stop"]) == (20, 0.0, 7, ["</s>"])
    assert llm.waiting == 0


def test_the_served_model_name_is_learned_from_v1_models_when_not_configured() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "qwen2.5-7b"}]})
        assert json.loads(request.content)["model"] == "qwen2.5-7b"
        return httpx.Response(200, content=sse(delta("ok"), "[DONE]"))

    llm = mock_llm(handler)
    assert list(llm.stream(QUESTION, GenerationParams())) == ["ok"]
    assert llm.name == "qwen2.5-7b"


def test_connect_errors_are_retried_then_reported_clearly() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused")

    llm = mock_llm(handler, model="m", retries=2)
    with pytest.raises(BackendUnavailable, match=r"cannot be reached \(3 attempts\)"):
        list(llm.stream(QUESTION, GenerationParams()))
    assert len(calls) == 3 and llm.waiting == 0


def test_a_connect_error_then_success_answers() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, content=sse(delta("ja"), "[DONE]"))

    assert list(mock_llm(handler, model="m").stream(QUESTION, GenerationParams())) == ["ja"]


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ReadError("reset")])
def test_errors_after_the_request_was_sent_are_not_retried(error: Exception) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise error

    with pytest.raises(BackendUnavailable, match="model server"):
        list(mock_llm(handler, model="m").stream(QUESTION, GenerationParams()))
    assert len(calls) == 1


def test_a_stream_cut_before_done_is_an_error_not_a_short_answer() -> None:
    llm = mock_llm(lambda r: httpx.Response(200, content=sse(delta("Half"), delta(" an"))), model="m")
    pieces: list[str] = []
    with pytest.raises(BackendUnavailable, match="stopped mid-answer after 2 chunks"):
        for piece in llm.stream(QUESTION, GenerationParams()):
            pieces.append(piece)  # noqa: PERF402 (the pieces before the error are what is checked)
    assert pieces == ["Half", " an"]


def test_a_dropped_connection_mid_stream_is_backend_unavailable() -> None:
    class Dropping(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield sse(delta("Een"))
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    llm = mock_llm(lambda r: httpx.Response(200, stream=Dropping()), model="m")
    with pytest.raises(BackendUnavailable, match="stopped mid-answer after 1 chunks: peer closed"):
        list(llm.stream(QUESTION, GenerationParams()))


@pytest.mark.parametrize("response", [
    httpx.Response(503, text="Loading model"),
    httpx.Response(200, content=sse({"error": {"message": "context too long"}})),
])
def test_server_errors_carry_the_servers_message(response: httpx.Response) -> None:
    with pytest.raises(BackendUnavailable, match="Loading model|context too long"):
        list(mock_llm(lambda r: response, model="m").stream(QUESTION, GenerationParams()))



def test_a_turn_whose_server_dies_mid_answer_is_logged_as_failed_and_the_next_turn_answers(tmp_path: Path) -> None:
    class Dropping(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield sse(delta("Het kost"))
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    server_up = [False]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/chat/completions":
            return httpx.Response(404)
        if not server_up[0]:
            return httpx.Response(200, stream=Dropping())
        return httpx.Response(200, content=sse(delta("Veertig euro"), delta(" [1]."), "[DONE]"))

    journal = RecordingJournal()
    assistant = fake_assistant(tmp_path, mock_llm(handler, model="m"), journal)  # type: ignore[arg-type]
    with pytest.raises(BackendUnavailable, match="stopped mid-answer"):
        assistant.ask("Wat kost een parkeervergunning?")
    server_up[0] = True
    result = assistant.ask("Wat kost een parkeervergunning?")
    assert [t.outcome for t in journal.turns] == ["error", "answered"]
    assert journal.turns[0].error == "BackendUnavailable" and result.answer == "Veertig euro [1]."

@pytest.mark.parametrize(("endpoint", "reply", "expected"), [
    ("/extras/tokenize/count", {"count": 7}, 7),  # llama_cpp.server
    ("/tokenize", {"tokens": [1, 2, 3]}, 3),  # llama.cpp llama-server
])
def test_count_tokens_uses_the_servers_tokenizer(endpoint: str, reply: dict, expected: int) -> None:  # type: ignore[type-arg]
    paths = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json=reply) if request.url.path == endpoint else httpx.Response(404)

    llm = mock_llm(handler, model="m")
    assert llm.count_tokens("Hallo wereld") == expected
    assert llm.count_tokens("Nog een zin") == expected
    assert paths.count(endpoint) == 2 and len(paths) <= 3  # the working endpoint is remembered


def test_count_tokens_estimates_when_the_server_cannot_tokenize() -> None:
    llm = mock_llm(lambda r: httpx.Response(404), model="m")
    assert llm.count_tokens("a" * 40) == 11


def test_count_tokens_estimates_while_the_server_is_down() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert mock_llm(handler, model="m").count_tokens("a" * 40) == 11


def test_settings_need_a_url_for_the_remote_backend() -> None:
    with pytest.raises(ValueError, match="BAKEN_LLM__URL"):
        RemoteLLMSettings(backend="remote")
    remote = RemoteLLMSettings(backend="remote", url="http://gpu-1:8080/", remote_model="m", api_key="geheim-42")
    llm = OpenAICompatibleLLM.from_settings(remote, n_ctx=4096)
    assert (llm.base, llm.root, llm.name, llm.n_ctx) == ("http://gpu-1:8080/v1", "http://gpu-1:8080", "m", 4096)
    assert "geheim-42" not in repr(remote)


# --- against a real llama_cpp.server ----------------------------------------------------------------------


class ModelServer:
    """`python -m llama_cpp.server` serving SmolLM2 on a loopback port."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        threads = "1"  # CI machines are small and busy; more threads than free cores makes llama.cpp crawl
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--host", "127.0.0.1",
                 "--port", str(self.port), "--n_ctx", "2048", "--n_threads", threads, "--n_threads_batch",
                 threads], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        pytest.fail(f"llama_cpp.server did not start in 60 s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """A real model server, started once for the module (tests may kill and restart it)."""
    if not GGUF.exists():
        pytest.fail(f"{GGUF} is missing: run `make test` (or `baken models provision`)")
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extra is not installed")
    model_server = ModelServer(free_port(), tmp_path_factory.mktemp("llama-server") / "server.log")
    model_server.start()
    yield model_server
    model_server.kill()


@pytest.mark.slow
def test_a_real_server_streams_an_answer_and_counts_tokens(server: ModelServer) -> None:
    llm = OpenAICompatibleLLM(server.url, n_ctx=2048)
    llm.check()
    assert llm.name.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    pieces = list(llm.stream([{"role": "user", "content": "What is the capital of France?"}],
                             GenerationParams(max_tokens=12, temperature=0.0)))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert 2 <= llm.count_tokens("Hoeveel dagen per week mag ik thuiswerken?") <= 20


@pytest.mark.slow
def test_killing_the_server_mid_answer_is_a_clear_error_and_the_next_call_works_after_restart(
        server: ModelServer) -> None:
    llm = OpenAICompatibleLLM(server.url, n_ctx=2048, model="smollm2", retries=1, retry_backoff_s=0.1)
    pieces: list[str] = []
    with pytest.raises(BackendUnavailable) as caught:
        for piece in llm.stream(QUESTION, GenerationParams(max_tokens=1000, temperature=0.8)):
            pieces.append(piece)
            if len(pieces) == 3:
                server.kill()
    assert len(pieces) >= 3
    assert "stopped mid-answer" in str(caught.value) and server.url in str(caught.value)

    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"cannot be reached \(2 attempts\)"):
        list(llm.stream(QUESTION, GenerationParams(max_tokens=8)))
    assert time.monotonic() - started < 5

    server.start()
    again = list(llm.stream([{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=8)))
    assert "".join(again).strip()


def test_a_server_down_at_start_fails_quickly_with_a_clear_error() -> None:
    remote = RemoteLLMSettings(backend="remote", url=f"http://127.0.0.1:{free_port()}", retries=2,
                               retry_backoff_s=0.1, connect_timeout_s=1)
    started = time.monotonic()
    llm = OpenAICompatibleLLM.from_settings(remote, n_ctx=2048)  # starts even so; not ready
    with pytest.raises(BackendUnavailable, match=r"cannot be reached \(3 attempts\)"):
        list(llm.stream(QUESTION, GenerationParams(max_tokens=8)))
    with pytest.raises(BackendUnavailable, match="does not answer"):
        llm.check()
    assert time.monotonic() - started < 3
