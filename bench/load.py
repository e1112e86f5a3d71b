"""A bounded load test on loopback: N simulated employees use a real `baken serve` for S seconds.

    .venv/bin/python -m bench.load [--users 30] [--seconds 60] [--delay-ms 15] [--workers 4]

The server is the `baken` command in a fresh data directory, with the real embedder, guardrails, index and
audit log (fsync on every append), and a fake OpenAI-compatible model server (`bench/fake_model.py`), so the
test measures Baken, not a model. It indexes the demo corpus; the administrator adds the accounts through the
*Gebruikers* page. Each employee logs in, then until the time is up: asks a question (as the htmx page does),
reads its answer stream to the end, reopens the conversation page, opens a cited source, and thinks for a
moment. One in five is *greedy*: now and then it sends four questions at once without waiting, and its fourth
must get the documented 429 (at most BAKEN_WEB__MAX_PENDING_QUESTIONS waiting). A *sprayer* meanwhile tries
one password on many user names from the same address, and must get 401s, then the documented 429s.

Afterwards: every finished turn in the history has its `conversation.turn` record (by event id) in the audit
log, and `baken audit verify` passes. Errors are anything else: a 5xx, an unexpected status, a broken
connection, a stream that ends without `done`. Writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import CACHE, MODELS_DIR, ROOT, report, summary  # sets the offline env
from bench.fake_model import FakeModelServer
from tests.servers import free_port

ADMIN_PASSWORD = "load-beheerder-wachtwoord"
PASSWORD = "load-medewerker-wachtwoord"
QUESTIONS = [
    "Hoeveel dagen per week mag ik thuiswerken?",
    "Wat is de thuiswerkvergoeding per dag?",
    "Hoe lang duurt de afhandeling van een klacht?",
    "Wat moet ik doen bij een datalek?",
    "Mag ik generatieve AI gebruiken voor mijn werk?",
    "Hoe lang worden logbestanden bewaard?",
    "Wat is een klacht?",
    "Wanneer mag ik e-mail vernietigen?",
]
PAGE_KINDS = ("chat_page", "conversation_page", "source_page")
GREEDY_EVERY = 5  # one in this many employees sends four questions at once now and then
SPRAY_PAUSE_SECONDS = 0.2


@dataclass
class Tally:
    """What all simulated users saw: latencies per request kind, statuses, documented 429s and errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    pages: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, ms) of each page
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    turns_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, status: int, ms: float, allowed: tuple[int, ...]) -> bool:
        """Count one response; anything not in ``allowed`` (429 included, unless allowed) is an error."""
        with self.lock:
            self.latencies.setdefault(kind, []).append(ms)
            if kind in PAGE_KINDS:
                self.pages.append((time.monotonic(), ms))
            self.statuses[f"{kind} {status}"] += 1
            if status not in allowed:
                self.errors.append(f"{kind}: HTTP {status}")
                return False
        return True

    def error(self, text: str) -> None:
        """Count an error that has no status (a broken connection, a stream without its end)."""
        with self.lock:
            self.errors.append(text)

    def count(self, status: int) -> int:
        """Responses with ``status``, over all kinds."""
        return sum(n for key, n in self.statuses.items() if key.endswith(f" {status}"))


class Employee:
    """One simulated user with its own connection pool and session, as a browser tab would have."""

    def __init__(self, base_url: str, name: str, tally: Tally, greedy: bool, seed: int) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=120, follow_redirects=False)
        self.name, self.tally, self.greedy = name, tally, greedy
        self.random = random.Random(seed)
        self.csrf = ""
        self.conversation = ""

    def timed(self, kind: str, call: Callable[[], Any], allowed: tuple[int, ...] = (200,)) -> Any:
        """Run one request, note its status and latency; None when it failed."""
        started = time.perf_counter()
        try:
            response = call()
        except Exception as exc:  # noqa: BLE001 (any failure of the connection is an error to count)
            self.tally.error(f"{kind}: {type(exc).__name__}")
            return None
        ok = self.tally.note(kind, response.status_code, (time.perf_counter() - started) * 1000, allowed)
        return response if ok else None

    def log_in(self) -> bool:
        """Log in through the form and pick up the chat page's CSRF token."""
        page = self.timed("login_page", lambda: self.http.get("/login"))
        if page is None:
            return False
        token = self.http.cookies.get("baken_login_csrf") or ""
        done = self.timed("login", lambda: self.http.post("/login", data={
            "name": self.name, "password": PASSWORD, "csrf_token": token, "next": "/chat"}), (303,))
        chat = self.timed("chat_page", lambda: self.http.get("/chat")) if done is not None else None
        found = re.search(r'name="csrf_token" value="([^"]+)"', chat.text) if chat is not None else None
        self.csrf = found.group(1) if found else ""
        return bool(self.csrf)

    def ask(self, question: str, allowed: tuple[int, ...] = (200,)) -> str | None:
        """POST a question as htmx does; the new turn's id (None when refused)."""
        posted = self.timed("ask", lambda: self.http.post(
            "/chat/ask", data={"question": question, "conversation_id": self.conversation},
            headers={"HX-Request": "true", "X-CSRF-Token": self.csrf}), allowed)
        if posted is None or posted.status_code != 200:
            return None
        turn = re.search(r'id="turn-([0-9a-f-]+)"', posted.text)
        conversation = re.search(r'name="conversation_id" value="([0-9a-f-]+)" hx-swap-oob', posted.text)
        if not turn or not conversation:
            self.tally.error("ask: no turn in the answer")
            return None
        self.conversation = conversation.group(1)
        return turn.group(1)

    def follow(self, turn: str) -> bool:
        """Read a turn's answer stream to its `done` event."""
        started, event = time.perf_counter(), ""
        try:
            with self.http.stream("GET", f"/chat/turns/{turn}/stream") as response:
                if response.status_code != 200:
                    self.tally.note("stream", response.status_code, 0.0, (200,))
                    return False
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "done":
                        self.tally.note("turn", 200, (time.perf_counter() - started) * 1000, (200,))
                        with self.tally.lock:
                            self.tally.turns_done += 1
                        return True
        except Exception as exc:  # noqa: BLE001
            self.tally.error(f"stream: {type(exc).__name__}")
            return False
        self.tally.error("stream: ended without done")
        return False

    def browse(self, turn: str) -> None:
        """What a reader does after an answer: reopen the conversation, open its first source."""
        self.timed("conversation_page", lambda: self.http.get(f"/chat/{self.conversation}"))
        self.timed("source_page", lambda: self.http.get(f"/chat/turns/{turn}/sources/1"), (200, 404))

    def run(self, arrive: float, deadline: float, think_s: float) -> None:
        """Arrive at ``arrive`` (monotonic), then use Baken until ``deadline``."""
        time.sleep(max(0.0, arrive - time.monotonic()))
        if not self.log_in():
            self.tally.error(f"{self.name}: could not log in")
            return
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if self.greedy and n % 3 == 0:
                turns = [self.ask(self.random.choice(QUESTIONS), (200, 429)) for _ in range(4)]
                for turn in [t for t in turns if t]:
                    self.follow(turn)
            else:
                turn = self.ask(self.random.choice(QUESTIONS))
                if turn and self.follow(turn):
                    self.browse(turn)
            if n % 4 == 0:
                self.conversation = ""  # a new conversation now and then
                self.timed("chat_page", lambda: self.http.get("/chat"))
            time.sleep(self.random.uniform(0.5, 1.5) * think_s)
        self.http.close()


def spray(base_url: str, start: float, deadline: float, tally: Tally, pause_s: float = SPRAY_PAUSE_SECONDS) -> None:
    """One password tried on many user names from one address: 401s, then the throttle's 429s. It starts once
    the employees have logged in: here they share its address (loopback), so its 429s would be theirs too."""
    import httpx

    time.sleep(max(0.0, start - time.monotonic()))

    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as http:
        n = 0
        while time.monotonic() < deadline:
            http.get("/login")
            token = http.cookies.get("baken_login_csrf") or ""
            started = time.perf_counter()
            try:
                response = http.post("/login", data={"name": f"gok-{n}", "password": "Welkom2026!",
                                                     "csrf_token": token})
                tally.note("spray_login", response.status_code, (time.perf_counter() - started) * 1000, (401, 429))
            except httpx.HTTPError as exc:
                tally.error(f"spray_login: {type(exc).__name__}")
            n += 1
            time.sleep(pause_s)


class BakenServer:
    """`baken serve` as a subprocess on a loopback port, over a fake model server."""

    def __init__(self, data_dir: Path, model_url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "BAKEN_DATA_DIR": str(data_dir), "BAKEN_MODELS_DIR": str(MODELS_DIR),
                    "BAKEN_LLM__BACKEND": "remote", "BAKEN_LLM__URL": model_url,
                    "BAKEN_WEB__CHAT_WORKERS": str(workers), "BAKEN_WEB__SECURE_COOKIES": "false",
                    "BAKEN_ADMIN_PASSWORD": ADMIN_PASSWORD}
        self.process: subprocess.Popen[bytes] | None = None

    def baken(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `baken` command on the same data directory."""
        return subprocess.run([str(Path(sys.executable).parent / "baken"), *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=600, check=False)

    def start(self, timeout_s: float = 300) -> None:
        """Start and wait for /readyz."""
        import httpx

        with self.log.open("ab") as out:
            self.process = subprocess.Popen([str(Path(sys.executable).parent / "baken"), "serve", "--port",
                                             str(self.port)], env=self.env, cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"baken serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"baken serve was not ready in {timeout_s:.0f} s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def rss_mb(self) -> float:
        """The server's resident memory now."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def add_employees(base_url: str, names: list[str]) -> None:
    """The administrator adds the accounts through the Gebruikers page."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=60, follow_redirects=False) as admin:
        admin.get("/login")
        token = admin.cookies.get("baken_login_csrf") or ""
        admin.post("/login", data={"name": "admin", "password": ADMIN_PASSWORD, "csrf_token": token})
        page = admin.get("/admin/users")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if page.status_code != 200 or not found:
            raise RuntimeError(f"the administrator cannot open the users page: HTTP {page.status_code}")
        for name in names:
            added = admin.post("/admin/users/add", data={"name": name, "role": "medewerker", "password": PASSWORD,
                                                         "csrf_token": found.group(1)})
            if added.status_code != 200:
                raise RuntimeError(f"adding {name} failed: HTTP {added.status_code}")


def audit_check(server: BakenServer, data_dir: Path) -> dict[str, Any]:
    """Every finished turn of the history against the audit log (by event id), and the chain's verification."""
    with sqlite3.connect(data_dir / "web" / "web.sqlite3") as db:
        rows = db.execute("SELECT outcome, event_id FROM turns").fetchall()
    exported = server.baken("audit", "export", "--format", "jsonl")
    logged = set()
    for line in exported.stdout.splitlines():
        record = json.loads(line).get("record") or {}  # chain stubs carry no record
        if record.get("action") == "conversation.turn" and record.get("event_id"):
            logged.add(str(record["event_id"]))
    finished = [(outcome, event) for outcome, event in rows if outcome != "pending"]
    missing = [event for outcome, event in finished if outcome in ("answered", "no_source") and event not in logged]
    verified = server.baken("audit", "verify")
    return {"turns_in_history": len(rows), "turns_finished": len(finished),
            "outcomes": dict(Counter(outcome for outcome, _ in rows)),
            "turn_records": len(logged), "answered_not_logged": len(missing),
            "audit_verify_ok": verified.returncode == 0, "audit_verify": (verified.stdout + verified.stderr)[-300:],
            "export_ok": exported.returncode == 0}


def run(users: int = 30, seconds: float = 60, delay_ms: float = 15, workers: int = 4, think_s: float = 1.0,
        data_dir: Path | None = None, spray_logins: bool = True, ramp_s: float = 10,
        spray_pause_s: float = SPRAY_PAUSE_SECONDS) -> dict[str, Any]:
    """Start the servers, run the employees (arriving one by one over the first ``ramp_s`` seconds, as a
    morning does; each logs in, which costs a password check), check the audit log; returns the figures."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="load-", dir=data_dir or CACHE) as tmp, \
            FakeModelServer(delay_s=delay_ms / 1000) as model:
        data = Path(tmp) / "data"
        server = BakenServer(data, model.url, workers, Path(tmp) / "serve.log")
        started = time.monotonic()
        server.start()
        startup_s = time.monotonic() - started
        try:
            names = [f"medewerker-{n:02d}" for n in range(users)]
            add_employees(server.url, names)
            tally = Tally()
            employees = [Employee(server.url, name, tally, greedy=n % GREEDY_EVERY == GREEDY_EVERY - 1, seed=n)
                         for n, name in enumerate(names)]
            rss_before = server.rss_mb()
            began = time.monotonic()
            deadline = began + seconds
            threads = [threading.Thread(target=e.run, args=(began + n * ramp_s / users, deadline, think_s),
                                        name=e.name) for n, e in enumerate(employees)]
            if spray_logins:
                threads.append(threading.Thread(target=spray, args=(server.url, began + ramp_s + 1, deadline, tally,
                                                                   spray_pause_s),
                                                name="spray"))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall_s = time.monotonic() - began
            rss_after = server.rss_mb()
        finally:
            server.stop()
        audit = audit_check(server, data)
        modes = Counter(f"{'d' if p.is_dir() else 'f'} {p.stat().st_mode & 0o777:o}" for p in data.rglob("*")
                        if not p.is_symlink())
    pages = [ms for _, ms in tally.pages]
    settled = [ms for at, ms in tally.pages if at - began > ramp_s]
    requests = sum(tally.statuses.values())
    return {
        "users": users, "seconds": seconds, "wall_seconds": round(wall_s, 1), "chat_workers": workers,
        "model_delay_ms_per_word": delay_ms, "startup_seconds": round(startup_s, 1),
        "requests": requests, "requests_per_s": round(requests / wall_s, 1), "turns_done": tally.turns_done,
        "status_429": tally.count(429), "status_429_ask": tally.statuses.get("ask 429", 0),
        "status_429_login": tally.statuses.get("spray_login 429", 0), "errors": len(tally.errors),
        "error_kinds": dict(Counter(tally.errors)), "page_ms": summary(pages), "ramp_seconds": ramp_s,
        "page_ms_after_ramp": summary(settled),
        "latency_ms": {kind: summary(values) for kind, values in sorted(tally.latencies.items())},
        "statuses": dict(sorted(tally.statuses.items())), "rss_mb": {"before": round(rss_before),
                                                                      "after": round(rss_after)},
        "model_completions": model.completions, "audit": audit, "data_dir_modes": dict(modes),
    }


def main() -> None:
    """Run the load test and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--delay-ms", type=float, default=15, help="the fake model's delay per streamed word")
    parser.add_argument("--workers", type=int, default=4, help="BAKEN_WEB__CHAT_WORKERS of the server")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds a user waits between questions")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the users arrive")
    args = parser.parse_args()
    out = run(args.users, args.seconds, args.delay_ms, args.workers, args.think, ramp_s=args.ramp)
    page, latency, settled = out["page_ms"], out["latency_ms"], out["page_ms_after_ramp"]
    rows = [["users × seconds", f"{out['users']} × {out['seconds']:.0f}"], ["requests", out["requests"]],
            ["requests/s", out["requests_per_s"]], ["turns answered", out["turns_done"]],
            ["429 (questions over the limit / sprayed logins)", f"{out['status_429_ask']} / {out['status_429_login']}"],
            ["errors", out["errors"]], ["page p50 / p95 ms", f"{page['median']:.0f} / {page['p95']:.0f}"],
            ["page p50 / p95 ms after the arrivals", f"{settled['median']:.0f} / {settled['p95']:.0f}"],
            ["login p50 / p95 ms", "{:.0f} / {:.0f}".format(latency.get("login", {}).get("median", 0),
                                                           latency.get("login", {}).get("p95", 0))],
            ["ask p95 ms", latency.get("ask", {}).get("p95", float("nan"))],
            ["turn (ask to done) p50 / p95 ms", "{:.0f} / {:.0f}".format(latency.get("turn", {}).get("median", 0),
                                                                        latency.get("turn", {}).get("p95", 0))],
            ["answered turns not in the audit log", out["audit"]["answered_not_logged"]],
            ["audit verify", out["audit"]["audit_verify_ok"]],
            ["server RSS before / after MB", f"{out['rss_mb']['before']} / {out['rss_mb']['after']}"]]
    report("load", "Load test: simulated employees on a real `baken serve` (fake model)", ["figure", "value"],
           rows, out)


if __name__ == "__main__":
    main()
