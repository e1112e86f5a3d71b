"""Concurrency: 1, 2, 4 and 8 employees chatting at once over HTTP (the real web app, in process on a loopback
port): total tokens per second against one chat, p95 time to first token, errors, and every turn in the audit log.

    .venv/bin/python -m bench.concurrency [--levels 1 2 4 8] [--max-tokens 64]

Each level starts its clients together (a barrier) and asks the same four questions (level 1 asks them in a row,
level 2 two each, level 4 one each, level 8 each twice), so every level does the same work per turn. Real default
models. The llama.cpp context is reset before each turn (the web app's one worker thread runs turns one at a time,
so this cannot race), so no turn profits from the prefix cache of an identical question asked at the level before. Writes bench/results/concurrency.json.
Target (issue 8): tokens/s at every level >= 0.95 x one chat's; zero errors; every turn audited.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench.chat import QUESTIONS, InProcessServer, WebClient, add_users, build
from bench.common import CACHE, Stopwatch, report, summary  # sets the offline env

RATIO_TARGET = 0.95


def audited_turns(services: Any) -> int:
    """conversation.turn records in the audit log."""
    return len(services.audit.search(action="conversation.turn", limit=100_000))


def level(url: str, clients: list[WebClient], turns_each: int) -> dict[str, Any]:
    """All clients ask at once (``turns_each`` questions in a row each); wall time, tokens, TTFTs, errors."""
    barrier = threading.Barrier(len(clients) + 1)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def work(n: int, client: WebClient) -> None:
        barrier.wait()
        for t in range(turns_each):
            try:
                got = client.ask(QUESTIONS[(n * turns_each + t) % 4])  # the first four always find a source
            except Exception as exc:  # noqa: BLE001 (any failure is an error to count)
                got = {"ttft_ms": 0.0, "total_ms": 0.0, "tokens": 0, "error": f"{type(exc).__name__}: {exc}"}
            with lock:
                results.append(got)

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    clock = Stopwatch()
    for thread in threads:
        thread.join()
    wall = clock.ms() / 1000
    tokens = sum(r["tokens"] for r in results)
    return {"clients": len(clients), "turns": len(results), "wall_seconds": round(wall, 2), "tokens": tokens,
            "tokens_per_s": round(tokens / wall, 2), "ttft_ms": summary([r["ttft_ms"] for r in results]),
            "total_ms": summary([r["total_ms"] for r in results]),
            "errors": [r["error"] for r in results if r.get("error")]}


def run(levels: tuple[int, ...] = (1, 2, 4, 8), max_tokens: int = 64, n_threads: int = 0) -> dict[str, Any]:
    """Measure every level; returns the results."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="concurrency-", dir=CACHE) as tmp:
        settings, services, _ = build(Path(tmp), max_tokens, reset=True, n_threads=n_threads)
        names = [f"bench-{n}" for n in range(max(levels))]
        add_users(settings, names)
        out: dict[str, Any] = {"max_tokens": max_tokens, "n_threads": settings.threads, "levels": {}}
        try:
            with InProcessServer(settings, services) as server:
                clients = [WebClient(server.url, name) for name in names]
                clients[0].ask("Opwarmen: wat is een algoritme?")
                for count in levels:
                    before = audited_turns(services)
                    row = level(server.url, clients[:count], max(1, 4 // count))
                    row["audited"] = audited_turns(services) - before
                    out["levels"][str(count)] = row
        finally:
            services.close()
    base = out["levels"][str(levels[0])]["tokens_per_s"]
    for row in out["levels"].values():
        row["ratio"] = round(row["tokens_per_s"] / base, 3) if base else float("nan")
    rows = out["levels"].values()
    out["targets"] = {"ratio": {"value": min(r["ratio"] for r in rows), "target": RATIO_TARGET,
                                "met": all(r["ratio"] >= RATIO_TARGET for r in rows)},
                      "errors": {"value": sum(len(r["errors"]) for r in rows), "met": not any(r["errors"] for r in rows)},
                      "audited": {"met": all(r["audited"] == r["turns"] for r in rows)}}
    return out


HEADERS = ["concurrent chats", "turns", "tokens/s", "ratio vs 1", "TTFT p50 ms", "TTFT p95 ms", "errors",
           "audited", "target"]


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows."""
    return [[int(n), r["turns"], r["tokens_per_s"], r["ratio"], r["ttft_ms"]["median"], r["ttft_ms"]["p95"],
             len(r["errors"]), f"{r['audited']}/{r['turns']}",
             r["ratio"] >= RATIO_TARGET and not r["errors"] and r["audited"] == r["turns"]]
            for n, r in out["levels"].items()]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/concurrency.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (default 0: the setting's default)")
    args = parser.parse_args(argv)
    out = run(tuple(args.levels), args.max_tokens, args.threads)
    report("concurrency", f"Concurrency over HTTP (max_tokens {out['max_tokens']}, llama.cpp threads "
           f"{out['n_threads']})", HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
