"""Runs chat turns off the event loop: one worker thread takes questions in order, streams tokens into a
buffer that the SSE endpoint reads (and can re-read after a reconnect), and stores the finished answer."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.turn import Actor, Assistant, Conversation, TurnResult
from baken.errors import BakenError, UserError
from web.history import History

logger = logging.getLogger(__name__)
KEEP_FINISHED_SECONDS = 600


@dataclass
class TurnStream:
    """The events of one turn so far: ("token", text), ("error", message_key), ("done", "")."""

    turn_id: str
    events: list[tuple[str, str]] = field(default_factory=list)
    finished: float | None = None
    started: bool = False

    def push(self, event: str, data: str) -> None:
        """Append an event (list.append is atomic, so readers need no lock)."""
        self.events.append((event, data))


@dataclass
class _Job:
    turn_id: str
    question: str
    conversation_id: str
    actor: Actor
    stream: TurnStream


class ChatRunner:
    """A FIFO of questions answered by one worker thread; knows each waiting question's place in the queue."""

    def __init__(self, assistant: Assistant, history: History) -> None:
        self._assistant = assistant
        self._history = history
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._waiting: list[str] = []
        self._streams: dict[str, TurnStream] = {}
        self._conversations: dict[str, Conversation] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="baken-chat", daemon=True)
        self._thread.start()

    def submit(self, turn_id: str, question: str, conversation_id: str, actor: Actor) -> TurnStream:
        """Queue a question; its stream fills as the answer is generated."""
        stream = TurnStream(turn_id)
        with self._lock:
            self._forget_old()
            self._streams[turn_id] = stream
            self._waiting.append(turn_id)
        self._jobs.put(_Job(turn_id, question, conversation_id, actor, stream))
        return stream

    def stream(self, turn_id: str) -> TurnStream | None:
        """The stream of a recent turn."""
        return self._streams.get(turn_id)

    def position(self, turn_id: str) -> int:
        """1 for the next question to be answered (one is running), 2 behind it…; 0 once it runs."""
        with self._lock:
            if turn_id not in self._waiting:
                return 0
            ahead = self._waiting.index(turn_id)
        return ahead + 1 + int(getattr(self._assistant.llm, "waiting", 0) or 0)

    def close(self) -> None:
        """Stop the worker after the current question."""
        self._jobs.put(None)

    def _conversation(self, conversation_id: str) -> Conversation:
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            # After a restart the model's memory of the conversation is gone; the shown history stays.
            conversation = self._assistant.new_conversation()
            conversation.id = conversation_id
            self._conversations[conversation_id] = conversation
        return conversation

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            with self._lock:
                self._waiting.remove(job.turn_id)
            job.stream.started = True
            try:
                self._answer(job)
            except Exception:
                logger.exception("chat turn %s failed", job.turn_id)
                job.stream.push("error", "error.turn_failed")
            finally:
                job.stream.finished = time.monotonic()
                job.stream.push("done", "")

    def _answer(self, job: _Job) -> None:
        stream = job.stream
        try:
            result = self._assistant.ask(job.question, self._conversation(job.conversation_id), actor=job.actor,
                                         on_token=lambda piece: stream.push("token", piece))
        except UserError as exc:
            logger.info("chat turn %s refused: %s", job.turn_id, type(exc).__name__)
            self._history.finish_turn(job.turn_id, "", [], "refused", None)
            stream.push("error", "error.question_refused")
            return
        except BakenError as exc:
            logger.warning("chat turn %s failed: %s", job.turn_id, type(exc).__name__)
            self._history.finish_turn(job.turn_id, "", [], "error", None)
            stream.push("error", "error.turn_failed")
            return
        self._history.finish_turn(job.turn_id, result.answer, sources_of(result), result.outcome, result.event_id)

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - KEEP_FINISHED_SECONDS
        for turn_id in [t for t, s in self._streams.items() if s.finished is not None and s.finished < cutoff]:
            del self._streams[turn_id]


def sources_of(result: TurnResult) -> list[dict[str, Any]]:
    """The sources of a turn as stored for the user's history and citation links."""
    return [{"n": s.n, "doc_id": s.doc_id, "chunk_id": s.chunk_id, "document": s.document, "title": s.title,
             "page": s.page, "heading": s.heading, "score": s.score, "text": s.text, "cited": s.cited}
            for s in result.sources]
