"""Scale-out on loopback: two `baken serve` processes share one model server, one Chroma server and one
PostgreSQL audit log; chats go through both, interleaved, and the audit chain verifies.

What is still per host (README, Deployment): the document registry, BM25 index and web sessions live in
SQLite/files under a BAKEN_DATA_DIR that both processes share here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.chat import WebClient
from tests.assistant.test_openai_llm import GGUF, ModelServer
from tests.ingestion.test_chroma_server import ChromaServer
from tests.paths import MODELS_DIR, REPO
from tests.servers import free_port

pytestmark = pytest.mark.slow
PASSWORD = "twee-processen-wachtwoord"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> Iterator[dict[str, str]]:
    """The shared servers, and the environment that points a Baken process at them."""
    if not GGUF.exists():
        pytest.fail(f"{GGUF} is missing: run `make test`")
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extra is not installed")
    root = tmp_path_factory.mktemp("scale-out")
    model = ModelServer(free_port(), root / "model.log")
    chroma = ChromaServer(root / "chroma")
    model.start()
    chroma.start()
    schema = f"two_processes_{os.getpid()}"
    env = {**os.environ, "BAKEN_DATA_DIR": str(root / "data"), "BAKEN_MODELS_DIR": str(MODELS_DIR),
           "BAKEN_LLM__BACKEND": "remote", "BAKEN_LLM__URL": model.url, "BAKEN_LLM__N_CTX": "2048",
           "BAKEN_LLM__MAX_TOKENS": "24", "BAKEN_INDEX__URL": chroma.url, "BAKEN_AUDIT__DSN": postgres_dsn,
           "BAKEN_AUDIT__PG_SCHEMA": schema, "BAKEN_WEB__SECURE_COOKIES": "false",
           "BAKEN_ADMIN_PASSWORD": PASSWORD, "TESTPW": PASSWORD}
    try:
        yield env
    finally:
        model.kill()
        chroma.stop()


def baken(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "baken"), *args]
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "baken"), "serve", "--no-demo",
                                    "--port", str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"baken serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"baken serve was not ready in 180 s: {log.read_text()[-3000:]}")


def test_two_web_processes_share_servers_sessions_and_one_audit_chain(shared: dict[str, str],
                                                                      tmp_path: Path) -> None:
    ingested = baken(shared, "ingest", "--quiet", str(REPO / "baken" / "demo" / "thuiswerkbeleid.md"))
    assert ingested.returncode == 0, ingested.stderr
    added = baken(shared, "users", "add", "ambtenaar", "--role", "medewerker", "--password-env", "TESTPW")
    assert added.returncode == 0, added.stderr

    ports = [free_port(), free_port()]
    servers = [start_server(shared, port, tmp_path / f"serve-{port}.log") for port in ports]
    try:
        first = WebClient(f"http://127.0.0.1:{ports[0]}", "ambtenaar", PASSWORD)
        second = WebClient(f"http://127.0.0.1:{ports[1]}", "ambtenaar", PASSWORD)
        # The session made by the first process is valid on the second (server-side sessions, shared store).
        crossed = httpx.get(f"http://127.0.0.1:{ports[1]}/chat", headers={"Cookie": first.cookie})
        assert crossed.status_code == 200 and "ambtenaar" in crossed.text

        questions = ["Hoeveel dagen per week mag ik thuiswerken?", "Wat is de thuiswerkvergoeding per dag?"]
        results = [client.ask(q) for q in questions for client in (first, second)]
        assert [r["error"] for r in results] == [None] * 4, results
        assert all(r["tokens"] > 0 for r in results)
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)

    verified = baken(shared, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    exported = baken(shared, "audit", "export", "--format", "csv")
    assert exported.stdout.count("conversation.turn") == 4
