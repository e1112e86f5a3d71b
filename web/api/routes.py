"""The OpenAI-compatible API: `GET /v1/models` and `POST /v1/chat/completions` (streamed as server-sent events,
or one JSON answer), authenticated by API key, with errors in OpenAI's format. The routes parse, call the
gateway (web/gateway.py) and render OpenAI's wire format; Baken's own fields sit under `baken`."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.response import Stream

from assistant.llm import GenerationParams
from assistant.services import Services
from assistant.turn import TurnResult
from core.database import Database
from web.api.gateway import MODELS, ApiError, ChatRequest, Gateway, evidence_text
from web.api.keys import ApiKey, ApiKeys
from web.settings import AppSettings, web_settings

logger = logging.getLogger(__name__)
CREATED = int(time.time())  # the models' `created`: when this process started
OPEN_WEBUI_USER = "x-openwebui-user-id"  # sent with ENABLE_FORWARD_USER_INFO_HEADERS (its name/e-mail are not taken)
HTTP_CODES = {400: "invalid_body", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


def build_api(settings: AppSettings, services: Services, db: Database) -> Router:
    """The `/v1` router over the app's services, its keys in the web database ``db``."""
    web, llm = web_settings(settings), settings.llm
    defaults = GenerationParams(llm.max_tokens, llm.temperature, llm.seed, llm.repeat_penalty)
    gateway = Gateway(services.assistant, ApiKeys(db), defaults, web.api_max_waiting)
    return router(gateway, web.api_max_request_kb * 1024)


def router(gateway: Gateway, max_request_bytes: int) -> Router:
    """The `/v1` routes over ``gateway``."""

    @get("/models", sync_to_thread=True)
    def models(request: Request[Any, Any, Any]) -> dict[str, Any]:
        """The two models, for any valid key."""
        gateway.authorize(request.headers.get("authorization"))
        return {"object": "list", "data": [{"id": name, "object": "model", "created": CREATED, "owned_by": "baken",
                                            "description": text} for name, text in MODELS.items()]}

    @post("/chat/completions", status_code=200)
    async def completions(request: Request[Any, Any, Any]) -> Response[Any]:
        """A chat completion: the whole answer, or (``stream``) its chunks as server-sent events."""
        key = await asyncio.to_thread(gateway.authorize, request.headers.get("authorization"))
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_request_bytes:
            raise ApiError(413, f"De aanvraag is groter dan {max_request_bytes // 1024} KB.",
                           code="request_too_large")
        body = await request.body()
        if len(body) > max_request_bytes:
            raise ApiError(413, f"De aanvraag is groter dan {max_request_bytes // 1024} KB.",
                           code="request_too_large")
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "De aanvraag is geen geldige JSON.", code="invalid_json") from exc
        chat = ChatRequest.parse(decoded)
        if chat.user is None and request.headers.get(OPEN_WEBUI_USER):  # Open WebUI's forwarded user id
            chat = replace(chat, user=request.headers[OPEN_WEBUI_USER])
        gateway.readable(chat, key)  # 403 before the call takes a place in the waiting room
        gateway.admit()
        if chat.stream:
            return await _streamed(gateway, chat, key)
        result = await asyncio.to_thread(gateway.answer, chat, key)
        return Response(_completion(chat, result, gateway.model_name), media_type="application/json")

    return Router(path="/v1", route_handlers=[models, completions], include_in_schema=False,
                  exception_handlers={ApiError: _api_error, HTTPException: _http_error})


async def _streamed(gateway: Gateway, chat: ChatRequest, key: ApiKey) -> Response[Any]:
    """Run the turn in a thread and stream its events; the turn runs (and is logged) to its end even when the
    client goes away. Until the first event an error is still a proper status (503 for a model that is down)."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def push(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(events.put_nowait, (kind, value))
        except RuntimeError:  # the server stopped meanwhile
            pass

    def run() -> None:
        try:
            result = gateway.answer(chat, key, on_token=lambda piece: push("token", piece),
                                    on_evidence=lambda result: push("evidence", result))
        except ApiError as exc:
            push("error", exc)
        except Exception as exc:  # never a silent end of the stream
            logger.exception("API turn failed")
            push("error", ApiError(500, "Het antwoord kon niet worden gemaakt.", "server_error", "turn_failed"))
            del exc
        else:
            push("done", result)

    threading.Thread(target=run, name="baken-api-turn", daemon=True).start()
    first = await events.get()
    if first[0] == "error":
        raise first[1]
    return Stream(_chunks(chat, first, events, gateway.model_name), media_type="text/event-stream",
                  headers={"X-Accel-Buffering": "no"})


async def _chunks(chat: ChatRequest, first: tuple[str, Any], events: asyncio.Queue[tuple[str, Any]],
                  model_name: str) -> AsyncIterator[str]:
    """OpenAI's chunks: the role first, then the text, then the finish (with `baken`), usage, `[DONE]`."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": chat.model,
                "system_fingerprint": model_name,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}
        if chat.include_usage:
            body["usage"] = None
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    opening: dict[str, Any] = {"role": "assistant", "content": ""}
    if first[0] == "evidence":  # the evidence is chosen before the model starts: shown at once
        opening.update(content=evidence_text(first[1]), baken={"evidence": first[1].evidence_records()})
    yield chunk(opening)
    event = first if first[0] != "evidence" else await events.get()
    while True:
        kind, value = event
        if kind == "token":
            yield chunk({"content": value})
        elif kind == "error":
            yield f"data: {json.dumps(value.body(), ensure_ascii=False)}\n\n"
            return
        elif kind == "done":
            result: TurnResult = value
            yield chunk({"baken": _extension(result)}, _finish(result))
            if chat.include_usage:
                body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": chat.model,
                        "system_fingerprint": model_name, "choices": [], "usage": _usage(result)}
                yield f"data: {json.dumps(body)}\n\n"
            yield "data: [DONE]\n\n"
            return
        event = await events.get()


def _completion(chat: ChatRequest, result: TurnResult, model_name: str) -> dict[str, Any]:
    """The non-streamed answer, OpenAI's `chat.completion` with `choices[0].message.baken`."""
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": chat.model, "system_fingerprint": model_name,
            "choices": [{"index": 0, "logprobs": None, "finish_reason": _finish(result),
                         "message": {"role": "assistant", "content": evidence_text(result) + result.answer,
                                     "refusal": None,
                                     "baken": _extension(result)}}],
            "usage": _usage(result)}


def _extension(result: TurnResult) -> dict[str, Any]:
    """Baken's fields: the audit event, the outcome, and for `baken` the evidence, sources and checked sentences."""
    extension: dict[str, Any] = {"event_id": result.event_id, "outcome": result.outcome,
                                 "redactions": len(result.findings)}
    if result.mode != "relay":
        extension.update(
            evidence=result.evidence_records(), withheld=result.withheld,
            sources=[s.record() for s in result.sources],
            sentences=[s.record() for s in result.sentences])
    return extension


def _usage(result: TurnResult) -> dict[str, int]:
    return {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens}


def _finish(result: TurnResult) -> str:
    return "length" if result.completion_tokens >= result.params.max_tokens else "stop"


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    logger.info("API request refused (%d): %s", exc.status, exc.code)
    return Response(exc.body(), status_code=exc.status, headers=exc.headers, media_type="application/json")


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own refusals (a body over the app's limit, a wrong method) in OpenAI's format."""
    if exc.status_code >= 500:
        logger.error("API request failed: %s", exc.detail)
        return _api_error(request, ApiError(exc.status_code, "Interne fout.", "server_error", "internal_error"))
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")}
    return _api_error(request, ApiError(exc.status_code, str(exc.detail), code=HTTP_CODES.get(exc.status_code),
                                        headers=headers))
