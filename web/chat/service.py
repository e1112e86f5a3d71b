"""The employee's chat as a service for one user: the conversation page's turns, asking, a cited source, the
original behind it, feedback. The routes (`web/chat/routes.py`) parse the request, call one of these, and
render; the answer's stream itself is `web/chat/routes.py`'s, over `web.chat.runner`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.turn import MAX_QUESTION_CHARS, Actor
from core.errors import NotFound
from web.accounts.store import User
from web.audit.review import TURN, record_of_event
from web.auth import acting_role
from web.chat.history import StoredTurn, without_deleted
from web.context import WebContext, highlighted

STREAM_LIMIT_SECONDS = 900  # an answer still pending after this long is taken as abandoned


class QuestionRefused(Exception):
    """A question refused before anything is stored: ``key`` (and ``values``) name the message."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def turn_view(turn: StoredTurn) -> dict[str, Any]:
    """A stored turn as the templates read it."""
    return {"id": turn.id, "conversation_id": turn.conversation_id, "question": turn.question,
            "answer": turn.answer, "sources": turn.sources, "outcome": turn.outcome, "feedback": turn.feedback,
            "evidence": turn.evidence, "sentences": turn.sentences, "withheld": turn.withheld,
            "removed": turn.removed}


@dataclass(frozen=True)
class SourceView:
    """A cited source as its panel shows it."""

    source: dict[str, Any]
    text: Any  # the chunk with the evidence highlighted; empty when deleted or withheld
    deleted: bool
    withheld: bool
    downloadable: bool
    conversation_id: str


class Chat:
    """One user's chat, over the web context's history, runner, index and audit log."""

    def __init__(self, context: WebContext, user: User) -> None:
        self.context, self.user = context, user

    def seen(self, turn: StoredTurn) -> StoredTurn:
        """The turn as the user may see it now: sources deleted since, or moved out of the user's collections,
        without their text."""
        if not turn.sources:
            return turn
        return without_deleted(turn, *self.context.documents_seen(self.user))

    def conversation(self, conversation_id: str | None) -> list[dict[str, Any]]:
        """The turns of one of the user's conversations (none for a new one) as the page shows them; an answer
        still being written is marked live, so it streams on when the page is reopened (NotFound for another
        user's conversation)."""
        context = self.context
        if conversation_id and not context.history.owns(self.user.id, conversation_id):
            raise NotFound("conversation")
        turns = context.history.turns(self.user.id, conversation_id) if conversation_id else []
        if any(t.sources for t in turns):
            ready, readable = context.documents_seen(self.user)
            turns = [without_deleted(t, ready, readable) for t in turns]
        views = [turn_view(t) for t in turns]
        for view, turn in zip(views, turns):
            live = context.chat.stream(view["id"]) if view["outcome"] == "pending" else None
            # Written here: while it runs. Written elsewhere (another process): while it can still be running.
            view["live"] = live.finished is None if live is not None else \
                view["outcome"] == "pending" and time.time() - turn.created < STREAM_LIMIT_SECONDS
        return views

    def conversations(self) -> list[Any]:
        """The user's conversations, newest first."""
        return self.context.history.conversations(self.user.id)

    def ask(self, conversation_id: str | None, question: str) -> StoredTurn:
        """Store the question as a pending turn and queue it for an answer. Refused before anything is stored:
        an empty or too long question (QuestionRefused), one over the user's pending limit (TooManyPending)."""
        question = " ".join(question.split())
        if not question:
            raise QuestionRefused("error.question_refused")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionRefused("error.question_too_long", n=MAX_QUESTION_CHARS)
        context, user = self.context, self.user
        turn = context.history.ask(user.id, conversation_id or None, question, context.web.max_pending_questions)
        context.chat.submit(turn.id, question, turn.conversation_id,
                            Actor(user.id, acting_role(user, "chat"), collections=context.readable(user)))
        return turn

    def delete(self, conversation_id: str) -> None:
        """Remove one of the user's conversations from their history (NotFound when it is not theirs)."""
        if not self.context.history.delete(self.user.id, conversation_id):
            raise NotFound("conversation")

    def turn(self, turn_id: str) -> StoredTurn:
        """One of the user's turns as stored (NotFound when it is not theirs)."""
        turn = self.context.history.turn(self.user.id, turn_id)
        if turn is None:
            raise NotFound("turn")
        return turn

    def source(self, turn_id: str, n: int) -> SourceView:
        """Source [n] of one of the user's turns, with the evidence highlighted in its chunk (NotFound when the
        turn or the number is not there)."""
        turn = self.turn(turn_id)
        found = next((s for s in turn.sources if int(s["n"]) == n), None)
        if found is None:
            raise NotFound("source")
        seen = next(s for s in self.seen(turn).sources if int(s["n"]) == n)
        deleted, withheld = bool(seen.get("deleted")), bool(seen.get("withheld"))
        try:
            downloadable = not (deleted or withheld) and self.context.services.index.original(
                found["doc_id"], self.context.readable(self.user)) is not None
        except NotFound:
            downloadable = False
        return SourceView(seen, "" if deleted or withheld else highlighted(found["text"], turn.evidence, n),
                          deleted, withheld, downloadable, turn.conversation_id)

    def original(self, doc_id: str) -> tuple[str, Path]:
        """The stored original of a document the user may read: its file name and path (NotFound otherwise:
        outside the user's collections a document does not exist, as far as this user can tell)."""
        index, readable = self.context.services.index, self.context.readable(self.user)
        record = index.find(doc_id, readable) if len(doc_id) == 64 else None
        path = index.original(doc_id, readable) if record else None
        if record is None or path is None or not path.exists():
            raise NotFound("document")
        return record.name, path

    def feedback(self, turn: StoredTurn, rating: str, comment: str) -> None:
        """Useful / not useful, with the comment's personal data replaced, into the audit log and the history."""
        context = self.context
        redacted = self._redacted(comment.strip()[:1000]) or None
        if context.audit is not None:
            seq = record_of_event(context.audit, turn.conversation_id, TURN, turn.event_id or "", limit=200)
            context.audit.append_feedback(actor=self.user.id, role=acting_role(self.user, "chat"),
                                          conversation_id=turn.conversation_id, turn_seq=seq or 0, rating=rating,
                                          comment=redacted)
        context.history.set_feedback(turn.id, rating)

    def _redacted(self, text: str) -> str:
        """Free text for the audit log with personal data replaced, by the assistant's own redactor."""
        if not text:
            return text
        assistant = self.context.services.assistant
        return str(assistant.redactor.redact(text, assistant.new_conversation().vault).text)
