"""One contract for every Embedder: the fake and the real sentence-transformers model behave the same."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ingestion.embedder import Embedder, FakeEmbedder

TEXTS = ["Een parkeervergunning kost veertig euro per jaar.", "Grofvuil wordt op dinsdag opgehaald."]


@pytest.fixture(scope="module")
def other_backends(models_dir: Path) -> dict[str, Embedder]:
    """The catalogue model on the local backends that are not the default, loaded once for the module."""
    from baken.settings import Settings
    from baken.wiring import build_embedder

    return {backend: build_embedder(Settings(models_dir=models_dir, embeddings={"backend": backend}))
            for backend in ("torch", "openvino")}


@pytest.fixture(params=["fake", pytest.param("default", marks=pytest.mark.slow),
                        pytest.param("torch", marks=pytest.mark.slow), pytest.param("openvino", marks=pytest.mark.slow)])
def embedder_(request: pytest.FixtureRequest) -> Embedder:
    """The fake, the default embedder loaded once per session (tests/conftest.py: OpenVINO int8), torch and
    OpenVINO fp32."""
    if request.param == "fake":
        return FakeEmbedder()
    if request.param == "default":
        return request.getfixturevalue("embedder")
    return request.getfixturevalue("other_backends")[request.param]


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def test_passages_get_one_unit_vector_each_of_one_dimension(embedder_: Embedder) -> None:
    vectors = embedder_.embed_passages(TEXTS)
    assert len(vectors) == len(TEXTS) and len({len(v) for v in vectors}) == 1
    assert all(abs(_norm(v) - 1.0) < 1e-3 for v in vectors)


def test_a_query_vector_is_nearest_to_the_passage_it_asks_about(embedder_: Embedder) -> None:
    passages = embedder_.embed_passages(TEXTS)
    query = embedder_.embed_query("Wat kost een parkeervergunning?")
    assert len(query) == len(passages[0]) and abs(_norm(query) - 1.0) < 1e-3
    assert _cosine(query, passages[0]) > _cosine(query, passages[1])


def test_no_passages_give_no_vectors(embedder_: Embedder) -> None:
    assert embedder_.embed_passages([]) == []


def test_tokens_are_counted_without_special_tokens(embedder_: Embedder) -> None:
    assert embedder_.count_tokens("") == 0
    assert 0 < embedder_.count_tokens("parkeren") < embedder_.count_tokens(TEXTS[0])


def test_the_embedder_states_its_name_window_and_dimension(embedder_: Embedder) -> None:
    assert embedder_.name and embedder_.max_tokens > 0
    assert embedder_.dimension == len(embedder_.embed_query("parkeren"))
