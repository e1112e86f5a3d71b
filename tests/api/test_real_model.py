"""The API over the real model: `baken serve` with SmolLM2 in process (llama.cpp), the official `openai` client,
both models, streamed and not. Short answers (BAKEN_LLM__MAX_TOKENS=24) keep it quick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from bench.load import BakenServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[openai.OpenAI]:
    root = tmp_path_factory.mktemp("api-real-model")
    server = BakenServer(root / "data", "", workers=1, log=root / "serve.log")
    server.env.update({"BAKEN_LLM__BACKEND": "llamacpp", "BAKEN_LLM__MAX_TOKENS": "24", "BAKEN_LLM__N_CTX": "2048",
                       "BAKEN_LLM__N_THREADS": "2", "BAKEN_MODELS_DIR": str(models_dir)})
    server.env.pop("BAKEN_LLM__URL", None)
    server.start()
    try:
        added = server.baken("apikeys", "add", "real", "--owner", "Team Test", "--purpose", "tests")
        assert added.returncode == 0, added.stderr
        yield openai.OpenAI(base_url=f"{server.url}/v1", api_key=added.stdout.split()[-1], max_retries=0,
                            timeout=300)
    finally:
        server.stop()


def test_the_real_model_answers_through_baken_whole_and_streamed(client: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "Hoeveel dagen per week mag ik thuiswerken?"}]
    whole = client.chat.completions.create(model="baken", messages=question)
    extension = whole.choices[0].message.model_extra["baken"]
    assert whole.choices[0].message.content and extension["outcome"] == "answered" and extension["sources"]
    assert "[" in whole.choices[0].message.content  # cited, by the model's checked sentences or the evidence
    chunks = list(client.chat.completions.create(model="baken", messages=question, stream=True,
                                                 stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage.prompt_tokens > 0


def test_the_real_model_answers_through_baken_guarded_token_by_token(client: openai.OpenAI) -> None:
    messages = [{"role": "system", "content": "Antwoord kort."},
                {"role": "user", "content": "Wat is de hoofdstad van Nederland?"}]
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="baken-guarded", messages=messages, stream=True, max_tokens=16) if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces).strip()
    whole = client.chat.completions.create(model="baken-guarded", messages=messages, max_tokens=16)
    assert whole.choices[0].message.content and 0 < whole.usage.completion_tokens <= 16
