"""The values of one turn: who asks (`Actor`), the conversation, and everything the turn produced
(`TurnResult`: its `Outcome`, numbered `Source`s, evidence and checked sentences, with their records)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from assistant.check import CheckedSentence, with_citation
from assistant.llm import GenerationParams, Message
from assistant.prompt import TEMPLATE_VERSION
from ingestion.collection import OPEN
from ingestion.source import Source


@dataclass(frozen=True)
class Actor:
    """Who asks: a user id (never logged raw), a role and the collections they may read (deny by default: only
    the open one); through the API, also the client's own user (logged pseudonymised) and the channel, e.g.
    "api:baken-guarded"."""

    user_id: str
    role: str = "medewerker"
    client_user: str | None = None
    channel: str | None = None
    collections: frozenset[str] = frozenset({OPEN})


@dataclass
class Conversation:
    """A conversation's redacted history and its vault of placeholders (server memory only; `Assistant.resume`
    rebuilds both from the stored exchanges in any process)."""

    id: str
    vault: Any
    history: list[Message] = field(default_factory=list)


SourceRef = Source  # the old name of a numbered source, kept importable
Outcome = Literal["answered", "no_source", "error"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True)
class EvidenceRef:
    """A sentence of source ``n`` shown as evidence: as the user reads it, as the model and the log saw it
    (redacted), and where it lies in the source's text (``Source.text[start:end]``; -1 when not found)."""

    n: int
    text: str
    redacted: str
    start: int
    end: int
    score: float
    coverage: float

    def record(self, source: Source | None) -> dict[str, Any]:
        """The evidence for `ask --json`, the web history and the template."""
        return {"n": self.n, "text": self.text, "start": self.start, "end": self.end, "score": self.score,
                "document": source.document if source else "", "title": source.title if source else "",
                "page": source.page if source else None, "heading": source.heading if source else ""}


@dataclass(frozen=True)
class AnswerSentence:
    """A generated sentence after the check: shown (supported), marked (generative mode, unsupported), removed
    (auto mode, unsupported) or withheld (auto mode, too little of the answer supported)."""

    text: str
    check: CheckedSentence
    status: str

    def record(self) -> dict[str, Any]:
        """The sentence for `ask --json` and the web history (the audit record keeps the redacted text)."""
        return {"text": self.text, "supported": self.check.supported, "source": self.check.source,
                "reason": self.check.reason, "status": self.status,
                "cited": with_citation(self.text, self.check.source) if self.check.supported else self.text}


@dataclass
class TurnResult:
    """Everything about one turn: what the asker sees and what the audit log records."""

    event_id: str
    conversation_id: str
    question: str
    redacted_question: str
    answer: str
    redacted_answer: str
    sources: list[Source]  # numbered as the answer cites them, with the text the user may read
    outcome: Outcome
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
    mode: str = "auto"
    follow_up: bool = False
    query: str = ""  # what was retrieved: the redacted question, or its standalone form for a follow-up
    evidence: list[EvidenceRef] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    generated: str = ""  # the model's raw (redacted) text, before the check
    withheld: bool = False  # auto mode: the model's text was not shown
    signals: dict[str, float] = field(default_factory=dict)  # the "has a source" signals: cosine, coverage, evidence

    def evidence_records(self) -> list[dict[str, Any]]:
        """The evidence with its source's title, page and heading."""
        by_n = {s.n: s for s in self.sources}
        return [e.record(by_n.get(e.n)) for e in self.evidence]


class Clock:
    """Milliseconds since the turn started, and per stage (`TurnResult.timings_ms`): one timer for both kinds of
    turn, the assistant's and the relay's."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round((now - self._last) * 1000, 2)
        self._last = now

    def total(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 2)
