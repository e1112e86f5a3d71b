"""Memory and start-up: `baken serve` as a subprocess with the default models; time from start to ready
(/healthz answering, which uvicorn does only after the models are loaded), and peak RSS (VmHWM) after 100 chats.

    .venv/bin/python -m bench.memory [--chats 100] [--max-tokens 16]

First start indexes the demo corpus (as `baken serve` does on an empty index); the chats run against it, with
short questions and a small max_tokens to keep the run short (memory is set by the models and n_ctx, not by the
answer length); RSS is sampled every 25 chats to show growth. Then a second start on the same data directory
measures the usual start-up. Writes bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.chat import PASSWORD, WebClient, free_port
from bench.common import CACHE, MODELS_DIR, ROOT, Stopwatch, report  # sets the offline env

QUESTIONS = ["Hoeveel dagen per week mag ik thuiswerken?", "Hoe lang bewaren we e-mail?",
             "Mag ik ChatGPT gebruiken voor mijn werk?", "Hoe dien ik een klacht in?",
             "Wat doe ik bij een datalek?"]


def status_kb(pid: int, field: str) -> int:
    """A kB field (VmHWM, VmRSS) of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def environment(data_dir: Path, port: int, max_tokens: int) -> dict[str, str]:
    """The server's environment: its own data directory, the provisioned models, a known admin password."""
    return os.environ | {"BAKEN_DATA_DIR": str(data_dir), "BAKEN_MODELS_DIR": str(MODELS_DIR),
                         "BAKEN_ADMIN_PASSWORD": PASSWORD, "BAKEN_BENCH_PASSWORD": PASSWORD,
                         "BAKEN_LLM__MAX_TOKENS": str(max_tokens), "BAKEN_WEB__PORT": str(port),
                         "BAKEN_WEB__SECURE_COOKIES": "false"}


def baken() -> list[str]:
    """The `baken` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "baken"
    return [str(script)] if script.exists() else [sys.executable, "-m", "baken.cli.main"]


class Server:
    """`baken serve` in a subprocess; ``ready_seconds`` is the time until /healthz answered."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        import httpx

        self.url = f"http://127.0.0.1:{port}"
        clock = Stopwatch()
        self._log = log.open("ab")
        self.process = subprocess.Popen([*baken(), "serve", "--port", str(port)], env=env, cwd=ROOT,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"baken serve exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if clock.ms() > 600_000:
                raise RuntimeError("baken serve was not ready within 10 minutes")
            time.sleep(0.1)
        self.ready_seconds = clock.ms() / 1000

    def stop(self) -> None:
        """SIGINT (as Ctrl-C), then wait."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def run(chats: int = 100, max_tokens: int = 16) -> dict[str, Any]:
    """Measure; returns the results."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="memory-", dir=CACHE) as tmp:
        data = Path(tmp)
        port = free_port()
        env = environment(data, port, max_tokens)
        subprocess.run([*baken(), "users", "add", "bench", "--role", "medewerker", "--password-env",
                        "BAKEN_BENCH_PASSWORD"], env=env, cwd=ROOT, check=True, capture_output=True)
        server = Server(env, port, data / "serve.log")
        out: dict[str, Any] = {"chats": chats, "max_tokens": max_tokens,
                               "first_start_ready_seconds": round(server.ready_seconds, 2),
                               "rss_ready_mb": round(status_kb(server.process.pid, "VmRSS") / 1024, 1),
                               "rss_mb_every_25": [], "errors": 0}
        try:
            client = WebClient(server.url, "bench")
            clock = Stopwatch()
            for n in range(chats):
                got = client.ask(QUESTIONS[n * len(QUESTIONS) // chats])  # each question in a run of chats
                out["errors"] += bool(got.get("error")) or got["tokens"] == 0
                if (n + 1) % 25 == 0:
                    out["rss_mb_every_25"].append(round(status_kb(server.process.pid, "VmRSS") / 1024, 1))
            out["chat_seconds"] = round(clock.ms() / 1000, 1)
            out["peak_rss_mb"] = round(status_kb(server.process.pid, "VmHWM") / 1024, 1)
        finally:
            server.stop()
        again = Server(env, port, data / "serve.log")
        out["start_ready_seconds"] = round(again.ready_seconds, 2)
        out["rss_after_start_mb"] = round(status_kb(again.process.pid, "VmRSS") / 1024, 1)
        again.stop()
    return out


HEADERS = ["server (baken serve, default models)", "value"]


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows."""
    return [["start to ready, usual start (s)", out["start_ready_seconds"]],
            ["start to ready, first start incl. demo indexing (s)", out["first_start_ready_seconds"]],
            ["RSS when ready (MB)", out["rss_ready_mb"]],
            [f"peak RSS (VmHWM) after {out['chats']} chats (MB)", out["peak_rss_mb"]],
            ["RSS every 25 chats (MB)", " / ".join(f"{v:,.0f}" for v in out["rss_mb_every_25"])],
            [f"{out['chats']} chats, max_tokens {out['max_tokens']} (s)", out["chat_seconds"]],
            ["failed chats", out["errors"]]]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/memory.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args(argv)
    out = run(args.chats, args.max_tokens)
    report("memory", "Memory and start-up", HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
