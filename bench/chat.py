"""Chat overhead: a whole turn through `Assistant.ask` and through HTTP (SSE), beside raw llama-cpp-python
`create_chat_completion` on the identical final prompt, same `Llama` object (same model, threads, batch).

    .venv/bin/python -m bench.chat [--repeats 2] [--max-tokens 64] [--no-http]

Runs are interleaved (api, raw, http, raw, ... with the order rotated per question). Before every generation the
llama.cpp context is reset (outside the raw timing), so no side profits from the prefix cache of the run before
it. Temperature 0 and a fixed seed, so both sides generate the same tokens. Writes bench/results/chat.json.
Targets (issue 8): total-time ratio <= 1.05; non-model time before the first token <= 150 ms median; (issue 12)
the evidence shown within 300 ms of the question (HTTP, median).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import CACHE, Stopwatch, bench_settings, report, summary  # sets the offline env
from tests.servers import free_port

QUESTIONS = [
    "Wat moet er worden vastgelegd in de logging van een algoritme?",
    "Welke regels gelden voor privacy en gegevensbescherming bij algoritmes?",
    "Wat zijn de risico's van generatieve AI voor de overheid?",
    "Hoe houd je rekening met duurzaamheid bij het gebruik van AI?",
    "What must be logged when an algorithm is used?",
    "Welke maatregelen helpen tegen bias en discriminatie in algoritmes?",
    "Wat staat er in de FAQ over generatieve AI en compliance?",
]  # the chat bench uses the first five that find a source (a no-source turn never calls the model)
PASSWORD = "bench-password-123"
TOTAL_RATIO_TARGET, PRE_FIRST_TOKEN_TARGET_MS = 1.05, 150.0
EVIDENCE_TARGET_MS = 300.0  # issue 12: evidence on screen within 300 ms of the question reaching the server


class RecordingLLM:
    """The real LLM with a memory of every prompt it was given; resets the llama.cpp context first (under its
    lock) so each generation starts cold, as the raw run does."""

    def __init__(self, inner: Any, reset: bool = True) -> None:
        self.inner, self.reset = inner, reset
        self.name, self.sha256, self.n_ctx = inner.name, inner.sha256, inner.n_ctx
        self.calls: list[tuple[list[dict[str, str]], Any]] = []
        self.dry = False  # record the prompt only, generate nothing
        self.started: float = 0.0  # perf_counter when the last generation was asked for
        self.first_piece: float | None = None  # ... and when its first piece came

    @property
    def waiting(self) -> int:
        """Callers queued on the real model's lock."""
        return int(self.inner.waiting)

    def check(self) -> str:
        """The real model's check."""
        return str(self.inner.check())

    @property
    def llama(self) -> Any:
        """The raw llama_cpp.Llama inside the adapter."""
        return self.inner._llama

    def stream(self, messages: Sequence[Any], params: Any) -> Iterator[str]:
        """Record the prompt, then stream from the real model."""
        self.calls.append(([dict(m) for m in messages], params))
        if self.dry:
            return
        if self.reset:
            with self.inner.lock:
                self.llama.reset()
        self.started, self.first_piece = time.perf_counter(), None
        for piece in self.inner.stream(messages, params):
            if self.first_piece is None:
                self.first_piece = time.perf_counter()
            yield piece

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for the real model."""
        return self.inner.count_tokens(text)


def raw_completion(llama: Any, messages: list[dict[str, str]], params: Any) -> dict[str, float]:
    """One raw `create_chat_completion` (streamed) on a reset context: ms to first token, total, tokens."""
    llama.reset()
    clock, first, tokens = Stopwatch(), None, 0
    for piece in llama.create_chat_completion(messages=messages, stream=True, max_tokens=params.max_tokens,
                                              temperature=params.temperature, seed=params.seed,
                                              repeat_penalty=params.repeat_penalty,
                                              stop=list(params.stop) or None):
        if piece["choices"][0]["delta"].get("content"):
            if first is None:
                first = clock.ms()
            tokens += 1
    return {"ttft_ms": first or clock.ms(), "total_ms": clock.ms(), "tokens": tokens}


def api_turn(assistant: Any, question: str) -> tuple[dict[str, float], Any]:
    """One turn through `Assistant.ask`: ms to first token, total, tokens, and the TurnResult."""
    clock, first = Stopwatch(), []

    def on_token(_: str) -> None:
        if not first:
            first.append(clock.ms())

    result = assistant.ask(question, on_token=on_token)
    total = clock.ms()
    return {"ttft_ms": first[0] if first else total, "total_ms": total,
            "tokens": result.completion_tokens}, result


# --- HTTP: an in-process server and a client that logs in and reads the SSE stream ---------------------------

class InProcessServer:
    """`web.app.create_app(settings, services)` under uvicorn in a thread on a loopback port."""

    def __init__(self, settings: Any, services: Any) -> None:
        import uvicorn

        from web.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bench-uvicorn", daemon=True)

    def __enter__(self) -> InProcessServer:  # noqa: PYI034
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise RuntimeError("the in-process web server did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def add_users(settings: Any, names: Sequence[str], role: str = "medewerker") -> None:
    """Accounts for the benchmark's clients (password PASSWORD)."""
    from web.app import build_accounts

    accounts = build_accounts(settings)
    existing = {u.name for u in accounts.users()}
    for name in names:
        if name not in existing:
            accounts.add_user(name, role, PASSWORD)


@dataclass
class WebClient:
    """A logged-in employee: asks over HTTP the way the htmx page does and reads the answer's SSE stream."""

    base_url: str
    name: str
    password: str = PASSWORD

    def __post_init__(self) -> None:
        import httpx

        self.http = httpx.Client(base_url=self.base_url, timeout=600, follow_redirects=False)
        page = self.http.get("/login")
        login_csrf = page.cookies.get("baken_login_csrf") or ""
        answer = self.http.post("/login", data={"name": self.name, "password": self.password, "next": "/",
                                                "csrf_token": login_csrf},
                                headers={"Cookie": f"baken_login_csrf={login_csrf}"})
        if answer.status_code != 303 or "baken_session" not in answer.cookies:
            raise RuntimeError(f"login failed for {self.name}: HTTP {answer.status_code}")
        self.cookie = f"baken_session={answer.cookies['baken_session']}"
        chat = self.http.get("/chat", headers={"Cookie": self.cookie})
        found = re.search(r'name="csrf_token" value="([^"]+)"', chat.text)
        if chat.status_code != 200 or not found:
            raise RuntimeError(f"no chat page for {self.name}: HTTP {chat.status_code}")
        self.csrf = found.group(1)

    def ask(self, question: str) -> dict[str, Any]:
        """POST the question, read the stream to `done`: ms to first token, total, token events, error."""
        clock = Stopwatch()
        first_at = None
        posted = self.http.post("/chat/ask", data={"question": question},
                                headers={"Cookie": self.cookie, "HX-Request": "true", "X-CSRF-Token": self.csrf})
        found = re.search(r'/chat/turns/([^/"]+)/stream', posted.text)
        if posted.status_code != 200 or not found:
            return {"ttft_ms": clock.ms(), "total_ms": clock.ms(), "tokens": 0,
                    "error": f"ask: HTTP {posted.status_code}"}
        first, tokens, event, error, done, evidence = None, 0, "", None, False, None
        with self.http.stream("GET", f"/chat/turns/{found.group(1)}/stream", headers={"Cookie": self.cookie}) as r:
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "evidence" and evidence is None:
                    evidence, evidence_at = clock.ms(), time.perf_counter()
                elif line.startswith("data:") and event == "token":
                    if first is None:
                        first, first_at = clock.ms(), time.perf_counter()
                    tokens += 1
                elif line.startswith("data:") and event == "status" and tokens and line[5:].strip():
                    error = line[5:].strip()  # a status after tokens is an error message
                elif line.startswith("data:") and event == "done":
                    done = True
                    break
        total = clock.ms()
        if not done:
            error = error or "stream ended without done"
        return {"ttft_ms": first or total, "total_ms": total, "tokens": tokens, "error": error,
                "posted_at": clock.start, "first_at": first_at, "evidence_ms": evidence,
                "evidence_at": evidence_at if evidence is not None else None}


# --- the benchmark -----------------------------------------------------------------------------------------

def build(data_dir: Path, max_tokens: int, reset: bool = True, n_threads: int = 0) -> tuple[Any, Any, RecordingLLM]:
    """Settings and services on the real default models, over the small corpus slice, with a recording LLM."""
    from baken.wiring import build_llm, build_services
    from tests.paths import SMALL_CORPUS

    settings = bench_settings(data_dir, llm={"max_tokens": max_tokens, "temperature": 0.0, "n_threads": n_threads})
    llm = RecordingLLM(build_llm(settings), reset=reset)
    services = build_services(settings, llm=llm)
    for path in SMALL_CORPUS:
        services.index.ingest_file(path)
    return settings, services, llm


def run(repeats: int = 2, max_tokens: int = 64, http: bool = True, questions: Sequence[str] = QUESTIONS,
        data_dir: Path | None = None, count: int = 5) -> dict[str, Any]:
    """Measure; returns the results dict (also what is written as JSON)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chat-", dir=data_dir or CACHE) as tmp:
        load = Stopwatch()
        settings, services, llm = build(Path(tmp), max_tokens)
        load_s = load.ms() / 1000
        add_users(settings, ["bench-chat"])
        api_turn(services.assistant, "Opwarmen: wat is een algoritme?")  # warm-up (first calls allocate)
        modes = ["api", "raw"] + (["http"] if http else [])
        prompts = {}
        llm.dry = True  # capture each question's final prompt without generating
        for question in questions:
            calls = len(llm.calls)
            if services.assistant.ask(question).outcome == "answered" and len(llm.calls) > calls:
                prompts[question] = llm.calls[-1]
        llm.dry = False
        questions = list(prompts)[:count]
        runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
        pairs: list[dict[str, float]] = []
        stages: dict[str, list[float]] = {}
        same_prompt: list[bool] = []
        http_parts: dict[str, list[float]] = {}
        prompt_tokens: list[float] = []
        http_evidence: list[float] = []
        before_model_token: list[bool] = []
        server = InProcessServer(settings, services) if http else None
        try:
            if server:
                server.__enter__()
                client = WebClient(server.url, "bench-chat")
                client.ask("Opwarmen: wat is een algoritme?")
            for r in range(repeats):
                for i, question in enumerate(questions):
                    shift = (i + r) % len(modes)
                    measured: dict[str, dict[str, Any]] = {}
                    for mode in modes[shift:] + modes[:shift]:
                        if mode == "api":
                            measured["api"], result = api_turn(services.assistant, question)
                            if result.outcome != "answered":
                                raise RuntimeError(f"no answer for {question!r}: {result.outcome}")
                            same_prompt.append(llm.calls[-1][0] == prompts[question][0])
                            prompt_tokens.append(float(result.prompt_tokens))
                            for stage, ms in result.timings_ms.items():
                                stages.setdefault(stage, []).append(ms)
                        elif mode == "http":
                            measured["http"] = got = client.ask(question)
                            if got.get("error"):
                                raise RuntimeError(f"HTTP turn failed: {got['error']}")
                            if got.get("evidence_ms") is not None:
                                http_evidence.append(got["evidence_ms"])
                                before_model_token.append(bool(llm.first_piece and got["evidence_at"] < llm.first_piece))
                            if llm.first_piece and got["first_at"]:
                                for part, ms in (("before_model", llm.started - got["posted_at"]),
                                                 ("model_first_token", llm.first_piece - llm.started),
                                                 ("token_delivery", got["first_at"] - llm.first_piece)):
                                    http_parts.setdefault(part, []).append(ms * 1000)
                            same_prompt.append(llm.calls[-1][0] == prompts[question][0])
                        else:
                            measured["raw"] = raw_completion(llm.llama, *prompts[question])
                    for mode in modes:
                        runs[mode].append(measured[mode])
                    pairs.append({f"{m}_{k}": measured[m][k] for m in modes for k in ("ttft_ms", "total_ms",
                                                                                        "tokens")})
        finally:
            if server:
                server.__exit__()
            services.close()
        out = analyse(runs, pairs, stages, load_s, max_tokens, repeats, len(questions))
        out["questions_used"] = questions
        out["identical_prompt_share"] = sum(same_prompt) / max(1, len(same_prompt))
        out["prompt_tokens"] = summary(prompt_tokens)
        out["http_first_token_ms"] = {k: summary(v) for k, v in http_parts.items()}
        if http_evidence:
            out["http_evidence_ms"] = summary(http_evidence)
            out["evidence_before_model_token"] = sum(before_model_token) / len(before_model_token)
            out["targets"]["http_evidence_ms"] = {"value": out["http_evidence_ms"]["median"],
                                                  "target": EVIDENCE_TARGET_MS,
                                                  "met": out["http_evidence_ms"]["median"] <= EVIDENCE_TARGET_MS}
        return out


def analyse(runs: dict[str, list[dict[str, float]]], pairs: list[dict[str, float]], stages: dict[str, list[float]],
            load_s: float, max_tokens: int, repeats: int, questions: int) -> dict[str, Any]:
    """Medians, p95s and per-pair ratios."""
    out: dict[str, Any] = {"load_seconds": round(load_s, 1), "max_tokens": max_tokens, "repeats": repeats,
                           "questions": questions, "modes": {}, "stages_ms": {}}
    for mode, rows in runs.items():
        out["modes"][mode] = {k: summary([r[k] for r in rows]) for k in ("ttft_ms", "total_ms", "tokens")}
    for mode in runs:
        if mode == "raw":
            continue
        total_ratios = [p[f"{mode}_total_ms"] / p["raw_total_ms"] for p in pairs]
        extra_first = [p[f"{mode}_ttft_ms"] - p["raw_ttft_ms"] for p in pairs]
        out["modes"][mode]["total_ratio"] = summary(total_ratios)
        out["modes"][mode]["pre_first_token_extra_ms"] = summary(extra_first)
        out["modes"][mode]["same_tokens"] = sum(p[f"{mode}_tokens"] == p["raw_tokens"] for p in pairs) / len(pairs)
    out["stages_ms"] = {k: summary(v) for k, v in stages.items()}
    before = [sum(v[i] for k, v in stages.items() if k in ("redact", "retrieve", "redact_sources", "evidence",
                                                             "prompt"))
              for i in range(len(stages.get("redact", [])))]
    out["non_model_before_first_token_ms"] = summary(before)
    api = out["modes"]["api"]
    out["targets"] = {
        "total_ratio_api": {"value": api["total_ratio"]["median"], "target": TOTAL_RATIO_TARGET,
                            "met": api["total_ratio"]["median"] <= TOTAL_RATIO_TARGET},
        "non_model_before_first_token_ms": {"value": out["non_model_before_first_token_ms"]["median"],
                                            "target": PRE_FIRST_TOKEN_TARGET_MS,
                                            "met": out["non_model_before_first_token_ms"]["median"]
                                            <= PRE_FIRST_TOKEN_TARGET_MS},
    }
    if "http" in out["modes"]:
        http = out["modes"]["http"]
        out["targets"]["total_ratio_http"] = {"value": http["total_ratio"]["median"], "target": TOTAL_RATIO_TARGET,
                                              "met": http["total_ratio"]["median"] <= TOTAL_RATIO_TARGET}
    return out


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows: one per path, then the stage breakdown."""
    rows: list[list[Any]] = []
    for mode, m in out["modes"].items():
        rows.append([f"{mode}: time to first token (ms)", m["ttft_ms"]["median"], m["ttft_ms"]["p95"],
                     m.get("pre_first_token_extra_ms", {}).get("median", "–"), "", ""])
        rows.append([f"{mode}: total (ms), {m['tokens']['median']:.0f} tokens", m["total_ms"]["median"],
                     m["total_ms"]["p95"], "", m.get("total_ratio", {}).get("median", 1.0),
                     "" if mode == "raw" else m["total_ratio"]["median"] <= TOTAL_RATIO_TARGET])
    for stage, s in out["stages_ms"].items():
        rows.append([f"api stage: {stage} (ms)", s["median"], s["p95"], "", "", ""])
    for part, s in out.get("http_first_token_ms", {}).items():
        rows.append([f"http to first token: {part} (ms)", s["median"], s["p95"], "", "", ""])
    if "http_evidence_ms" in out:
        e = out["http_evidence_ms"]
        rows.append([(f"http: question posted to evidence shown (ms), before the model's first token in "
                     f"{out['evidence_before_model_token']:.0%}"), e["median"], e["p95"], "", "",
                     e["median"] <= EVIDENCE_TARGET_MS])
    before = out["non_model_before_first_token_ms"]
    rows.append(["non-model time before first token (ms)", before["median"], before["p95"], "", "",
                 before["median"] <= PRE_FIRST_TOKEN_TARGET_MS])
    return rows


HEADERS = ["chat turn", "median", "p95", "extra ms vs raw", "ratio vs raw", "target"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/chat.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the questions (default 2)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP path")
    args = parser.parse_args(argv)
    out = run(args.repeats, args.max_tokens, http=not args.no_http)
    report("chat", f"Chat overhead ({out['questions']} questions x {out['repeats']}, max_tokens {out['max_tokens']}, "
           "interleaved)", HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
