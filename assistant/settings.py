"""How answers are made: evidence only, checked model text, or the model when its text passes the check."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from assistant.remote_settings import RemoteLLMSettings
from ingestion.settings import RetrievalSettings


class AnswerSettings(BaseModel):
    """The answer: its mode and the calibrated thresholds of the sentence check (`assistant.check`)."""

    mode: str = Field(
        "auto", pattern="^(auto|extractive|generative)$",
        description="extractive: the evidence sentences only, no model call; generative: the model's checked"
                    " text (unsupported sentences marked) under the evidence; auto: the model's supported"
                    " sentences when enough of its answer passes the check, else the evidence alone.",
    )
    min_supported: float = Field(
        0.5, ge=0.0, le=1.0,
        description="auto: the share of the model's sentences that must be supported for its text to be shown.",
    )
    min_evidence: float = Field(
        0.33, ge=0.0, le=1.0,
        description="Share of the question's words (stemmed, compounds split) the best evidence sentence must"
                    " hold for the question to have a source when neither retrieval signal reaches its own"
                    " threshold (half, when the sentence lacks the number, date or role the question asks"
                    " for); calibrated with `python -m bench.eval --answers`.",
    )


class LLMSettings(RemoteLLMSettings):
    """The generating model: in process (llama.cpp) or on an OpenAI-compatible server (the remote fields)."""

    model: str = Field(
        "smollm2-135m-instruct",
        description="A catalogue name (see `baken models list`) or the path of any GGUF file.",
    )
    n_ctx: int = Field(4096, ge=512, description="Context window in tokens; prompts are trimmed to fit.")
    n_threads: int = Field(0, ge=0, description="CPU threads for llama.cpp; 0 means all cores.")
    n_batch: int = Field(512, ge=32, description="Prompt-processing batch size in tokens.")
    max_tokens: int = Field(384, ge=16, description="Most tokens generated for one answer.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int = Field(42, description="Sampling seed, so that answers are reproducible.")
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0, description="Penalty on repeating recent tokens.")


class TurnSettings(Protocol):
    """The settings sections one turn reads; the composed `baken.settings.Settings` is one."""

    @property
    def llm(self) -> LLMSettings: ...

    @property
    def retrieval(self) -> RetrievalSettings: ...

    @property
    def answer(self) -> AnswerSettings: ...
