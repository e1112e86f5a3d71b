"""A model on an OpenAI-compatible server (llama-server, vLLM, llama_cpp.server); the only module importing httpx."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import httpx

from assistant.llm import GenerationParams, Message
from assistant.remote_settings import RemoteLLMSettings
from core.errors import BackendUnavailable
from core.urls import v1_base

logger = logging.getLogger(__name__)
_RETRY_TOKENIZE_AFTER_S = 30.0
# Tokenize endpoints, tried in order: llama_cpp.server, llama.cpp's llama-server, vLLM.
_TOKENIZERS = ("extras", "llama-server", "vllm")


class OpenAICompatibleLLM:
    """Streams chat completions over HTTP (SSE). Connect errors are retried; anything after that is not."""

    def __init__(self, url: str, *, n_ctx: int, model: str | None = None, api_key: str | None = None,
                 connect_timeout_s: float = 5.0, read_timeout_s: float = 120.0, retries: int = 2,
                 retry_backoff_s: float = 0.5, transport: httpx.BaseTransport | None = None) -> None:
        self.base = v1_base(url)
        self.root = self.base.removesuffix("/v1")
        self.n_ctx = n_ctx
        self.sha256: str | None = None  # the weights are on the server; their hash is not ours to see
        self._model = model
        self.name = model or "remote"
        self._retries = retries
        self._backoff = retry_backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(headers=headers, timeout=self._timeout, transport=transport)
        self._tokenizer: str | None = None  # which endpoint works, "none", or None (not probed yet)
        self._tokenize_down_until = 0.0
        self._waiting_lock = threading.Lock()
        self.waiting = 0  # requests sent whose first token has not arrived: the server's queue, seen from here
        self._count = lru_cache(maxsize=2048)(self._count_uncached)

    @classmethod
    def from_settings(cls, remote: RemoteLLMSettings, *, n_ctx: int) -> OpenAICompatibleLLM:
        """An adapter configured from the ``BAKEN_LLM__*`` remote fields."""
        if not remote.url:
            raise BackendUnavailable("no model server URL configured (BAKEN_LLM__URL)")
        llm = cls(remote.url, n_ctx=n_ctx, model=remote.remote_model,
                  api_key=remote.api_key.get_secret_value() if remote.api_key else None,
                  connect_timeout_s=remote.connect_timeout_s, read_timeout_s=remote.read_timeout_s,
                  retries=remote.retries, retry_backoff_s=remote.retry_backoff_s)
        if remote.remote_model is None:
            try:
                llm.check()  # learn the served model's name now, so the first turn's audit record has it
            except BackendUnavailable as exc:
                logger.warning("%s; Baken starts anyway and is not ready until it answers", exc)
        return llm

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def check(self) -> str:
        """The served model's name; raises BackendUnavailable when the server does not answer (for /readyz)."""
        try:
            response = self._client.get(f"{self.base}/models", timeout=self._timeout.connect)
            response.raise_for_status()
            models = [m.get("id") for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError) as exc:
            raise BackendUnavailable(f"the model server at {self.base} does not answer: {exc}") from exc
        if self._model is None and models:
            self.name = self._model = str(models[0])
        return self.name

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[str]:
        """Stream a chat completion, yielding the text of each SSE delta."""
        if self._model is None:
            try:
                self.check()
            except BackendUnavailable:
                pass  # _open says it clearly, after its retries
        body: dict[str, Any] = {
            "messages": list(messages), "stream": True, "max_tokens": params.max_tokens,
            "temperature": params.temperature, "seed": params.seed, "repeat_penalty": params.repeat_penalty,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if self._model:
            body["model"] = self._model
        self._queue(+1)
        queued = True
        try:
            response = self._open(body)
            try:
                for event in self._events(response):
                    if queued:
                        queued = self._queue(-1)
                    choices = event.get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        yield text
            finally:
                response.close()
        finally:
            if queued:
                self._queue(-1)

    def _queue(self, delta: int) -> bool:
        """Move the count of requests waiting for their first token; True while this one still waits."""
        with self._waiting_lock:
            self.waiting += delta
        return delta > 0

    def _open(self, body: dict[str, Any]) -> httpx.Response:
        """Send the request; only a failure to connect is retried, because the server has not started then."""
        request = self._client.build_request("POST", f"{self.base}/chat/completions", json=body)
        attempts = self._retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.send(request, stream=True)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt == attempts:
                    raise BackendUnavailable(
                        f"the model server at {self.base} cannot be reached ({attempts} attempts): {exc}"
                    ) from exc
                logger.warning("model server %s unreachable (attempt %d of %d): %s", self.base, attempt,
                               attempts, exc)
                time.sleep(self._backoff * 2 ** (attempt - 1))
            except httpx.TimeoutException as exc:
                raise BackendUnavailable(f"the model server at {self.base} did not answer in time: {exc}") from exc
            except httpx.HTTPError as exc:
                raise BackendUnavailable(f"the model server at {self.base} failed: {exc}") from exc
        if response.status_code != 200:
            try:
                detail = response.read().decode("utf-8", "replace")[:300]
            except httpx.HTTPError:
                detail = ""
            finally:
                response.close()
            raise BackendUnavailable(f"the model server at {self.base} answered HTTP {response.status_code}: "
                                     f"{detail}")
        return response

    def _events(self, response: httpx.Response) -> Iterator[dict[str, Any]]:
        """The JSON payloads of an SSE stream; a stream that ends before '[DONE]' is an error."""
        received = 0
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                event = json.loads(data)
                if "error" in event:
                    raise BackendUnavailable(f"the model server at {self.base} reported: {event['error']}")
                received += 1
                yield event
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(f"the model server at {self.base} went silent mid-answer "
                                     f"(no data for {self._timeout.read} s)") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise BackendUnavailable(f"the model server at {self.base} stopped mid-answer after {received} "
                                     f"chunks: {exc}") from exc
        raise BackendUnavailable(f"the model server at {self.base} stopped mid-answer after {received} chunks "
                                 "(the stream ended without [DONE])")

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the server's tokenizer when it has an endpoint for it; else ~4 characters each."""
        return self._count(text)

    def _count_uncached(self, text: str) -> int:
        if self._tokenizer != "none" and time.monotonic() >= self._tokenize_down_until:
            candidates = _TOKENIZERS if self._tokenizer is None else (self._tokenizer,)
            for kind in candidates:
                try:
                    count = self._tokenize(kind, text)
                except httpx.TransportError as exc:
                    logger.warning("tokenizing on %s failed (%s); estimating for %.0f s", self.root, exc,
                                   _RETRY_TOKENIZE_AFTER_S)
                    self._tokenize_down_until = time.monotonic() + _RETRY_TOKENIZE_AFTER_S
                    break
                if count is not None:
                    self._tokenizer = kind
                    return count
            else:
                if self._tokenizer is None:
                    logger.info("%s has no tokenize endpoint; estimating tokens as characters / 4", self.root)
                    self._tokenizer = "none"
        return len(text) // 4 + 1

    def _tokenize(self, kind: str, text: str) -> int | None:
        """One tokenize call; None when the server has no such endpoint (or refuses it)."""
        body: dict[str, Any]
        if kind == "extras":
            url, body = f"{self.root}/extras/tokenize/count", {"input": text}
        elif kind == "llama-server":
            url, body = f"{self.root}/tokenize", {"content": text, "add_special": False}
        else:
            url, body = f"{self.root}/tokenize", {"prompt": text, "model": self.name,
                                                  "add_special_tokens": False}
        response = self._client.post(url, json=body, timeout=httpx.Timeout(10.0, connect=self._timeout.connect))
        if response.status_code != 200:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        if isinstance(data.get("count"), int):
            return int(data["count"])
        if isinstance(data.get("tokens"), list):
            return len(data["tokens"])
        return None
