"""A guarded relay: the caller's own conversation sent to the model without retrieval, for clients that bring
their own context (the API's `baken-guarded` model).

redact every message (one vault, so a name is the same placeholder in each) -> log the question -> generate ->
restore -> log the turn. The audit records are those of an ordinary turn (same journal, same fields): the
question is the last user message, the chunks are the caller's other messages ("role: text"), all redacted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant.llm import LLM, GenerationParams, Message
from assistant.seams import Journal, Redactor, recorded
from assistant.values import Actor, Clock, TurnResult
from core.errors import UserError
from core.language import detect_language

ROLES = ("system", "user", "assistant")
RELAY_TEMPLATE = "relay-1"


class ConversationTooLong(UserError):
    """The conversation and the answer it asks for do not fit the model's context window."""


class Relay:
    """Sends a redacted conversation to the model and restores its answer, recording both in the journal."""

    def __init__(self, llm: LLM, redactor: Redactor, journal: Journal, vault_factory: Callable[[], Any],
                 default_params: GenerationParams) -> None:
        self.llm = llm
        self._redactor = redactor
        self._journal = journal
        self._vault_factory = vault_factory
        self._defaults = default_params

    def relay(self, messages: Sequence[Message], actor: Actor, params: GenerationParams | None = None,
              on_token: Callable[[str], None] | None = None) -> TurnResult:
        """Answer ``messages`` (the last one the user's); ``on_token`` receives the restored text as it streams."""
        if not messages or messages[-1]["role"] != "user":
            raise UserError("the last message must be the user's")
        if any(m["role"] not in ROLES for m in messages):
            raise UserError(f"a message role must be one of {', '.join(ROLES)}")
        clock = Clock()
        params = params or self._defaults
        vault = self._vault_factory()
        last = messages[-1]["content"]
        result = TurnResult(event_id=str(uuid.uuid4()), conversation_id=str(uuid.uuid4()), question=last,
                            redacted_question="", answer="", redacted_answer="", sources=[], outcome="error",
                            language=detect_language(last), model=self.llm.name, model_sha256=self.llm.sha256,
                            params=params, mode="relay", template_version=RELAY_TEMPLATE, supported=False)
        recorded(self._journal, result, actor, clock, lambda: self._run(result, messages, vault, clock, actor, on_token))
        return result

    def _run(self, result: TurnResult, messages: Sequence[Message], vault: Any, clock: Clock, actor: Actor,
             on_token: Callable[[str], None] | None) -> None:
        redacted: list[Message] = []
        for message in messages:
            redaction = self._redactor.redact(message["content"], vault)
            result.findings += list(redaction.findings)
            redacted.append({"role": message["role"], "content": redaction.text})
        result.redacted_question = redacted[-1]["content"]
        result.model_texts = [f"{m['role']}: {m['content']}" for m in redacted[:-1]]
        clock.lap("redact")
        result.prompt_tokens = sum(self.llm.count_tokens(m["content"]) + 4 for m in redacted)
        if result.prompt_tokens + result.params.max_tokens > self.llm.n_ctx:
            raise ConversationTooLong(f"the conversation is {result.prompt_tokens} tokens; with {result.params.max_tokens} "
                            f"for the answer that exceeds the model's {self.llm.n_ctx}")
        # On record before the model sees anything, as in every turn; a failure here stops the relay.
        self._journal.record_question(result, actor)
        clock.lap("record_question")
        raw: list[str] = []
        shown: list[str] = []

        def model_pieces() -> Iterator[str]:
            for piece in self.llm.stream(redacted, result.params):
                if not raw:
                    result.timings_ms["first_token"] = clock.total()
                raw.append(piece)
                yield piece

        for text in self._redactor.restore_stream(model_pieces(), vault):
            if text:
                shown.append(text)
                if on_token:
                    on_token(text)
        clock.lap("generate")
        result.completion_tokens = len(raw)
        result.generated = result.redacted_answer = "".join(raw)
        result.answer = "".join(shown)
        result.outcome = "answered"
