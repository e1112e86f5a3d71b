"""The remote embedder: its wire contract (httpx.MockTransport) and a real llama_cpp.server on loopback."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import BackendUnavailable, ConfigurationError
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.remote_embedder import OpenAIEmbedder
from ingestion.settings import EmbeddingSettings, IngestionSettings
from ingestion.store import ChromaStore
from tests.paths import MODELS_DIR
from tests.servers import free_port

GGUF = MODELS_DIR / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = MODELS_DIR / "all-minilm-l6-v2" / "model"


def reply(texts: list[str], width: int = 3, model: str = "m", scale: float = 2.0) -> dict[str, Any]:
    """An OpenAI embeddings answer, rows in reverse order (a server may send them so; ``index`` orders them)."""
    rows = [{"object": "embedding", "index": i, "embedding": [scale * (i + 1)] + [0.0] * (width - 1)}
            for i in range(len(texts))]
    return {"object": "list", "model": model, "data": rows[::-1]}


def mock(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> OpenAIEmbedder:
    return OpenAIEmbedder("http://embed.test:8080", model="m", transport=httpx.MockTransport(handler),
                          retry_backoff_s=0.01, **kwargs)


def test_texts_go_in_batches_and_come_back_in_order_as_unit_vectors() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        bodies.append(body)
        assert request.url.path == "/v1/embeddings" and request.headers["authorization"] == "Bearer k"
        return httpx.Response(200, json=reply(body["input"]))

    embedder = mock(handler, batch_size=2, api_key="k", passage_prefix="passage: ")
    vectors = embedder.embed_passages(["a", "b", "c"])
    assert [len(b["input"]) for b in bodies] == [2, 1] and bodies[0]["input"][0] == "passage: a"
    assert bodies[0]["model"] == "m" and all(math.isclose(sum(x * x for x in v), 1.0) for v in vectors)
    assert embedder.dimension == 3 and embedder.embed_passages([]) == []


def test_a_failing_batch_is_retried_with_back_off_then_answers() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503, text="loading")
        return httpx.Response(200, json=reply(["q"]))

    assert len(mock(handler).embed_query("q")) == 3
    assert len(calls) == 3 and calls[2] - calls[1] >= 0.02 - 1e-3  # 0.01 s, then 0.02 s


def test_a_server_that_stays_down_is_a_dutch_backend_error_after_the_retries() -> None:
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(BackendUnavailable, match="antwoordt niet .*na 3 pogingen"):
        mock(handler, retries=2).embed_query("q")
    assert len(attempts) == 3


def test_a_bad_request_is_not_retried() -> None:
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        return httpx.Response(400, text="input too long")

    with pytest.raises(BackendUnavailable, match="weigert het verzoek: HTTP 400"):
        mock(handler).embed_query("q")
    assert len(attempts) == 1


def test_a_server_answering_for_another_model_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="model 'e5-large'"):
        mock(lambda r: httpx.Response(200, json=reply(["q"], model="e5-large"))).embed_query("q")


def test_vectors_whose_dimension_changes_are_refused() -> None:
    widths = iter([3, 5])
    embedder = mock(lambda r: httpx.Response(200, json=reply(["q"], width=next(widths))))
    embedder.embed_query("q")
    with pytest.raises(ConfigurationError, match="5 getallen, eerder van 3"):
        embedder.embed_query("q")


def test_words_are_counted_by_the_local_tokenizer_or_over_estimated() -> None:
    estimate = mock(lambda r: httpx.Response(500))
    assert estimate.count_tokens("a" * 30) == 10 and estimate.max_tokens == 256
    if MINILM.exists():
        counted = mock(lambda r: httpx.Response(500), tokenizer_dir=MINILM)
        assert counted.count_tokens("Thuiswerken mag drie dagen per week.") == 12 and counted.max_tokens == 256


def test_settings_need_a_url_for_the_remote_backend() -> None:
    with pytest.raises(ValueError, match="BAKEN_EMBEDDINGS__URL"):
        EmbeddingSettings(backend="remote")
    embedder = OpenAIEmbedder.from_settings(EmbeddingSettings(backend="remote", url="http://e:1/", remote_model="x"))
    assert embedder.name == "x" and embedder.base == "http://e:1/v1"


# --- against a real llama_cpp.server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama_cpp.server with SmolLM2 in embedding mode (mean pooling, tests/embedding_server.py)."""
    if not GGUF.exists():
        pytest.fail(f"{GGUF} is missing: run `make test` (or `baken models provision`)")
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extra is not installed")
    port, log = free_port(), tmp_path_factory.mktemp("embed-server") / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.embedding_server", "--model", str(GGUF), "--host", "127.0.0.1", "--port",
             str(port), "--embedding", "true", "--model_alias", "smollm2-embed", "--n_ctx", "512", "--n_threads", "1",
             "--n_threads_batch", "1"], stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the embedding server did not start: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.kill()
        process.wait(10)


def _index(tmp_path: Path, embedder: Any) -> Index:
    return Index(embedder, ChromaStore(tmp_path / "chroma"), Registry(tmp_path / "registry.sqlite3"),
                 tmp_path / "documents", IngestionSettings(sandbox=False))


@pytest.mark.slow
def test_a_real_server_embeds_in_batches_and_the_index_records_it(server: str, tmp_path: Path) -> None:
    embedder = OpenAIEmbedder(server, model="smollm2-embed", batch_size=2)
    index = _index(tmp_path, embedder)
    (tmp_path / "p.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n\n"
                                   "# Afval\n\nGrofvuil wordt op dinsdag opgehaald.\n", encoding="utf-8")
    assert index.ingest_file(tmp_path / "p.md").status == "new"
    assert embedder.dimension == 576
    record = ChromaStore(tmp_path / "chroma").embedder()
    assert record is not None and (record.name, record.dimension) == ("smollm2-embed", 576)
    assert index.search("parkeervergunning", 2, min_score=-1.0, mode="dense")


@pytest.mark.slow
def test_an_index_built_with_another_embedder_refuses_the_server_in_dutch(server: str, tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("# Parkeren\n\nEen vergunning kost veertig euro.\n", encoding="utf-8")
    assert _index(tmp_path, FakeEmbedder()).ingest_file(tmp_path / "p.md").status == "new"
    index = _index(tmp_path, OpenAIEmbedder(server, model="smollm2-embed"))
    with pytest.raises(ConfigurationError, match=r"gebouwd met embedder fake-embedder \(256 dimensies\).*"
                                                 r"smollm2-embed \(576 dimensies\).*baken index reembed"):
        index.search("vergunning", 2, mode="dense")


@pytest.mark.slow
def test_a_closed_port_is_retried_then_refused(tmp_path: Path) -> None:
    embedder = OpenAIEmbedder(f"http://127.0.0.1:{free_port()}", model="m", retries=2, retry_backoff_s=0.05)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="na 3 pogingen"):
        embedder.embed_query("q")
    assert time.monotonic() - started >= 0.15 - 0.01  # 0.05 + 0.1 s of back-off
