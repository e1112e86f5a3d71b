"""One conversation turn, the single path every question takes:
redact -> retrieve -> build prompt -> log the question -> generate -> restore -> cite -> log the turn.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.citations import UNSUPPORTED, ground
from assistant.llm import LLM, GenerationParams, Message
from assistant.prompt import STOP, TEMPLATE_VERSION, PromptSource, build_prompt
from baken.errors import BakenError, UserError
from baken.settings import Settings
from ingestion.index import Hit, Index
from ingestion.language import detect_language

logger = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 4000
NO_SOURCE = {
    "nl": "Ik heb in de documenten van de gemeente geen informatie gevonden die deze vraag beantwoordt. "
          "Probeer de vraag anders te formuleren of vraag het een collega.",
    "en": "I could not find information in the municipality's documents that answers this question. "
          "Try rephrasing it, or ask a colleague.",
}


class Redaction(Protocol):
    """What a redactor returns: the redacted text and its findings."""

    text: str
    findings: list[Any]


class Redactor(Protocol):
    """Strips personal data before text reaches a model, and puts it back for the asker only."""

    def redact(self, text: str, vault: Any) -> Redaction:
        """The text with personal data replaced by placeholders kept in ``vault``."""
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


@dataclass(frozen=True)
class Actor:
    """Who asks: a user id (never logged raw) and a role."""

    user_id: str
    role: str = "medewerker"


@dataclass
class Conversation:
    """A conversation's redacted history and its vault of placeholders (server memory only; `Assistant.resume`
    rebuilds both from the stored exchanges in any process)."""

    id: str
    vault: Any
    history: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRef:
    """A source given to the model, numbered as the answer cites it."""

    n: int
    doc_id: str
    chunk_id: str
    document: str
    title: str
    page: int | None
    heading: str
    score: float
    text: str
    cited: bool


@dataclass
class TurnResult:
    """Everything about one turn: what the asker sees and what the audit log records."""

    event_id: str
    conversation_id: str
    question: str
    redacted_question: str
    answer: str
    redacted_answer: str
    sources: list[SourceRef]
    outcome: str  # answered | no_source | error
    language: str
    model: str
    model_sha256: str | None
    params: GenerationParams
    findings: list[Any] = field(default_factory=list)
    source_findings: list[Any] = field(default_factory=list)
    model_texts: list[str] = field(default_factory=list)  # the (redacted) source texts the model was given
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    audit_seq: int | None = None
    supported: bool = True  # the answer cites at least one given source
    invalid_citations: list[int] = field(default_factory=list)  # [n] that named no given source (removed)
    template_version: str = TEMPLATE_VERSION


class NoRedaction:
    """A redactor that changes nothing; only for setups where guardrails are switched off."""

    def redact(self, text: str, vault: Any) -> Redaction:
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


class Assistant:
    """Answers questions from the index with the LLM, guarded by the redactor and recorded by the journal."""

    def __init__(self, index: Index, llm: LLM, redactor: Redactor, journal: Journal, settings: Settings,
                 vault_factory: Callable[[], Any] = dict, redact_sources: bool = True) -> None:
        self.index = index
        self.llm = llm
        self._redactor = redactor
        self._journal = journal
        self._settings = settings
        self._vault_factory = vault_factory
        self._redact_sources = redact_sources

    @property
    def redactor(self) -> Redactor:
        """The guardrail this assistant redacts with (for other text the user sends, such as feedback)."""
        return self._redactor

    def new_conversation(self) -> Conversation:
        """A conversation with an empty history and vault."""
        return Conversation(id=str(uuid.uuid4()), vault=self._vault_factory())

    def resume(self, conversation_id: str, exchanges: Iterable[tuple[str, str]]) -> Conversation:
        """A conversation rebuilt from its earlier (question, answer) pairs as the user saw them.

        Each text is redacted again into a fresh vault, so the model sees the history with placeholders that
        are consistent within the conversation. Any process can do this from the stored history, so the
        model's memory of a conversation does not depend on which process answered before.
        """
        conversation = self.new_conversation()
        conversation.id = conversation_id
        for question, answer in exchanges:
            conversation.history += [
                {"role": "user", "content": self._redactor.redact(question, conversation.vault).text},
                {"role": "assistant", "content": self._redactor.redact(answer, conversation.vault).text}]
        return conversation

    def ask(self, question: str, conversation: Conversation | None = None, actor: Actor | None = None,
            on_token: Callable[[str], None] | None = None) -> TurnResult:
        """Run one turn; ``on_token`` receives the restored answer as it streams."""
        conversation = conversation or self.new_conversation()
        actor = actor or Actor("anonymous")
        question = " ".join(question.split()) if question else ""
        if not question:
            raise UserError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise UserError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        clock = _Clock()
        llm_settings = self._settings.llm
        params = GenerationParams(llm_settings.max_tokens, llm_settings.temperature, llm_settings.seed,
                                  llm_settings.repeat_penalty, STOP)
        result = TurnResult(event_id=str(uuid.uuid4()), conversation_id=conversation.id, question=question,
                            redacted_question="", answer="", redacted_answer="", sources=[], outcome="error",
                            language=detect_language(question), model=self.llm.name,
                            model_sha256=self.llm.sha256, params=params)
        try:
            self._run(result, conversation, clock, actor, on_token)
        except BakenError as exc:  # also an AuditError from the question record: nothing generated or shown
            result.outcome, result.error = "error", type(exc).__name__
            result.timings_ms.update(clock.stages, total=clock.total())
            self._journal.record_turn(result, actor)
            raise
        result.timings_ms.update(clock.stages, total=clock.total())
        self._journal.record_turn(result, actor)
        conversation.history += [{"role": "user", "content": result.redacted_question},
                                 {"role": "assistant", "content": result.redacted_answer}]
        if result.outcome == "no_source" and on_token:
            # Shown only now, after the turn record: this path writes no question record (the model is never
            # called), so nothing may reach the user before the turn record is safely written.
            on_token(result.answer)
        return result

    def _run(self, result: TurnResult, conversation: Conversation, clock: _Clock, actor: Actor,
             on_token: Callable[[str], None] | None) -> None:
        vault = conversation.vault
        redaction = self._redactor.redact(result.question, vault)
        result.redacted_question, result.findings = redaction.text, list(redaction.findings)
        clock.lap("redact")
        retrieval = self._settings.retrieval
        hits = self.index.search(result.redacted_question, retrieval.top_k, retrieval.min_score)
        clock.lap("retrieve")
        if not hits:  # `ask` shows the fixed answer once the turn record is written
            result.outcome = "no_source"
            result.answer = result.redacted_answer = NO_SOURCE[result.language]
            return
        prompt_sources = [PromptSource(n, h.title, h.page, h.heading, self._source_text(h, vault, result))
                          for n, h in enumerate(hits, start=1)]
        clock.lap("redact_sources")
        budget = self.llm.n_ctx - result.params.max_tokens - 16
        prompt = build_prompt(result.redacted_question, prompt_sources, conversation.history, result.language,
                              self.llm.count_tokens, budget)
        result.prompt_tokens = prompt.tokens
        result.model_texts = [s.text for s in prompt.sources]
        result.sources = _given_sources(prompt.sources, hits, cited=())
        clock.lap("prompt")
        # On record before the model sees the question or the user sees a token: if the turn record at the
        # end cannot be written, the log still holds the interaction. A failure here stops the turn.
        self._journal.record_question(result, actor)
        clock.lap("record_question")
        raw: list[str] = []

        def generated() -> Iterator[str]:
            for piece in self.llm.stream(prompt.messages, result.params):
                if not raw:
                    result.timings_ms["first_token"] = clock.total()
                raw.append(piece)
                yield piece

        shown: list[str] = []
        looped = False
        for piece in self._redactor.restore_stream(generated(), vault):
            shown.append(piece)
            if on_token:
                on_token(piece)
            if "\n" in piece and _repeats_a_line("".join(shown)):
                looped = True  # small models loop; a repeated line ends the answer (and frees the model)
                break
        clock.lap("generate")
        result.completion_tokens = len(raw)
        answer, redacted = "".join(shown), "".join(raw)
        if looped:  # drop the unfinished line that started after the repeat
            answer, redacted = answer[:answer.rfind("\n")], redacted[:redacted.rfind("\n")]
        grounded = ground(_without_repeated_lines(answer), len(prompt.sources), result.language)
        result.answer = grounded.text
        result.redacted_answer = ground(_without_repeated_lines(redacted), len(prompt.sources),
                                        result.language).text
        result.supported, result.invalid_citations = grounded.supported, grounded.invalid
        cited = grounded.cited
        if on_token and not grounded.supported:
            on_token("\n\n" + UNSUPPORTED.get(result.language, UNSUPPORTED["nl"]))
        result.sources = _given_sources(prompt.sources, hits, cited)
        result.outcome = "answered"

    def _source_text(self, hit: Hit, vault: Any, result: TurnResult) -> str:
        if not self._redact_sources:
            return hit.text
        redaction = self._redactor.redact(hit.text, vault)
        result.source_findings += redaction.findings
        return redaction.text


def _given_sources(given: Iterable[PromptSource], hits: Iterable[Hit],
                   cited: Collection[int]) -> list[SourceRef]:
    """The sources the prompt kept, with their hits, marked as cited or not."""
    return [SourceRef(s.n, h.doc_id, h.chunk_id, h.source, h.title, h.page, h.heading, h.score, h.text,
                      s.n in cited) for s, h in zip(given, hits)]


def _repeats_a_line(text: str) -> bool:
    """True when the last finished line of ``text`` (of some length) already occurred earlier."""
    lines = [line.strip() for line in text.split("\n")[:-1]]
    return len(lines) > 1 and len(lines[-1]) >= 20 and lines[-1] in lines[:-1]


def _without_repeated_lines(text: str) -> str:
    """The text with every repeat of an earlier line (of some length) left out."""
    seen: set[str] = set()
    kept = []
    for line in text.strip().split("\n"):
        key = line.strip()
        if len(key) >= 20 and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n".join(kept).strip()


class _Clock:
    """Milliseconds since the turn started, and per stage."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round((now - self._last) * 1000, 2)
        self._last = now

    def total(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 2)
