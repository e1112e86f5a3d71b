"""The assistant's seams: what a turn needs from a redactor and from a journal, and the null versions of each
(the LLM seam is `assistant.llm`, the index's `ingestion.index`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from assistant.values import Actor, Clock, TurnResult
from core.errors import BakenError


class Redaction(Protocol):
    """What a redactor returns: the redacted text and its findings (read only: a frozen value will do)."""

    @property
    def text(self) -> str: ...

    @property
    def findings(self) -> list[Any]: ...


class Redactor(Protocol):
    """Strips personal data before text reaches a model, and puts it back for the asker only."""

    def redact(self, text: str, vault: Any, kind: Literal["typed", "document"] = "typed") -> Redaction:
        """The text with personal data replaced by placeholders kept in ``vault``; ``kind`` is "typed" (what a
        person wrote: recall first) or "document" (retrieved text: precision first, so sources stay readable)."""
        ...

    def restore_stream(self, tokens: Iterable[str], vault: Any) -> Iterator[str]:
        """The model's streamed text with placeholders restored."""
        ...


class Journal(Protocol):
    """Where each turn is recorded; a failure must stop the turn."""

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        """Write one record for a question about to reach the model, before anything is generated or shown."""
        ...

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        """Write one record for a finished (or failed) turn, naming the same event id as its question."""
        ...


class NoRedaction:
    """A redactor that changes nothing; only for setups where guardrails are switched off."""

    def redact(self, text: str, vault: Any, kind: str = "typed") -> Redaction:
        """The text unchanged."""
        return _Unredacted(text, [])

    def restore_stream(self, tokens: Iterable[str], vault: Any) -> Iterator[str]:
        """The tokens unchanged."""
        return iter(tokens)


@dataclass
class _Unredacted:
    text: str
    findings: list[Any]


class NullJournal:
    """Records nothing; for tests of other stages."""

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        """Do nothing."""

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        """Do nothing."""


def recorded(journal: Journal, result: TurnResult, actor: Actor, clock: Clock, run: Callable[[], None]) -> None:
    """Run a turn's work and put its turn record on file however it ends: a refusal or failure (a BakenError,
    also an AuditError from the question record, when nothing was generated or shown) is recorded as an error
    and raised again."""
    try:
        run()
    except BakenError as exc:
        result.outcome, result.error = "error", type(exc).__name__
        result.timings_ms.update(clock.stages, total=clock.total())
        journal.record_turn(result, actor)
        raise
    result.timings_ms.update(clock.stages, total=clock.total())
    journal.record_turn(result, actor)
