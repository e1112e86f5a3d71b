"""Conversation history per user: the questions, answers and sources the user saw, for the history page and
for citation links that keep working after the answer has streamed."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from baken.database import Database


@dataclass
class StoredTurn:
    """One question and its answer as the user saw it."""

    id: str
    conversation_id: str
    user_id: str
    question: str
    answer: str
    sources: list[dict[str, Any]]
    outcome: str
    event_id: str | None
    feedback: str | None
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation in the history list."""

    id: str
    title: str
    updated: float


class History:
    """Conversations and turns in the web database; every read is scoped to its user."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, user_id: str, title: str) -> str:
        """A new conversation; returns its id."""
        cid, now = str(uuid.uuid4()), time.time()
        with self._db.connect() as conn:
            conn.execute("INSERT INTO conversations (id, user_id, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                         (cid, user_id, title[:120], now, now))
        return cid

    def owns(self, user_id: str, conversation_id: str) -> bool:
        """True when the conversation belongs to the user."""
        with self._db.connect() as conn:
            return conn.execute("SELECT 1 FROM conversations WHERE id = ? AND user_id = ?",
                                (conversation_id, user_id)).fetchone() is not None

    def conversations(self, user_id: str, limit: int = 50) -> list[ConversationSummary]:
        """The user's conversations, newest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT id, title, updated FROM conversations WHERE user_id = ? "
                                "ORDER BY updated DESC LIMIT ?", (user_id, limit)).fetchall()
        return [ConversationSummary(r["id"], r["title"], r["updated"]) for r in rows]

    def add_turn(self, user_id: str, conversation_id: str, question: str) -> StoredTurn:
        """Record a question whose answer is still to come."""
        turn = StoredTurn(str(uuid.uuid4()), conversation_id, user_id, question, "", [], "pending", None, None)
        with self._db.transaction() as conn:
            conn.execute("INSERT INTO turns (id, conversation_id, user_id, question, created) VALUES (?, ?, ?, ?, ?)",
                         (turn.id, conversation_id, user_id, question, turn.created))
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (turn.created, conversation_id))
        return turn

    def finish_turn(self, turn_id: str, answer: str, sources: list[dict[str, Any]], outcome: str,
                    event_id: str | None) -> None:
        """Store the answer and sources of a turn."""
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET answer = ?, sources_json = ?, outcome = ?, event_id = ? WHERE id = ?",
                         (answer, json.dumps(sources, ensure_ascii=False), outcome, event_id, turn_id))

    def set_partial(self, turn_id: str, answer: str) -> None:
        """Store the answer so far of a turn still being written, for stream requests on other processes."""
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET answer = ? WHERE id = ? AND outcome = 'pending'", (answer, turn_id))

    def set_feedback(self, turn_id: str, rating: str) -> None:
        """Remember that the user rated this answer."""
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET feedback = ? WHERE id = ?", (rating, turn_id))

    def turn(self, user_id: str, turn_id: str) -> StoredTurn | None:
        """One of the user's turns."""
        with self._db.connect() as conn:
            r = conn.execute("SELECT * FROM turns WHERE id = ? AND user_id = ?", (turn_id, user_id)).fetchone()
        return _turn(r) if r else None

    def turns(self, user_id: str, conversation_id: str) -> list[StoredTurn]:
        """The user's turns of one conversation, oldest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM turns WHERE conversation_id = ? AND user_id = ? ORDER BY created",
                                (conversation_id, user_id)).fetchall()
        return [_turn(r) for r in rows]


def _turn(r: Any) -> StoredTurn:
    return StoredTurn(r["id"], r["conversation_id"], r["user_id"], r["question"], r["answer"],
                      json.loads(r["sources_json"]), r["outcome"], r["event_id"], r["feedback"], r["created"])
