"""The employee's chat: ask, stream the answer (SSE), open a cited source, give feedback, see history. Each route
parses the request, calls `web.chat.service.Chat`, and renders; the stream follows `web.chat.runner`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import NotFound
from web.auth import current_session_of_scope, requires
from web.chat.history import TooManyPending
from web.chat.runner import PARTIAL_SECONDS
from web.chat.service import STREAM_LIMIT_SECONDS, Chat, QuestionRefused, turn_view
from web.context import Form, ctx, escape, is_htmx, language, render, session_of
from web.documents.indexing import clean_filename
from web.i18n import translator

logger = logging.getLogger(__name__)
CHAT = [requires("chat")]
POLL_SECONDS = 0.05
QUEUED_POLL_SECONDS = 1.0  # a queued turn only needs its place refreshed; fast polls steal llama.cpp's CPU
RETRY_PENDING_SECONDS = 10  # Retry-After when the user's pending questions are at the limit


def _chat(request: Request[Any, Any, Any]) -> Chat:
    return Chat(ctx(request), session_of(request).user)


def _chat_page(request: Request[Any, Any, Any], conversation_id: str | None) -> Template:
    chat = _chat(request)
    try:
        turns = chat.conversation(conversation_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    return render(request, "pages/chat.html", section="chat", conversation_id=conversation_id,
                  conversations=chat.conversations(), turns=turns)


@get("/chat", guards=CHAT, sync_to_thread=True)
def chat_page(request: Request[Any, Any, Any]) -> Template:
    """A new conversation, with the user's earlier conversations beside it."""
    return _chat_page(request, None)


@get("/chat/{conversation_id:str}", guards=CHAT, sync_to_thread=True)
def conversation_page(request: Request[Any, Any, Any], conversation_id: FromPath[str]) -> Template:
    """One of the user's conversations."""
    return _chat_page(request, conversation_id)


@post("/chat/ask", guards=CHAT, sync_to_thread=True)
def ask(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    """Queue a question; htmx gets the turn that streams its answer, a plain form the conversation page.
    An empty or too long question (400) and one over the user's pending limit (429) are refused before
    anything is stored."""
    chat, t = _chat(request), translator(language(request))
    try:
        turn = chat.ask(data.get("conversation_id"), data.get("question") or "")
    except QuestionRefused as refused:
        return _refused(request, 400, "error.bad_request", t(refused.key, **refused.values))
    except TooManyPending:
        limit = ctx(request).web.max_pending_questions
        return _refused(request, 429, "error.too_many", t("error.too_many_pending", n=limit),
                        {"Retry-After": str(RETRY_PENDING_SECONDS)})
    if not is_htmx(request):
        return Redirect(f"/chat/{turn.conversation_id}", status_code=303)
    return render(request, "partials/turn_live.html", turn=turn_view(turn), conversation_id=turn.conversation_id,
                  conversations=chat.conversations())


def _refused(request: Request[Any, Any, Any], status: int, title: str, message: str,
             headers: dict[str, str] | None = None) -> Template:
    """A refused question: the error page, or for htmx the message alone (the page shows it in the form's
    alert, not as a new turn)."""
    if is_htmx(request):
        response = render(request, "partials/ask_error.html", status, message=message)
    else:
        response = render(request, "pages/error.html", status, title=title, message=message)
    response.headers.update(headers or {})
    return response


@post("/chat/{conversation_id:str}/delete", guards=CHAT, sync_to_thread=True)
def delete_conversation(request: Request[Any, Any, Any], conversation_id: FromPath[str]) -> Redirect:
    """Remove one of the user's own conversations from their history (the audit log keeps its own record)."""
    try:
        _chat(request).delete(conversation_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    return Redirect("/chat", status_code=303)


class StreamLimit:
    """Route middleware of the stream: at most `max_streams_per_session` open at once per session on this
    process (429 beyond), the slot held exactly as long as the response is being sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = current_session_of_scope(scope)
        if session is None:  # the guard answers
            await self.app(scope, receive, send)
            return
        context = scope["app"].state.baken
        if not context.streams.acquire(session.csrf, context.web.max_streams_per_session):
            message = translator(context.web.language)("error.too_many_streams").encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5"),
                                    (b"content-length", str(len(message)).encode())]})
            await send({"type": "http.response.body", "body": message, "more_body": False})  # ASGI's default
            return
        try:
            await self.app(scope, receive, send)
        finally:
            context.streams.release(session.csrf)


@get("/chat/turns/{turn_id:str}/stream", guards=CHAT, middleware=[StreamLimit])
async def stream(request: Request[Any, Any, Any], turn_id: FromPath[str]) -> ServerSentEvent:
    """The answer as server-sent events: `status` (queue place), `token` (escaped text), then `done`
    (the finished turn, with linked citations, sources and the feedback form)."""
    context, user, chat = ctx(request), session_of(request).user, _chat(request)
    stored = await asyncio.to_thread(context.history.turn, user.id, turn_id)
    if stored is None:
        raise NotFoundException()
    t = translator(language(request))
    csrf = session_of(request).csrf
    env = request.app.template_engine.engine  # type: ignore[union-attr]

    def finished_html() -> str:
        turn = chat.seen(chat.turn(turn_id))
        return env.get_template("partials/turn.html").render(turn=turn_view(turn), t=t, csrf=csrf)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        live = context.chat.stream(turn_id)
        if live is None:  # answered by another process, long ago, or before a restart: follow the stored turn
            async for message in _follow_stored(context, user.id, turn_id, t, env):
                yield message
            yield ServerSentEventMessage(event="done", data=await asyncio.to_thread(finished_html))
            return
        sent, last_position, cleared, deadline = 0, -1, False, time.monotonic() + STREAM_LIMIT_SECONDS
        answering = False
        while time.monotonic() < deadline:
            events_now = live.events[sent:]
            for event, data in events_now:
                if event == "evidence":
                    cleared = True
                    yield _evidence_message(env, json.loads(data), turn_id, t)
                    yield ServerSentEventMessage(event="status", data=str(escape(t("chat.checking"))))
                elif event == "token":
                    if not answering:
                        answering = cleared = True
                        yield ServerSentEventMessage(event="status", data="")
                    yield ServerSentEventMessage(event="token", data=f"<span>{escape(data)}</span>")
                elif event == "error":
                    yield ServerSentEventMessage(event="status", data=str(escape(t(data))))
                elif event == "done":
                    yield ServerSentEventMessage(event="done", data=await asyncio.to_thread(finished_html))
                    return
            sent += len(events_now)
            if not events_now:
                position = context.chat.position(turn_id)
                if position != last_position and not cleared:
                    last_position = position
                    text = t("chat.queue", n=position) if position > 0 else t("chat.writing")
                    yield ServerSentEventMessage(event="status", data=str(escape(text)))
                await asyncio.sleep(QUEUED_POLL_SECONDS if last_position and last_position > 0 else POLL_SECONDS)

    return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _follow_stored(context: Any, user_id: str, turn_id: str,
                         t: Any, env: Any) -> AsyncIterator[ServerSentEventMessage]:
    """Events for a turn another process is answering, from what it stores: the evidence once chosen, then the
    answer so far (every PARTIAL_SECONDS); returns once the turn is finished (or STREAM_LIMIT_SECONDS after it
    was asked)."""
    sent, status_shown, evidence_shown = "", False, False
    while True:
        turn = await asyncio.to_thread(context.history.turn, user_id, turn_id)
        if turn is None or turn.outcome != "pending" or time.time() - turn.created > STREAM_LIMIT_SECONDS:
            return  # finished, or abandoned by a process that stopped
        if turn.evidence and not evidence_shown:
            evidence_shown = status_shown = True
            yield _evidence_message(env, turn.evidence, turn_id, t)
            yield ServerSentEventMessage(event="status", data=str(escape(t("chat.checking"))))
        if turn.answer.startswith(sent) and len(turn.answer) > len(sent):
            if not status_shown:
                status_shown = True
                yield ServerSentEventMessage(event="status", data="")
            yield ServerSentEventMessage(event="token", data=f"<span>{escape(turn.answer[len(sent):])}</span>")
            sent = turn.answer
        elif not status_shown and not sent:
            status_shown = True
            yield ServerSentEventMessage(event="status", data=str(escape(t("chat.writing"))))
        await asyncio.sleep(PARTIAL_SECONDS)


def _evidence_message(env: Any, evidence: list[dict[str, Any]], turn_id: str, t: Any) -> ServerSentEventMessage:
    """The evidence block as an SSE event (shown before the model's answer)."""
    html = env.get_template("partials/evidence.html").render(evidence=evidence, turn_id=turn_id, t=t)
    return ServerSentEventMessage(event="evidence", data=html)


@get("/chat/turns/{turn_id:str}/sources/{n:int}", guards=[requires("sources")], sync_to_thread=True)
def source(request: Request[Any, Any, Any], turn_id: FromPath[str], n: FromPath[int]) -> Template:
    """A cited source: its chunk text, document title, page, and a link to download the original."""
    try:
        view = _chat(request).source(turn_id, n)
    except NotFound as exc:
        raise NotFoundException() from exc
    template = "partials/source.html" if is_htmx(request) else "pages/source.html"
    return render(request, template, section="chat", source=view.source, downloadable=view.downloadable,
                  deleted=view.deleted, withheld=view.withheld, conversation_id=view.conversation_id,
                  text=view.text)


@post("/chat/turns/{turn_id:str}/feedback", guards=CHAT, sync_to_thread=True)
def feedback(request: Request[Any, Any, Any], turn_id: FromPath[str], data: Form) -> Template | Redirect:
    """Useful / not useful, with an optional comment, into the audit log."""
    chat = _chat(request)
    try:
        turn = chat.turn(turn_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    rating = data.get("rating")
    if rating not in ("useful", "not_useful"):
        return render(request, "partials/feedback_form.html", 400, turn=turn_view(turn))
    chat.feedback(turn, rating, data.get("comment") or "")
    if not is_htmx(request):
        return Redirect(f"/chat/{turn.conversation_id}", status_code=303)
    return render(request, "partials/feedback_done.html")


@get("/documents/{doc_id:str}/original", guards=[requires("sources")], sync_to_thread=True)
def original(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Response[bytes]:
    """The stored original of a document, always as a download (never rendered in our origin)."""
    try:
        name, path = _chat(request).original(doc_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    name = quote(clean_filename(name))
    return Response(path.read_bytes(), media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"})


ROUTES = [chat_page, conversation_page, ask, delete_conversation, stream, source, feedback, original]
