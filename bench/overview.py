"""Overview benchmark: the figure queries of the two overviews on an audit log of 100,000 records, against
reading every record into Python and counting there (the same figures, in the same run).

    .venv/bin/python -m bench.overview [--records 100000] [--postgres DSN]

Target (issue 16): each overview's figures for 90 days of a 100,000-record log well under a second.
The log holds 90 days of turns (a question and a turn record each, sources in two collections, redactions,
withheld and no-source answers), feedback on one turn in five, and auditors' readings. Without --postgres the
PostgreSQL rows are measured on a throwaway cluster when `scripts/postgres-test-server` can start one.
Writes bench/results/overview.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.figures import FigureQuery
from assistant.audit.records import Preparer, prepare_record
from assistant.audit.retention import format_time
from bench.common import ROOT, ratio, report

TARGET_S = 1.0
DAYS = 90
READABLE = frozenset({"algemeen"})
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres-test-server"


def _turn(n: int) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A turn record as the journal writes it (about 2 kB), its content and its outcome."""
    outcome = "no_source" if n % 7 == 0 else "error:timeout" if n % 97 == 0 else "answered"
    sources = [] if outcome == "no_source" else [
        {"n": k + 1, "doc_id": f"doc-{(n + k) % 60}", "content_hash": f"doc-{(n + k) % 60}",
         "chunk_id": f"doc-{(n + k) % 60}:{n % 40}", "page": k + 1, "score": 0.5 + k / 10, "cited": k < 2,
         "collection": "hr" if (n + k) % 60 >= 50 else "algemeen"} for k in range(4)]
    record = {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "smollm2-135m-instruct",
        "baken.model.sha256": "ab" * 32, "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 384,
        "gen_ai.usage.input_tokens": 900 + n % 50, "gen_ai.usage.output_tokens": 180,
        "baken.redactions": [{"type": t, "start": 10 * i, "end": 10 * i + 9, "placeholder": f"<{t}_1>"}
                             for i, t in enumerate(("BSN", "IBAN", "PERSON")[: n % 4])],
        "baken.sources": sources, "baken.ttft_ms": 350, "baken.total_ms": 4200,
        "baken.timings_ms": {"redact": 4.0, "retrieve": 30.0, "evidence": 3.0, "generate": 4000.0},
        "baken.answer_mode": "auto", "baken.withheld": n % 5 == 1,
        "baken.evidence": [{"n": 1, "start": 0, "end": 80, "score": 0.7}] if sources else [],
        "baken.sentences": [{"status": "shown", "supported": True, "source": 1, "reason": "", "support": 0.8,
                             "model_cited": [1]}] * 3 if sources else [],
        "baken.relevance": {"cosine": 0.61, "coverage": 0.5, "evidence": 0.7}, "error.type": None,
    }
    content = {"question": f"Hoe vraag ik een vergunning aan voor <PERSON_1>? ({n % 300})",
               "answer": "U vraagt de vergunning digitaal aan via het loket [1]. " * 4,
               "chunks": ["Vergunningen worden verleend aan bewoners van het centrum. " * 8] * len(sources)}
    return record, content, outcome


def load(log: AuditLog, count: int, end: datetime) -> None:
    """`count` records over DAYS days before `end`: per turn a question and a turn record, feedback on one turn
    in five, an auditor's search every fiftieth record."""
    actor, auditor = log.pseudonym("bench"), log.pseudonym("auditor")
    step = timedelta(days=DAYS) / count
    preparers: list[Preparer] = []
    n = turns = 0
    while n < count:
        at = format_time(end - timedelta(days=DAYS) + step * n)
        record, content, outcome = _turn(turns)
        batch: list[tuple[str, str, dict[str, Any], dict[str, Any] | None, str]] = [
            ("conversation.question", actor, {"baken.sources": record["baken.sources"]},
             {"question": content["question"]}, "started"),
            ("conversation.turn", actor, record, content, outcome)]
        if turns % 5 == 0:
            batch.append(("feedback.given", actor, {"baken.feedback.turn_seq": n + 2,
                                                    "baken.feedback.rating": "useful" if turns % 3 else "not_useful"},
                          None, "recorded"))
        if turns % 25 == 0:
            batch.append(("audit.search", auditor, {"baken.audit.request": {"offset": 0}}, None, "ok"))
        for action, who, attributes, body, result in batch[: count - n]:
            preparers.append(_preparer(at, action, who, attributes, body, result))
            n += 1
        turns += 1
        if len(preparers) >= 5000:
            log.store.append_many(preparers)
            preparers = []
    if preparers:
        log.store.append_many(preparers)


def _preparer(at: str, action: str, actor: str, attributes: dict[str, Any], content: dict[str, Any] | None,
              outcome: str) -> Preparer:
    return lambda seq, head: prepare_record(seq, head, time=at, action=action, actor=actor, role="medewerker",
                                            attributes=attributes, content=content, conversation_id="conv",
                                            outcome=outcome)


def figures(log: AuditLog, query: FigureQuery) -> dict[str, Callable[[], Any]]:
    """Each figure query of the two overviews."""
    store = log.store
    return {"turn_days": lambda: store.turn_days(query), "feedback_days": lambda: store.feedback_days(query),
            "gaps": lambda: store.gaps(query), "document_counts": lambda: store.document_counts(query),
            "redaction_days": lambda: store.redaction_days(query),
            "reading_days": lambda: store.reading_days(query)}


def in_python(log: AuditLog, query: FigureQuery) -> dict[str, int]:
    """The baseline: every record of the period read and parsed in Python, the same figures counted there."""
    days: Counter[tuple[str, str, bool]] = Counter()
    cited: Counter[str] = Counter()
    redactions: Counter[tuple[str, str]] = Counter()
    gaps: Counter[str] = Counter()
    for stored in log.store.records():
        if stored.time < query.since or stored.record_json is None or stored.action != "conversation.turn":
            continue
        record = json.loads(stored.record_json)
        sources = record.get("baken.sources") or []
        cited.update(s["doc_id"] for s in sources if s.get("cited") and s.get("collection", "algemeen")
                     in query.readable)  # a document counts in its readable collection, whatever the turn
        if any(s.get("collection", "algemeen") not in query.readable for s in sources):
            continue
        days[(stored.time[:10], stored.outcome or "", bool(record.get("baken.withheld")))] += 1
        redactions.update((stored.time[:10], r.get("type", "")) for r in record.get("baken.redactions") or [])
        if stored.outcome == "no_source" and stored.content_json:
            gaps[json.loads(stored.content_json).get("question", "")] += 1
    return {"days": len(days), "documents": len(cited), "redactions": len(redactions), "gaps": len(gaps)}


def timed(run: Callable[[], Any], repeats: int) -> float:
    """The median seconds of `repeats` runs."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def measure(log: AuditLog, count: int, repeats: int) -> dict[str, Any]:
    """Load the log, then time each figure query, each overview's set of them, and the Python baseline."""
    end = datetime.now(UTC)
    start = time.perf_counter()
    load(log, count, end)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    log.store.update_figures()  # once, for the whole log; afterwards only for the records since
    catch_up_s = time.perf_counter() - start
    load(log, 100, end)
    incremental_s = timed(log.store.update_figures, 1)
    query = FigureQuery(since=format_time(end - timedelta(days=DAYS)), readable=READABLE)
    queries = figures(log, query)
    each = {name: timed(run, repeats) for name, run in queries.items()}
    manager = ("turn_days", "feedback_days", "gaps", "document_counts")
    auditor = ("turn_days", "redaction_days", "reading_days")
    python_s = timed(lambda: in_python(log, query), 1)
    store = log.store
    in_sql = {"days": len(store.turn_days(query)),
              "documents": sum(1 for c in store.document_counts(query) if c.cited),
              "redactions": len(store.redaction_days(query)), "gaps": len(store.gaps(query, limit=count))}
    return {"records": count, "load_s": round(load_s, 2), "first_update_s": round(catch_up_s, 3),
            "update_100_s": round(incremental_s, 4), "queries_s": {k: round(v, 4) for k, v in each.items()},
            "manager_s": round(sum(each[k] for k in manager), 4), "auditor_s": round(sum(each[k] for k in auditor), 4),
            "python_baseline_s": round(python_s, 3), "same_figures": in_sql == in_python(log, query)}


@contextmanager
def postgres(dsn: str | None) -> Iterator[str | None]:
    """The DSN given, or one of a throwaway cluster (None when PostgreSQL cannot be started here)."""
    if dsn:
        yield dsn
        return
    from tests.servers import free_port

    cluster = Path(tempfile.gettempdir()) / f"baken-bench-postgres-{uuid.uuid4().hex[:8]}"
    started = subprocess.run([str(POSTGRES_SCRIPT), "start", "--dir", str(cluster), "--port", str(free_port()),
                              "--no-install"], capture_output=True, text=True, timeout=120, check=False)
    if started.returncode != 0:
        yield None
        return
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", "--dir", str(cluster)], capture_output=True, timeout=60,
                       check=False)


def main() -> None:
    """Run the benchmark on SQLite and (when it can) PostgreSQL; print a table, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL DSN (default: a throwaway cluster, when possible)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="baken-bench-overview-") as tmp:
        settings = AuditSettings(checkpoint_every=1000, durable=False)
        with AuditLog.open(settings, Path(tmp)) as log:
            results["sqlite"] = measure(log, args.records, args.repeats)
        with postgres(args.postgres) as dsn:
            if dsn is not None:
                from pydantic import SecretStr

                schema = f"bench_{uuid.uuid4().hex[:8]}"
                with AuditLog.open(settings.model_copy(update={"dsn": SecretStr(dsn), "pg_schema": schema}),
                                   Path(tmp) / "pg") as log:
                    results["postgres"] = measure(log, args.records, args.repeats)
    rows = []
    for store, r in results.items():
        for name, seconds in r["queries_s"].items():
            rows.append([store, name, seconds * 1000, "", ""])
        for which in ("manager", "auditor"):
            rows.append([store, f"{which} overview, all figures", r[f"{which}_s"] * 1000,
                         ratio(r[f"{which}_s"], r["python_baseline_s"]), r[f"{which}_s"] < TARGET_S])
        rows.append([store, "baseline: every record parsed in Python", r["python_baseline_s"] * 1000, 1.0, ""])
        rows.append([store, f"figure rows of the whole log, once ({r['records']:,} records)",
                     r["first_update_s"] * 1000, ratio(r["first_update_s"], r["python_baseline_s"]), ""])
        rows.append([store, "figure rows of 100 new records", r["update_100_s"] * 1000, "", ""])
    report("overview", f"Overview figures, {args.records:,} records over {DAYS} days",
           ["store", "query", "ms (median)", "ratio to Python", f"< {TARGET_S} s"], rows,
           {"results": results, "target_s": TARGET_S, "days": DAYS})


if __name__ == "__main__":
    main()
