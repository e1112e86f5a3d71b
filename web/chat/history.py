"""Conversation history per user: the questions, answers and sources the user saw, for the history page and
for citation links that keep working after the answer has streamed."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from core.database import Database
from core.errors import BakenError, UserError

logger = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 6 * 3600
PENDING_SECONDS = 900  # a turn pending longer than a stream may last was left by a process that stopped


class TooManyPending(UserError):
    """The user already has the most questions allowed waiting or being answered."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} questions may wait for an answer at once")
        self.limit = limit


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
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the quoted source sentences shown first
    sentences: list[dict[str, Any]] = field(default_factory=list)  # the checked model sentences
    withheld: bool = False  # the model's text was withheld (the evidence alone answers)
    removed: bool = False  # text from a document deleted since was taken out of this view (`without_deleted`)


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

    def delete(self, user_id: str, conversation_id: str) -> bool:
        """Remove one of the user's conversations with its turns; False when the user has no such conversation.
        (The audit log keeps its own, redacted record of each turn, under its own retention.)"""
        with self._db.transaction() as conn:
            if conn.execute("DELETE FROM conversations WHERE id = ? AND user_id = ?",
                            (conversation_id, user_id)).rowcount == 0:
                return False
            conn.execute("DELETE FROM turns WHERE conversation_id = ? AND user_id = ?", (conversation_id, user_id))
        return True

    def purge(self, older_than: float) -> int:
        """Remove every conversation not used since ``older_than`` (epoch seconds), with its turns; returns how
        many. The history holds questions and answers as their users saw them, personal data included, so it
        is kept no longer than needed (AVG art. 5(1)(e))."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM turns WHERE conversation_id IN "
                         "(SELECT id FROM conversations WHERE updated < ?)", (older_than,))
            removed = conn.execute("DELETE FROM conversations WHERE updated < ?", (older_than,)).rowcount
            # Turns whose conversation is gone (a crash between two statements of an older version).
            conn.execute("DELETE FROM turns WHERE created < ? AND conversation_id NOT IN "
                         "(SELECT id FROM conversations)", (older_than,))
        return removed

    def conversations(self, user_id: str, limit: int = 50) -> list[ConversationSummary]:
        """The user's conversations, newest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT id, title, updated FROM conversations WHERE user_id = ? "
                                "ORDER BY updated DESC LIMIT ?", (user_id, limit)).fetchall()
        return [ConversationSummary(r["id"], r["title"], r["updated"]) for r in rows]

    def ask(self, user_id: str, conversation_id: str | None, question: str, max_pending: int) -> StoredTurn:
        """Record a question, in ``conversation_id`` when the user owns it, else in a new conversation; raises
        TooManyPending (storing nothing) when the user already has ``max_pending`` questions unanswered.

        Counted in the shared database under a per-user lock, so that parallel requests to several processes
        cannot all pass the check at once."""
        turn = StoredTurn(str(uuid.uuid4()), conversation_id or "", user_id, question, "", [], "pending", None, None)
        with self._db.transaction(lock=f"pending:{user_id}") as conn:
            row = conn.execute("SELECT COUNT(*) AS n FROM turns WHERE user_id = ? AND outcome = 'pending' "
                               "AND created > ?", (user_id, turn.created - PENDING_SECONDS)).fetchone()
            if row and int(row["n"]) >= max_pending:
                raise TooManyPending(max_pending)
            if not conversation_id or conn.execute("SELECT 1 FROM conversations WHERE id = ? AND user_id = ?",
                                                   (conversation_id, user_id)).fetchone() is None:
                turn.conversation_id = str(uuid.uuid4())
                conn.execute("INSERT INTO conversations (id, user_id, title, created, updated) "
                             "VALUES (?, ?, ?, ?, ?)", (turn.conversation_id, user_id, question[:120], turn.created,
                                                        turn.created))
            conn.execute("INSERT INTO turns (id, conversation_id, user_id, question, created) VALUES (?, ?, ?, ?, ?)",
                         (turn.id, turn.conversation_id, user_id, question, turn.created))
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (turn.created, turn.conversation_id))
        return turn

    def add_turn(self, user_id: str, conversation_id: str, question: str) -> StoredTurn:
        """Record a question whose answer is still to come."""
        turn = StoredTurn(str(uuid.uuid4()), conversation_id, user_id, question, "", [], "pending", None, None)
        with self._db.transaction() as conn:
            conn.execute("INSERT INTO turns (id, conversation_id, user_id, question, created) VALUES (?, ?, ?, ?, ?)",
                         (turn.id, conversation_id, user_id, question, turn.created))
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (turn.created, conversation_id))
        return turn

    def finish_turn(self, turn_id: str, answer: str, sources: list[dict[str, Any]], outcome: str,
                    event_id: str | None, checked: dict[str, Any] | None = None) -> None:
        """Store the answer and sources of a turn, and its evidence and checked sentences when it has them
        (``checked``: {"evidence": [...], "sentences": [...], "withheld": bool}, kept beside the sources)."""
        stored: Any = {"sources": sources, **checked} if checked else sources
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET answer = ?, sources_json = ?, outcome = ?, event_id = ? WHERE id = ?",
                         (answer, json.dumps(stored, ensure_ascii=False), outcome, event_id, turn_id))

    def set_partial(self, turn_id: str, answer: str) -> None:
        """Store the answer so far of a turn still being written, for stream requests on other processes."""
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET answer = ? WHERE id = ? AND outcome = 'pending'", (answer, turn_id))

    def set_evidence(self, turn_id: str, evidence: list[dict[str, Any]]) -> None:
        """Store the evidence of a turn still being written, for stream requests on other processes."""
        with self._db.connect() as conn:
            conn.execute("UPDATE turns SET sources_json = ? WHERE id = ? AND outcome = 'pending'",
                         (json.dumps({"sources": [], "evidence": evidence}, ensure_ascii=False), turn_id))

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


def without_deleted(turn: StoredTurn, ready: set[str], readable: set[str] | None = None) -> StoredTurn:
    """The turn as its user may still see it once a document it quoted is deleted (or replaced), or moved to a
    collection the user may not read (``readable``: the ready documents the user may read; None, all of
    ``ready``): that document's chunk text, its evidence quotes and the model sentences it supported are taken
    out, and the sources stay listed as "deleted" or "withheld". A document is deleted for a reason (a mistake,
    personal data), and moved out of reach for one: its text must not live on in every history that once cited
    it. The stored row is left as it is (the view decides), so that this also holds for documents deleted or
    moved by another process or the command line."""
    readable = ready if readable is None else readable
    gone = {int(s["n"]) for s in turn.sources if s.get("doc_id") and s["doc_id"] not in readable}
    if not gone:
        return turn
    evidence = [e for e in turn.evidence if int(e.get("n", 0)) not in gone]
    sentences = [s for s in turn.sentences if s.get("source") not in gone]
    quoted = bool(turn.evidence) or bool(turn.sentences)  # a turn of the evidence-first kind

    def hidden(source: dict[str, Any]) -> dict[str, Any]:
        if source["doc_id"] not in ready:
            return {**source, "text": "", "deleted": True}
        # Out of reach now: even its title and headings may say too much ("Integriteitsonderzoek …").
        return {**source, "text": "", "title": "", "heading": "", "document": "", "withheld": True}

    return replace(turn, sources=[hidden(s) if int(s["n"]) in gone else s for s in turn.sources],
                   evidence=evidence, sentences=sentences, removed=True,
                   # An evidence-only answer is the quotes themselves: it goes with them.
                   answer="" if quoted and not turn.withheld else turn.answer)


def _turn(r: Any) -> StoredTurn:
    stored = json.loads(r["sources_json"])
    if isinstance(stored, list):  # a turn without evidence (refused, failed, or stored before evidence existed)
        stored = {"sources": stored}
    return StoredTurn(r["id"], r["conversation_id"], r["user_id"], r["question"], r["answer"], stored["sources"],
                      r["outcome"], r["event_id"], r["feedback"], r["created"], stored.get("evidence") or [],
                      stored.get("sentences") or [], bool(stored.get("withheld")))


def keep_purging(history: History, days: int, every_seconds: float = PURGE_EVERY_SECONDS) -> threading.Event:
    """Purge conversations older than ``days`` now and then every ``every_seconds``, in a daemon thread, until
    the returned event is set. Several processes doing this at once only delete the same rows."""
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                removed = history.purge(time.time() - days * 86400)
                if removed:
                    logger.info("history: removed %d conversations older than %d days", removed, days)
            except BakenError as exc:
                logger.warning("history purge failed, will retry: %s", type(exc).__name__)
            if stop.wait(every_seconds):
                return

    threading.Thread(target=run, name="baken-history-purge", daemon=True).start()
    return stop
