"""The LLM seam: a chat model that streams text. One real adapter per backend, and a fake for tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict


class Message(TypedDict):
    """One chat message, as OpenAI-compatible servers and llama.cpp take it."""

    role: str
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """How to sample an answer."""

    max_tokens: int = 384
    temperature: float = 0.2
    seed: int = 42
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()


class LLM(Protocol):
    """A chat model; `stream` yields the answer's text piece by piece."""

    name: str
    sha256: str | None
    n_ctx: int
    waiting: int  # callers waiting for their first token (the model's queue, for "your place in the queue")

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[str]:
        """Generate an answer to ``messages``, yielding text as it is produced."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this model."""
        ...

    def check(self) -> str:
        """The model's name; raises BackendUnavailable when it cannot answer now (for /readyz)."""
        ...


@dataclass
class FakeLLM:
    """Replies with a fixed text (or one built by ``reply``) and remembers every prompt it was given."""

    answer: str = "Volgens de bronnen [1] is dat zo."
    name: str = "fake-llm"
    sha256: str | None = None
    n_ctx: int = 4096
    prompts: list[list[Message]] = field(default_factory=list)
    waiting: int = 0

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[str]:
        """Yield the fixed answer word by word."""
        self.prompts.append(list(messages))
        for i, word in enumerate(self.answer.split(" ")):
            yield word if i == 0 else " " + word

    def count_tokens(self, text: str) -> int:
        """Roughly four characters a token."""
        return len(text) // 4 + 1

    def check(self) -> str:
        """Always ready."""
        return self.name
