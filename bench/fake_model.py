"""A fake OpenAI-compatible model server for load tests: `/v1/models` and streamed `/v1/chat/completions`.

It answers with the first sentence of the first source in the prompt, cited as [1] (so the answer passes
Baken's sentence check), word by word with a fixed delay per word, as a model server would stream it. It
needs no model file and almost no CPU, so a load test measures Baken and not the model. A last message that
holds "Herhaal: TEXT" is answered with TEXT (to see what the model was given come back). Tests read the
prompts it was sent (`prompts`) and can make it answer 503 (`down`).

    python -m bench.fake_model --port 8090 [--delay-ms 15]
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"
FIRST_SOURCE = re.compile(r'n="1">\n\[1\][^\n]*\n(.+?)(?:[.!?](?:\s|$)|\n</)', re.DOTALL)
NO_SOURCE = "Dat staat niet in de documenten."
ECHO = "Herhaal:"


def answer_to(messages: list[dict[str, Any]]) -> str:
    """The fake answer: the first source's first sentence with its citation, or a no-source sentence."""
    prompt = str(messages[-1].get("content", "")) if messages else ""
    if ECHO in prompt:
        return prompt.split(ECHO, 1)[1].strip() or NO_SOURCE
    found = FIRST_SOURCE.search(prompt)
    if not found:
        return NO_SOURCE
    return " ".join(found.group(1).split()) + " [1]."


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (Baken stopping) is no error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FakeModelServer:
    """The server on a loopback port, in a daemon thread; counts the completions it streamed."""

    def __init__(self, port: int = 0, delay_s: float = 0.015) -> None:
        self.delay_s = delay_s
        self.completions = 0
        self.prompts: list[list[dict[str, Any]]] = []
        self.down = False
        self._lock = threading.Lock()
        self._http = _QuietServer(("127.0.0.1", port), self._handler())
        self._http.daemon_threads = True
        self.port = int(self._http.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, name="fake-model", daemon=True)

    def __enter__(self) -> FakeModelServer:  # noqa: PYI034
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": "not found"})
                    return
                if server.down:
                    self._json(503, {"error": {"message": "loading model", "type": "unavailable_error"}})
                    return
                with server._lock:
                    server.prompts.append(list(body.get("messages") or []))
                words = answer_to(body.get("messages") or []).split(" ")
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for n, word in enumerate(words[: int(body.get("max_tokens") or 384)]):
                    time.sleep(server.delay_s)
                    piece = {"choices": [{"index": 0, "delta": {"content": word if n == 0 else " " + word}}]}
                    self._chunk(f"data: {json.dumps(piece)}\n\n")
                self._chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                with server._lock:
                    server.completions += 1

            def _chunk(self, text: str) -> None:
                data = text.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def main() -> None:
    """Run the fake model server until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--delay-ms", type=float, default=15.0, help="delay before each streamed word")
    args = parser.parse_args()
    with FakeModelServer(args.port, args.delay_ms / 1000) as server:
        print(f"fake model server on {server.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
