"""Shared fixtures: real models loaded once per session, a small slice of the shared corpus, tmp data dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                      ("ANONYMIZED_TELEMETRY", "False"), ("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", ""),
                      ("TRANSFORMERS_VERBOSITY", "error"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
    os.environ.setdefault(_name, _value)

from baken.settings import Settings  # noqa: E402

from tests.paths import MODELS_DIR, SMALL_CORPUS  # noqa: E402


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
def embedder(models_dir: Path):  # noqa: ANN201
    """The real default embedder (all-MiniLM-L6-v2), loaded once."""
    from baken.wiring import build_embedder

    return build_embedder(Settings(models_dir=models_dir))


@pytest.fixture(scope="session")
def llm(models_dir: Path):  # noqa: ANN201
    """The real default LLM (SmolLM2-135M in llama.cpp), loaded once."""
    from baken.wiring import build_llm

    return build_llm(Settings(models_dir=models_dir))


@pytest.fixture(scope="session")
def small_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder, models_dir: Path) -> Path:  # noqa: ANN001
    """A data directory with the small corpus indexed by the real embedder in real Chroma (built once)."""
    from baken.wiring import build_index

    data = tmp_path_factory.mktemp("small-index")
    index = build_index(Settings(data_dir=data, models_dir=models_dir), embedder=embedder)
    for path in SMALL_CORPUS:
        outcome = index.ingest_file(path)
        assert outcome.status == "new", outcome
    return data


@pytest.fixture(scope="session")
def redactor(models_dir: Path):  # noqa: ANN201
    """The real personal-data guardrail (Presidio, Dutch and English recognizers), built once."""
    from baken.wiring import build_redactor

    return build_redactor(Settings(models_dir=models_dir))
