"""Shared fixtures: real models loaded once per session, a small slice of the shared corpus, tmp data dirs."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.offline import go_offline

go_offline()

from baken.settings import Settings
from tests.paths import MODELS_DIR, REPO, SMALL_CORPUS
from tests.servers import ChromaServer, free_port

POSTGRES_SCRIPT = REPO / "scripts" / "postgres-test-server"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Where the test command provisioned the models."""
    if not (MODELS_DIR / "smollm2-135m-instruct").exists():
        pytest.fail(f"models are not provisioned in {MODELS_DIR}: run `make test` (or `baken models provision`)")
    return MODELS_DIR


@pytest.fixture
def settings(tmp_path: Path, models_dir: Path) -> Settings:
    """Settings with a fresh data directory and the shared provisioned models."""
    return Settings(data_dir=tmp_path / "data", models_dir=models_dir)


@pytest.fixture(scope="session")
def embedder(models_dir: Path):
    """The real default embedder (all-MiniLM-L6-v2), loaded once."""
    from baken.wiring import build_embedder

    return build_embedder(Settings(models_dir=models_dir))


@pytest.fixture(scope="session")
def llm(models_dir: Path):
    """The real default LLM (SmolLM2-135M in llama.cpp), loaded once."""
    from baken.wiring import build_llm

    return build_llm(Settings(models_dir=models_dir))


@pytest.fixture(scope="session")
def small_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder, models_dir: Path) -> Path:
    """A data directory with the small corpus indexed by the real embedder in real Chroma (built once)."""
    from baken.wiring import build_index

    data = tmp_path_factory.mktemp("small-index")
    index = build_index(Settings(data_dir=data, models_dir=models_dir), embedder=embedder)
    for path in SMALL_CORPUS:
        outcome = index.ingest_file(path)
        assert outcome.status == "new", outcome
    return data


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder, models_dir: Path) -> Path:
    """A data directory with the demo corpus (Gemeente Voorbeeld) indexed by the real embedder (built once)."""
    from baken.cli.chat import demo_corpus
    from baken.wiring import build_index

    data = tmp_path_factory.mktemp("demo-index")
    index = build_index(Settings(data_dir=data, models_dir=models_dir), embedder=embedder)
    for path in sorted(demo_corpus().glob("*.md")):
        assert index.ingest_file(path).status == "new"
    return data


@pytest.fixture(scope="session")
def redactor(models_dir: Path):
    """The real personal-data guardrail (Presidio, Dutch and English recognizers), built once."""
    from baken.wiring import build_redactor

    return build_redactor(Settings(models_dir=models_dir))


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server: the configured one, or a throwaway cluster started for the session."""
    configured = os.environ.get("BAKEN_TEST_POSTGRES_DSN")
    if configured:
        yield configured
        return
    # Not under pytest's tmp dir: that is private to root, and as root the cluster runs as Debian's `postgres`.
    cluster = Path(tempfile.gettempdir()) / f"baken-postgres-test-{uuid.uuid4().hex[:8]}"
    args = ["--dir", str(cluster), "--port", str(free_port()), "--no-install"]
    started = subprocess.run([str(POSTGRES_SCRIPT), "start", *args], capture_output=True, text=True, timeout=120,
                             check=False)
    if started.returncode == 3:
        pytest.skip(f"PostgreSQL is unavailable: {started.stderr.strip()} (or set BAKEN_TEST_POSTGRES_DSN)")
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", "--dir", str(cluster)], capture_output=True,
                       timeout=60, check=False)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One `chroma run` server for the test module."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with a small cost, so that tests that create accounts stay fast."""
    import web.accounts.store

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(web.accounts.store, "HASHING", {"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
        yield
