"""One contract for every LLM: the fake and the real llama.cpp model behave the same at the seam."""

from __future__ import annotations

import pytest

from assistant.llm import LLM, FakeLLM, GenerationParams

PROMPT = [{"role": "user", "content": "Zeg in één woord: hallo."}]


@pytest.fixture(params=["fake", pytest.param("llamacpp", marks=pytest.mark.slow)])
def model(request: pytest.FixtureRequest) -> LLM:
    """The fake, and the real model loaded once per session (tests/conftest.py)."""
    return FakeLLM() if request.param == "fake" else request.getfixturevalue("llm")


def test_stream_yields_non_empty_text_pieces(model: LLM) -> None:
    pieces = list(model.stream(PROMPT, GenerationParams(max_tokens=8, temperature=0.0)))
    assert pieces and all(isinstance(p, str) and p for p in pieces)


def test_count_tokens_counts_more_for_a_longer_text(model: LLM) -> None:
    short, long = model.count_tokens("parkeren"), model.count_tokens("parkeren in de binnenstad kost geld " * 5)
    assert 0 < short < long


def test_check_names_the_model_when_it_is_ready(model: LLM) -> None:
    assert model.check() == model.name and isinstance(model.name, str) and model.name


def test_an_idle_model_has_nobody_waiting(model: LLM) -> None:
    assert model.waiting == 0


def test_the_model_states_its_context_and_weights(model: LLM) -> None:
    assert model.n_ctx > 0
    assert model.sha256 is None or (len(model.sha256) == 64 and int(model.sha256, 16) >= 0)
