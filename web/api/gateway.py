"""The OpenAI-compatible gateway's service: who calls (API key, rate, waiting room), what they ask (a parsed chat
request) and the turn that answers it, through the same Assistant (model `baken`) or guarded Relay (model
`baken-guarded`) and the same audit journal as every other turn.

The gateway keeps nothing of a caller's messages: the client keeps its own history, and what Baken stores is
the audit record (redacted), as for every turn."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.llm import GenerationParams, Message
from assistant.relay import ConversationTooLong, Relay
from assistant.turn import MAX_QUESTION_CHARS, Actor, Assistant, TurnResult
from core.errors import AuditError, BackendUnavailable, BakenError, RedactionError, UserError
from ingestion.collection import NAME, OPEN
from web.api.keys import ApiKey, ApiKeys
from web.i18n import LANGUAGES, translator

logger = logging.getLogger(__name__)
MODELS = {
    "baken": "Baken's full turn: the municipality's documents, checked and cited ([n] and `baken` fields).",
    "baken-guarded": "The caller's own conversation, personal data redacted and restored, logged; no documents.",
}
ROLE = "api"
RETRY_WAITING_SECONDS = 5  # Retry-After when this process's waiting room is full
MAX_GUARDED_MESSAGES = 200


class ApiError(Exception):
    """A refusal in OpenAI's error format: status, `type`, `code`, `param`, message, and headers."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body OpenAI's clients read."""
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}


@dataclass(frozen=True)
class ChatRequest:
    """The parts of a chat completion request that Baken uses."""

    model: str
    messages: list[Message]
    stream: bool = False
    include_usage: bool = False
    user: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()  # the extension `baken.collections`: search only these (of the key's)

    @classmethod
    def parse(cls, body: Any) -> ChatRequest:
        """The request from a decoded JSON body; ApiError 400 names the field that is wrong."""
        if not isinstance(body, dict):
            raise ApiError(400, "De aanvraag moet een JSON-object zijn.", code="invalid_body")
        model = body.get("model")
        if model not in MODELS:
            raise ApiError(404 if isinstance(model, str) else 400,
                           f"Onbekend model {model!r}: kies {' of '.join(MODELS)}.", code="model_not_found",
                           param="model")
        raw = body.get("messages")
        if not isinstance(raw, list) or not raw:
            raise ApiError(400, "`messages` moet een niet-lege lijst zijn.", code="invalid_messages", param="messages")
        messages = [_message(m, n) for n, m in enumerate(raw)]
        options = body.get("stream_options") or {}
        stop = body.get("stop") or ()
        stop = (stop,) if isinstance(stop, str) else stop
        if not isinstance(options, dict) or not isinstance(stop, list | tuple) or \
                not all(isinstance(s, str) for s in stop):
            raise ApiError(400, "`stream_options` of `stop` is ongeldig.", param="stream_options")
        user = body.get("user")
        extension = body.get("baken") or {}
        collections = extension.get("collections") or [] if isinstance(extension, dict) else None
        if not isinstance(collections, list) or \
                not all(isinstance(c, str) and NAME.match(c.strip().lower()) for c in collections):
            raise ApiError(400, "`baken.collections` moet een lijst met collectienamen zijn.", param="baken.collections")
        return cls(model=model, messages=messages, stream=bool(body.get("stream")),
                   include_usage=bool(options.get("include_usage")),
                   user=user if isinstance(user, str) and user else None,
                   max_tokens=_number(body, "max_completion_tokens", int) or _number(body, "max_tokens", int),
                   temperature=_number(body, "temperature", float), seed=_number(body, "seed", int),
                   stop=tuple(stop)[:4], collections=tuple(sorted({c.strip().lower() for c in collections})))


def _message(raw: Any, n: int) -> Message:
    """One message; content as a string or as OpenAI's list of text parts."""
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        raise ApiError(400, f"Bericht {n} heeft geen `role`.", param=f"messages[{n}]")
    content = raw.get("content")
    if isinstance(content, list):  # [{"type": "text", "text": ...}]: other parts (images) are not taken
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                   for p in content):
            raise ApiError(400, f"Bericht {n}: alleen tekst wordt aangenomen.", param=f"messages[{n}].content")
        content = "\n".join(p["text"] for p in content)
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise ApiError(400, f"Bericht {n}: `content` moet tekst zijn.", param=f"messages[{n}].content")
    role = "system" if raw["role"] == "developer" else raw["role"]
    if role not in ("system", "user", "assistant"):
        raise ApiError(400, f"Bericht {n}: rol {raw['role']!r} wordt niet ondersteund.", param=f"messages[{n}].role")
    return {"role": role, "content": content}


def _number(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise ApiError(400, f"`{name}` moet een getal zijn.", param=name)
    return kind(value)


@dataclass
class Waiting:
    """The calls this process runs or holds for the model; beyond ``limit`` new ones are refused."""

    limit: int
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> bool:
        """Take a place; False when the room is full."""
        with self._lock:
            if self._count >= self.limit:
                return False
            self._count += 1
            return True

    def leave(self) -> None:
        """Give a place back."""
        with self._lock:
            self._count -= 1


class Gateway:
    """Checks the caller, then answers a chat request with a Baken turn."""

    def __init__(self, assistant: Assistant, keys: ApiKeys, defaults: GenerationParams, max_waiting: int) -> None:
        self._assistant = assistant
        self._defaults = defaults
        self._relay = Relay(assistant.llm, assistant.redactor, assistant.journal,
                            lambda: assistant.new_conversation().vault, self._defaults)
        self.keys = keys
        self._waiting = Waiting(max_waiting)

    @property
    def model_name(self) -> str:
        """The name of the model behind both API models."""
        return self._assistant.llm.name

    def authorize(self, authorization: str | None) -> ApiKey:
        """The key of an `Authorization: Bearer` header, counted against its rate; ApiError 401 or 429."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Geen API-sleutel: stuur `Authorization: Bearer <sleutel>`.",
                           "authentication_error", "missing_api_key")
        try:
            key = self.keys.authenticate(token.strip())
            wait = self.keys.take_call(key) if key is not None else 0.0
        except BakenError as exc:
            raise ApiError(503, "De sleuteldatabase is niet bereikbaar.", "server_error", "unavailable",
                           headers={"Retry-After": "10"}) from exc
        if key is None:
            raise ApiError(401, "Onbekende of ingetrokken API-sleutel.", "authentication_error", "invalid_api_key")
        if wait:
            raise ApiError(429, f"Te veel aanvragen met deze sleutel (meer dan {key.rate_per_minute} per minuut).",
                           "rate_limit_error", "rate_limit_exceeded", headers={"Retry-After": str(int(wait + 0.999))})
        return key

    @staticmethod
    def readable(request: ChatRequest, key: ApiKey) -> frozenset[str]:
        """The collections this call searches: the key's (`algemeen` and those it names), or those the request
        names in `baken.collections`; ApiError 403 for one the key may not read."""
        allowed = frozenset({OPEN, *key.collections})
        refused = [c for c in request.collections if c not in allowed]
        if refused:
            raise ApiError(403, f"Deze sleutel mag de collectie {refused[0]!r} niet lezen (wel: "
                           f"{', '.join(sorted(allowed))}).", "permission_error", "collection_not_allowed",
                           "baken.collections")
        return frozenset(request.collections) or allowed

    def admit(self) -> None:
        """Take a place in the waiting room (ApiError 429 when it is full); `answer` gives it back."""
        if not self._waiting.enter():
            raise ApiError(429, "Baken is druk: de wachtrij is vol. Probeer het zo opnieuw.", "rate_limit_error",
                           "queue_full", headers={"Retry-After": str(RETRY_WAITING_SECONDS)})

    def answer(self, request: ChatRequest, key: ApiKey, on_token: Callable[[str], None] | None = None,
               on_evidence: Callable[[TurnResult], None] | None = None) -> TurnResult:
        """Run the turn (in the caller's thread; admitted first) and give back its place; errors as ApiError."""
        try:
            actor = Actor(key.actor, ROLE, client_user=request.user, channel=f"api:{request.model}",
                          collections=self.readable(request, key))
            if request.model == "baken":
                return self._ask(request, actor, on_token, on_evidence)
            return self._relay.relay(request.messages, actor, self._params(request), on_token)
        except ConversationTooLong as exc:
            raise ApiError(400, str(exc), code="context_length_exceeded", param="messages") from exc
        except UserError as exc:
            raise ApiError(400, str(exc), code="invalid_request", param="messages") from exc
        except (BackendUnavailable, AuditError, RedactionError) as exc:
            logger.warning("API turn failed: %s", type(exc).__name__)
            raise ApiError(503, _UNAVAILABLE.get(type(exc), _UNAVAILABLE[BackendUnavailable]), "server_error",
                           "unavailable", headers={"Retry-After": "10"}) from exc
        except BakenError as exc:
            logger.warning("API turn failed: %s", type(exc).__name__)
            raise ApiError(500, "Het antwoord kon niet worden gemaakt.", "server_error", "turn_failed") from exc
        finally:
            self._waiting.leave()

    def _ask(self, request: ChatRequest, actor: Actor, on_token: Callable[[str], None] | None,
             on_evidence: Callable[[TurnResult], None] | None) -> TurnResult:
        """The full turn on the last user message; the earlier user/assistant pairs are the conversation,
        redacted again into one vault (`Assistant.resume`), so placeholders agree across them."""
        talk = [m for m in request.messages if m["role"] != "system"]
        if not talk or talk[-1]["role"] != "user":
            raise UserError("the last message must be the user's")
        if len(" ".join(talk[-1]["content"].split())) > MAX_QUESTION_CHARS:
            raise ConversationTooLong(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        exchanges, question = [], None
        for message in talk[:-1]:
            if message["role"] == "user":
                question = message["content"]
            elif question is not None:
                exchanges.append((question, without_evidence(message["content"])))
                question = None
        conversation = self._assistant.resume(str(uuid.uuid4()), exchanges[-4:])
        return self._assistant.ask(talk[-1]["content"], conversation, actor, on_token=on_token,
                                   on_evidence=on_evidence)

    def _params(self, request: ChatRequest) -> GenerationParams:
        """The caller's sampling within Baken's bounds (at most the configured answer length)."""
        if len(request.messages) > MAX_GUARDED_MESSAGES:
            raise ConversationTooLong(f"at most {MAX_GUARDED_MESSAGES} messages; the conversation has more")
        d = self._defaults
        max_tokens = min(request.max_tokens or d.max_tokens, d.max_tokens)
        temperature = d.temperature if request.temperature is None else min(max(request.temperature, 0.0), 2.0)
        return GenerationParams(max(1, max_tokens), temperature, d.seed if request.seed is None else request.seed,
                                d.repeat_penalty, request.stop)


def evidence_text(result: TurnResult) -> str:
    """The evidence as Markdown ahead of a `baken` answer's text, for clients that do not read the `baken` field
    (Open WebUI shows it as the web UI does: *Uit de documenten* first); empty in extractive mode, whose answer
    is the evidence itself, and without evidence."""
    if result.mode == "extractive" or not result.evidence:
        return ""
    lines = [f"**{translator(result.language if result.language in LANGUAGES else 'nl')('chat.evidence')}**"]
    for e in result.evidence_records():
        where = e["title"] + (f", {e['heading']}" if e["heading"] and e["heading"] != e["title"] else "")
        page = f", p. {e['page']}" if e["page"] else ""
        lines.append(f"- “{' '.join(e['text'].split())}” [{e['n']}] ({where}{page})")
    return "\n".join(lines) + "\n\n"


def without_evidence(content: str) -> str:
    """An earlier `baken` answer as the client sends it back, without the evidence block `evidence_text` put
    ahead of it (the conversation's memory holds the answer, as in the web chat)."""
    if any(content.startswith(f"**{translator(lang)('chat.evidence')}**\n- ") for lang in LANGUAGES):
        return content.partition("\n\n")[2]
    return content


_UNAVAILABLE = {
    BackendUnavailable: "Het taalmodel is nu niet bereikbaar. Probeer het zo opnieuw.",
    AuditError: "Het auditlog kan nu niet worden geschreven; zonder log geeft Baken geen antwoord.",
    RedactionError: "De controle op persoonsgegevens faalde; zonder die controle gaat niets naar het model.",
}
