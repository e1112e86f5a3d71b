"""Runs chat turns off the event loop: worker threads (one by default) take questions in order, stream tokens
into a buffer that the SSE endpoint reads (and can re-read after a reconnect), and store the finished answer.

Several processes: the answer so far is also written to the shared history every PARTIAL_SECONDS, so that a
stream request that reaches another process can follow it, and the model's memory of a conversation is
rebuilt from the shared history whenever another process answered its last turn (`Assistant.resume`)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.turn import Actor, Assistant, Conversation, TurnResult
from core.errors import BakenError, UserError
from web.chat.history import History

logger = logging.getLogger(__name__)
KEEP_FINISHED_SECONDS = 600
KEEP_CONVERSATIONS = 500  # conversations whose model memory is kept; older ones are rebuilt when needed
PARTIAL_SECONDS = 0.5  # how often the answer so far is written to the shared history
REMEMBERED = ("answered", "no_source")  # outcomes whose exchange the model remembers


@dataclass
class TurnStream:
    """The events of one turn so far: ("evidence", JSON of the evidence records), ("token", text),
    ("error", message_key), ("done", "")."""

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
    """A FIFO of questions answered by ``workers`` threads; knows each waiting question's place in the queue.

    One worker suits in-process llama.cpp (one model answers one question at a time anyway). With a model
    server that has parallel slots (llama-server -np N, vLLM), as many workers as slots answer at once.
    """

    def __init__(self, assistant: Assistant, history: History, workers: int = 1) -> None:
        self._assistant = assistant
        self._history = history
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._waiting: list[str] = []
        self._streams: dict[str, TurnStream] = {}
        self._conversations: dict[str, tuple[tuple[str, ...], Conversation]] = {}
        self._lock = threading.Lock()
        self._memory_lock = threading.Lock()
        self._workers = max(1, workers)
        for n in range(self._workers):
            threading.Thread(target=self._work, name=f"baken-chat-{n}", daemon=True).start()

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
        """1 for the next question to be answered (the workers are busy), 2 behind it…; 0 once it runs."""
        with self._lock:
            if turn_id not in self._waiting:
                return 0
            ahead = self._waiting.index(turn_id)
        return ahead // self._workers + 1 + self._assistant.llm.waiting

    def close(self) -> None:
        """Stop the workers once the questions already queued are answered."""
        for _ in range(self._workers):
            self._jobs.put(None)

    def _conversation(self, job: _Job) -> tuple[Conversation, tuple[str, ...]]:
        """The model's memory of the conversation, and the ids of the turns it holds: kept from this process's
        last turn when that was the last turn anywhere, else rebuilt from the shared history (after a restart,
        or another process's turn)."""
        earlier = [t for t in self._history.turns(job.actor.user_id, job.conversation_id)
                   if t.outcome in REMEMBERED and t.id != job.turn_id]
        key = tuple(t.id for t in earlier)
        with self._memory_lock:
            cached = self._conversations.pop(job.conversation_id, None)
        if cached is not None and cached[0] == key:
            return cached[1], key
        return self._assistant.resume(job.conversation_id, [(t.question, t.answer) for t in earlier]), key

    def _remember(self, job: _Job, conversation: Conversation, key: tuple[str, ...]) -> None:
        """Keep the memory for the next turn, keyed by the turns it holds (a turn another process finishes
        meanwhile changes the history's key, so the next turn rebuilds rather than use a stale memory)."""
        with self._memory_lock:
            self._conversations[job.conversation_id] = (key, conversation)
            while len(self._conversations) > KEEP_CONVERSATIONS:
                del self._conversations[next(iter(self._conversations))]

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
        shown: list[str] = []
        flushed = float("-inf")  # the first piece is stored at once, then every PARTIAL_SECONDS

        def on_token(piece: str) -> None:
            nonlocal flushed
            stream.push("token", piece)
            shown.append(piece)
            if time.monotonic() - flushed >= PARTIAL_SECONDS:
                flushed = time.monotonic()
                try:
                    self._history.set_partial(job.turn_id, "".join(shown))
                except BakenError as exc:  # only other processes' view lags; the answer goes on
                    logger.warning("chat turn %s: answer so far not stored: %s", job.turn_id, type(exc).__name__)

        def on_evidence(result: TurnResult) -> None:
            records = result.evidence_records()
            stream.push("evidence", json.dumps(records, ensure_ascii=False))
            try:
                self._history.set_evidence(job.turn_id, records)
            except BakenError as exc:  # only other processes' view lags; the answer goes on
                logger.warning("chat turn %s: evidence not stored: %s", job.turn_id, type(exc).__name__)

        try:
            conversation, earlier = self._conversation(job)
            result = self._assistant.ask(job.question, conversation, actor=job.actor, on_token=on_token,
                                         on_evidence=on_evidence)
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
        self._history.finish_turn(job.turn_id, result.answer, sources_of(result), result.outcome, result.event_id,
                                  checked_of(result))
        if result.outcome in REMEMBERED:  # what Assistant.ask added to the memory
            self._remember(job, conversation, (*earlier, job.turn_id))

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - KEEP_FINISHED_SECONDS
        for turn_id in [t for t, s in self._streams.items() if s.finished is not None and s.finished < cutoff]:
            del self._streams[turn_id]


class StreamSlots:
    """The answer streams each session holds open on this process, so that one session cannot hold them all."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, limit: int) -> bool:
        """Take a slot for ``key``; False (nothing taken) when it already holds ``limit``."""
        with self._lock:
            if self._open.get(key, 0) >= limit:
                return False
            self._open[key] = self._open.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        """Give a slot back."""
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def held(self, key: str) -> int:
        """Slots ``key`` holds now."""
        return self._open.get(key, 0)


def checked_of(result: TurnResult) -> dict[str, Any] | None:
    """The evidence and checked sentences of an answered turn, as stored beside its sources."""
    if result.outcome != "answered":
        return None
    return {"evidence": result.evidence_records(), "sentences": [s.record() for s in result.sentences],
            "withheld": result.withheld}


def sources_of(result: TurnResult) -> list[dict[str, Any]]:
    """The sources of a turn as stored for the user's history and citation links."""
    return [s.record() for s in result.sources]
