"""Audit log benchmark: the cost of logging one turn, and of verifying 1,000 and 100,000 records.

    .venv/bin/python -m bench.audit [--records 100000]

Targets (issue 4): logging adds <= 5 ms to a turn (median); verifying 100,000 records takes <= 10 s.
Appends use the production settings (fsync on every commit, a signed checkpoint every 100 records).
Writes bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.records import Preparer, prepare_record

RESULTS = Path(__file__).parent / "results" / "audit.json"
APPEND_TARGET_MS, VERIFY_TARGET_S = 5.0, 10.0


def _turn(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    record = {
        "gen_ai.request.model": "smollm2-135m-instruct", "baken.model.sha256": "ab" * 32,
        "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 384,
        "gen_ai.usage.input_tokens": 900 + n % 50, "gen_ai.usage.output_tokens": 180,
        "baken.prompt_template_version": "3",
        "baken.redactions": [{"type": t, "start": 10 * i, "end": 10 * i + 9, "placeholder": f"<{t}_1>"}
                             for i, t in enumerate(("BSN", "IBAN", "PERSON"))],
        "baken.sources": [{"doc_id": f"doc-{k}", "content_hash": "cd" * 32, "chunk_id": f"doc-{k}:{n % 40}",
                           "page": k + 1, "score": 0.5 + k / 10, "cited": k < 2} for k in range(4)],
        "baken.ttft_ms": 350, "baken.total_ms": 4200,
    }
    content = {"question": f"Hoe vraag ik een parkeervergunning aan voor <PERSON_1>? ({n})",
               "answer": "U vraagt de vergunning digitaal aan via het loket [1]. " * 6,
               "chunks": ["Parkeervergunningen worden verleend aan bewoners van het centrum. " * 12] * 4}
    return record, content


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_append(directory: Path, count: int, durable: bool = True) -> dict[str, float]:
    """Append `count` turns one by one (fsync per commit when `durable`); latency per append in ms."""
    log = AuditLog.open(AuditSettings(checkpoint_every=100, durable=durable), directory)
    timings = []
    for n in range(count):
        record, content = _turn(n)
        start = time.perf_counter()
        log.append("conversation.turn", actor=f"user-{n % 25}", role="user", record=record, content=content,
                   conversation_id=f"conv-{n // 5}", outcome="answered")
        timings.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    result = log.verify()
    verify_s = time.perf_counter() - start
    log.close()
    assert result.ok, result.reason
    return {"append_median_ms": statistics.median(timings), "append_p95_ms": _percentile(timings, 0.95),
            "append_max_ms": max(timings), "verify_s": verify_s}


def bench_verify(directory: Path, count: int) -> dict[str, float]:
    """Bulk-load `count` chained turns (one transaction per 5,000), then time verifying them (three runs)."""
    log = AuditLog.open(AuditSettings(checkpoint_every=1000, durable=False), directory)
    actor = log.pseudonym("bench")
    start = time.perf_counter()
    for first in range(0, count, 5000):
        def preparer(n: int) -> Preparer:
            record, content = _turn(n)
            return lambda seq, head: prepare_record(seq, head, time=log.now(), action="conversation.turn",
                                                    actor=actor, role="user", attributes=record,
                                                    content=content, conversation_id=f"conv-{n // 5}",
                                                    outcome="answered")
        log.store.append_many([preparer(n) for n in range(first, min(count, first + 5000))])
    log.checkpoint()
    load_s = time.perf_counter() - start
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        result = log.verify()
        runs.append(time.perf_counter() - start)
        assert result.ok and result.records == count, result.reason
    log.close()
    return {"load_s": load_s, "verify_median_s": statistics.median(runs), "verify_max_s": max(runs)}


def main() -> None:
    """Run the benchmark, print a table and write bench/results/audit.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baken-bench-audit-") as tmp:
        appended = bench_append(Path(tmp) / "append", args.appends)
        unsynced = bench_append(Path(tmp) / "append-nosync", args.appends, durable=False)
        verified = bench_verify(Path(tmp) / "verify", args.records)
    rows = [
        (f"append one turn (fsync), n={args.appends}", f"{appended['append_median_ms']:.2f} ms",
         f"{appended['append_p95_ms']:.2f} ms", f"<= {APPEND_TARGET_MS} ms median",
         appended["append_median_ms"] <= APPEND_TARGET_MS),
        (f"append one turn, no fsync, n={args.appends}", f"{unsynced['append_median_ms']:.2f} ms",
         f"{unsynced['append_p95_ms']:.2f} ms", "", True),
        (f"verify {args.appends} records", f"{appended['verify_s'] * 1000:.0f} ms", "", "", True),
        (f"verify {args.records:,} records (3 runs)", f"{verified['verify_median_s']:.2f} s",
         f"max {verified['verify_max_s']:.2f} s", f"<= {VERIFY_TARGET_S} s",
         verified["verify_max_s"] <= VERIFY_TARGET_S),
    ]
    print(f"{'measure':<40} {'median':>10} {'p95/max':>12}  target")
    for name, median, spread, target, ok in rows:
        print(f"{name:<40} {median:>10} {spread:>12}  {target} {'ok' if ok else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor()},
        "appends": args.appends, "records": args.records, "append": appended, "append_without_fsync": unsynced,
        "verify": verified,
        "targets": {"append_median_ms": APPEND_TARGET_MS, "verify_100k_s": VERIFY_TARGET_S},
        "met": all(row[4] for row in rows),
    }, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
