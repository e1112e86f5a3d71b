"""Scale-out: what keeping the shared state in PostgreSQL (several hosts) costs per request beside SQLite files
under DATA_DIR (one host), measured interleaved in one run; and what rebuilding a conversation's model memory
costs when another process answered its previous turn (the price of not needing sticky sessions).

    .venv/bin/python -m bench.scale_out [--requests 1000] [--turns 30] [--documents 3000] [--repeats 5]

Both sides go through Baken's own stores on `core.database`: `Accounts.session` (every request; its sliding
expiry is written at most once a minute, so what is timed is the read, as on nearly every request), one chat
turn's writes as `web/chat/runner.py` makes them (`add_turn`, a `set_partial` every 0.5 s while the answer streams,
`finish_turn`, and the two `turns()` reads of the conversation, before and after), and `Registry.ready_ids()`
(every search). `Assistant.resume` of a 10-exchange conversation runs with the real Presidio redactor beside
redacting the newest question alone, which every turn does anyway.

PostgreSQL: BAKEN_TEST_POSTGRES_DSN when set, else a throwaway cluster from scripts/postgres-test-server,
restarted with fsync on (the script starts it with fsync=off, which would flatter every write); its tables go
into a schema of their own, dropped at the end. Without PostgreSQL only the SQLite figures are reported.
Writes bench/results/scale_out.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from bench.common import MODELS_DIR, ROOT, Stopwatch, ratio, report, summary  # sets the offline env
from tests.paths import CORPUS
from tests.servers import free_port

POSTGRES_SCRIPT = ROOT / "scripts" / "postgres-test-server"
QUESTIONS = ROOT / "bench" / "questions.jsonl"
PARTIAL_SECONDS = 0.5  # web/chat/runner.py stores the answer so far this often
LONG_ANSWER_S, TYPICAL_TURN_MS = 10.0, 3991.0  # a 10 s answer; bench/README.md's median Assistant.ask turn
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
PERSONAL = " Het gaat om mevrouw Anna de Vries (BSN 111222333), bereikbaar op 06-12345678 of anna.devries@example.nl."


# Sources as web/chat/runner.py stores them with each finished turn (4 chunks of ~800 characters).
SOURCES = [{"n": n, "doc_id": f"{n:064x}", "chunk_id": f"{n:064x}:3", "document": f"beleid-{n}.pdf",
            "title": f"Beleid {n}", "page": 2, "heading": "Maatregel", "score": 0.61,
            "text": "De gemeente bewaart logbestanden ten minste zes maanden. " * 14, "cited": n < 3}
           for n in range(1, 5)]


@dataclass
class Side:
    """One layout's stores: the web database (accounts, history) and the document registry."""

    name: str
    db: Any
    accounts: Any
    history: Any
    registry: Any
    user_id: str
    token: str
    conversation_id: str


def open_side(name: str, dsn: str | None, schema: str, workdir: Path, documents: int) -> Side:
    """The stores on SQLite files (``dsn`` None) or in PostgreSQL, filled like a busy municipality's."""
    from core.database import Database
    from core.migrations import apply
    from ingestion.registry import Registry
    from web.accounts.store import Accounts
    from web.chat.history import History
    from web.db import MIGRATIONS

    db = Database.open(dsn, workdir / name / "web.sqlite3", schema)
    apply(db, "web", MIGRATIONS)
    accounts, history = Accounts(db, session_seconds=8 * 3600), History(db)
    user = accounts.add_user("bench", "medewerker", "bench-password-1234")
    token, now = accounts.start_session(user), time.time()
    with db.transaction() as conn:  # other employees' sessions, so the lookup is not into an empty table
        conn.executemany("INSERT INTO sessions (token_hash, user_id, csrf, origin, created, expires) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         [(uuid.uuid4().hex * 2, f"user-{n}", "x", "password", now, now + 3600) for n in range(500)])
    conversation_id = history.start(user.id, "bench")
    for question, answer in exchanges(10):
        turn = history.add_turn(user.id, conversation_id, question)
        history.finish_turn(turn.id, answer, SOURCES, "answered", str(uuid.uuid4()))
    registry_db = db if dsn else Database(workdir / name / "documents.sqlite3")
    registry = Registry(registry_db)
    with registry_db.transaction() as conn:  # 1 in 50 is being deleted, so ready_ids() filters
        conn.executemany("INSERT INTO documents (doc_id, source, name, title, kind, size, chunks, status, "
                         "stored_path, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(f"{n:064x}", f"/srv/docs/beleid-{n}.pdf", f"beleid-{n}.pdf", f"Beleid {n}", "pdf",
                           200_000, 40, "ready" if n % 50 else "deleting", None, "2026-11-29T10:00:00+00:00")
                          for n in range(documents)])
    return Side(name, db, accounts, history, registry, user.id, token, conversation_id)


def exchanges(count: int) -> list[tuple[str, str]]:
    """``count`` (question, answer) pairs: bench questions (the 1st, 3rd… with personal data) answered with
    ~500 characters of the document each question is about."""
    pairs = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines()[:count]):
        item = json.loads(line)
        text = (CORPUS / "algoritmekader" / item["documents"][0]).read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        prose = " ".join(s for s in text.splitlines() if s.strip() and not s.lstrip().startswith(("#", "<!--", "|")))
        answer = re.sub(r"\s+", " ", prose)[:500].rsplit(" ", 1)[0] + " [1]"
        pairs.append((item["question"] + ("" if n % 2 else PERSONAL), answer))
    return pairs


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def chat_turn(side: Side, question: str, answer: str, partials: int) -> dict[str, Any]:
    """One turn's shared-state traffic as web/chat/runner.py makes it, in ms per operation; the turn is then removed
    (untimed) so that every turn meets a conversation of 10 earlier exchanges."""
    history, user, cid = side.history, side.user_id, side.conversation_id
    step = max(1, len(answer) // partials)
    clock = Stopwatch()
    turn = history.add_turn(user, cid, question)
    out: dict[str, Any] = {"add_turn": clock.lap(), "set_partial": []}
    history.turns(user, cid)  # ChatRunner._conversation
    reads = clock.lap()
    for k in range(partials):
        history.set_partial(turn.id, answer[:(k + 1) * step])
        out["set_partial"].append(clock.lap())
    history.finish_turn(turn.id, answer, SOURCES, "answered", str(uuid.uuid4()))
    out["finish_turn"] = clock.lap()
    history.turns(user, cid)  # ChatRunner._remember
    out["turns"] = reads + clock.lap()
    with side.db.connect() as conn:
        conn.execute("DELETE FROM turns WHERE id = ?", (turn.id,))
    return out


def measure_stores(sides: list[Side], requests: int, turns: int, repeats: int) -> dict[str, Any]:
    """Session lookups, chat turns and ready_ids() on every side, alternating which goes first (A B, B A…)."""
    partials = round(LONG_ANSWER_S / PARTIAL_SECONDS)
    typical = round(TYPICAL_TURN_MS / 1000 / PARTIAL_SECONDS)
    question, answer = exchanges(1)[0][0], exchanges(1)[0][1] * 2
    got: dict[str, dict[str, list[float]]] = {s.name: {"floor_us": [], "session_us": [], "turn_ms": [],
                                                       "typical_turn_ms": [],
                                                       "add_turn": [], "set_partial": [], "finish_turn": [],
                                                       "turns": [], "ready_ids_ms": []} for s in sides}
    for side in sides:  # warm-up: the pool's first connection, the first query plans
        side.accounts.session(side.token)
        side.registry.ready_ids()
        chat_turn(side, question, answer, 1)
    ready = {s.name: len(s.registry.ready_ids()) for s in sides}

    def rounds(count: int) -> Iterator[list[Side]]:
        for n in range(count):
            yield sides if n % 2 == 0 else sides[::-1]

    for order in rounds(requests):
        for side in order:
            started = time.perf_counter()
            found = side.accounts.session(side.token)
            got[side.name]["session_us"].append((time.perf_counter() - started) * 1e6)
            assert found is not None
            started = time.perf_counter()
            with side.db.connect() as conn:  # the floor of any store call: a connection and one round trip
                conn.execute("SELECT 1").fetchone()
            got[side.name]["floor_us"].append((time.perf_counter() - started) * 1e6)
    for order in rounds(turns):
        for side in order:
            one, into = chat_turn(side, question, answer, partials), got[side.name]
            fixed = one["add_turn"] + one["finish_turn"] + one["turns"]
            into["turn_ms"].append(fixed + sum(one["set_partial"]))
            into["typical_turn_ms"].append(fixed + sum(one["set_partial"][:typical]))
            into["set_partial"] += one["set_partial"]
            for key in ("add_turn", "finish_turn", "turns"):
                into[key].append(one[key])
    for order in rounds(repeats * 10):
        for side in order:
            got[side.name]["ready_ids_ms"].append(_timed(side.registry.ready_ids))
    return {"partials_long": partials, "partials_typical": typical, "ready_documents": ready,
            "sides": {name: {key: summary(values) for key, values in v.items()} for name, v in got.items()}}


def measure_resume(redactor: Any, repeats: int, count: int = 10) -> dict[str, Any]:
    """Assistant.resume of ``count`` exchanges beside redacting the newest question alone (fresh vault)."""
    from assistant.turn import Assistant, NullJournal
    from baken.settings import Settings
    from guardrails import Vault

    # resume() uses only the redactor and the vault: no index or model is needed.
    assistant = Assistant(cast(Any, None), cast(Any, None), redactor, NullJournal(), Settings(models_dir=MODELS_DIR),
                          vault_factory=Vault)
    earlier = exchanges(count + 1)
    question, history = earlier[-1][0], earlier[:count]
    assistant.resume("warm-up", history)
    redactor.redact(question, Vault())
    resumed: list[float] = []
    alone: list[float] = []
    for n in range(repeats):
        for which in ("resume", "question") if n % 2 == 0 else ("question", "resume"):
            if which == "resume":
                resumed.append(_timed(lambda: assistant.resume("c", history)))
            else:
                alone += [_timed(lambda: redactor.redact(question, Vault())) for _ in range(3)]
    conversation = assistant.resume("c", history)
    return {"exchanges": count, "characters": sum(len(q) + len(a) for q, a in history),
            "history_messages": len(conversation.history), "question_characters": len(question),
            "placeholders": sum(len(PLACEHOLDER.findall(m["content"])) for m in conversation.history),
            "resume_ms": summary(resumed), "question_ms": summary(alone),
            "ratio": ratio(statistics.median(resumed), statistics.median(alone))}


@contextmanager
def postgres() -> Iterator[tuple[str | None, str]]:
    """(DSN, how it was found): the configured server, or a throwaway cluster with fsync on; (None, why) when
    PostgreSQL is not installed."""
    configured = os.environ.get("BAKEN_TEST_POSTGRES_DSN")
    if configured:
        yield configured, "BAKEN_TEST_POSTGRES_DSN"
        return
    cluster = Path(tempfile.gettempdir()) / f"baken-bench-postgres-{uuid.uuid4().hex[:8]}"
    port = free_port()
    started = subprocess.run([str(POSTGRES_SCRIPT), "start", "--dir", str(cluster), "--port", str(port),
                              "--no-install"], capture_output=True, text=True, timeout=120, check=False)
    try:
        if started.returncode != 0:
            yield None, (started.stderr.strip().splitlines() or ["PostgreSQL did not start"])[-1]
            return
        _restart_with_fsync(cluster, port)
        yield started.stdout.strip(), "throwaway cluster (scripts/postgres-test-server), restarted with fsync on"
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", "--dir", str(cluster)], capture_output=True, timeout=60,
                       check=False)


def _restart_with_fsync(cluster: Path, port: int) -> None:
    """Restart the test cluster with the script's options less `fsync=off` (set on the command line, which
    ALTER SYSTEM cannot override), so commits wait for the disk as in production and as SQLite's do."""
    bindir = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    command = [str(bindir / "pg_ctl"), "-D", str(cluster / "data"), "-l", str(cluster / "server.log"), "-w",
               "-t", "60", "restart", "-o",
               f"-c listen_addresses=127.0.0.1 -p {port} -k {cluster}/socket -c max_connections=50"]
    if os.geteuid() == 0:  # the script runs the cluster as Debian's postgres account
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, capture_output=True, timeout=120, check=True)


def run(dsn: str | None, workdir: Path, redactor: Any, requests: int = 1000, turns: int = 30,
        documents: int = 3000, repeats: int = 5) -> dict[str, Any]:
    """Measure SQLite (and PostgreSQL at ``dsn``) side by side, and resume with ``redactor``."""
    from core.database import Database

    schema = f"bench_scale_out_{uuid.uuid4().hex[:8]}"
    sides = [open_side("sqlite", None, schema, workdir, documents)]
    out: dict[str, Any] = {"documents": documents, "requests": requests, "turns": turns, "postgres": None}
    try:
        if dsn:
            sides.append(open_side("postgres", dsn, schema, workdir, documents))
            with sides[1].db.connect() as conn:
                out["postgres"] = {"schema": schema, **{k: conn.execute(f"SHOW {k}").fetchone()[k]
                                                        for k in ("server_version", "fsync", "synchronous_commit")}}
        out.update(measure_stores(sides, requests, turns, repeats))
    finally:
        if dsn:
            db = Database.open(dsn, workdir, schema)
            with db.connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            db.close()
    out["resume"] = measure_resume(redactor, repeats)
    return out


HEADERS = ["measure", "SQLite (one host)", "PostgreSQL (several hosts)", "ratio", "note"]


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows: SQLite beside PostgreSQL (ratio PG/SQLite), then resume beside the question alone."""
    s = out["sides"]

    def row(label: str, key: str, stat: str = "median", note: str = "") -> list[Any]:
        lite, pg = s["sqlite"][key][stat], s.get("postgres", {}).get(key, {}).get(stat, float("nan"))
        return [label, lite, pg, ratio(pg, lite), note]

    def share(key: str, turn_ms: float) -> str:
        got = {n: v[key]["median"] / turn_ms * 100 for n, v in s.items()}
        return ", ".join(f"{n} {v:.2f} %" for n, v in got.items()) + f" of a {turn_ms / 1000:.0f} s turn"

    long_n, typ_n = out["partials_long"], out["partials_typical"]
    r = out["resume"]
    return [
        row("Accounts.session(token), every request (µs, median)", "session_us"),
        row("Accounts.session(token) (µs, p95)", "session_us", "p95"),
        row("  floor: Database.connect() + SELECT 1 (µs, median)", "floor_us",
            note="SQLite opens a connection per use; PostgreSQL reuses a pooled one (loopback, no network hop)"),
        row(f"chat turn writes, {LONG_ANSWER_S:.0f} s answer: add + {long_n} set_partial + finish + 2 turns() "
            "(ms, median)", "turn_ms", note=share("turn_ms", LONG_ANSWER_S * 1000)),
        row("  same (ms, p95)", "turn_ms", "p95"),
        row(f"chat turn writes, {TYPICAL_TURN_MS / 1000:.1f} s turn (README): {typ_n} set_partial (ms, median)",
            "typical_turn_ms", note=share("typical_turn_ms", TYPICAL_TURN_MS)),
        row("  History.add_turn (ms, median)", "add_turn"),
        row("  History.set_partial (ms, median)", "set_partial"),
        row("  History.finish_turn (ms, median)", "finish_turn"),
        row("  History.turns() x2, 10 earlier turns (ms, median)", "turns"),
        row(f"Registry.ready_ids(), {out['documents']:,} documents, every search (ms, median)", "ready_ids_ms",
            note=f"p95 SQLite {fmt_ms(s['sqlite']['ready_ids_ms']['p95'])}"
                 + (f", PostgreSQL {fmt_ms(s['postgres']['ready_ids_ms']['p95'])}" if "postgres" in s else "")),
        [f"Assistant.resume, {r['exchanges']} exchanges ({r['characters']:,} chars), real Presidio (ms, median)",
         "", r["resume_ms"]["median"], r["ratio"],
         (f"ratio to redacting the newest question alone: {fmt_ms(r['question_ms']['median'])} ms "
          f"({r['question_characters']} chars); paid when another process answered the previous turn")],
    ]


def fmt_ms(value: float) -> str:
    """A number for a note."""
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/scale_out.json."""
    from baken.settings import Settings
    from baken.wiring import build_redactor

    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="session lookups per side")
    parser.add_argument("--turns", type=int, default=30, help="chat turns per side")
    parser.add_argument("--documents", type=int, default=3000, help="documents in the registry")
    parser.add_argument("--repeats", type=int, default=5, help="resume runs (and ready_ids() x 10)")
    args = parser.parse_args(argv)
    clock = Stopwatch()
    redactor = build_redactor(Settings(models_dir=MODELS_DIR))
    with postgres() as (dsn, how), tempfile.TemporaryDirectory(prefix="baken-bench-scale-out-") as tmp:
        out = run(dsn, Path(tmp), redactor, args.requests, args.turns, args.documents, args.repeats)
    out["postgres_source"] = how
    out["seconds"] = round(clock.ms() / 1000, 1)
    pg = out["postgres"]
    where = (f"PostgreSQL {pg['server_version']} on loopback ({how}; fsync {pg['fsync']}, synchronous_commit "
             f"{pg['synchronous_commit']})" if pg else f"SQLite only: {how}")
    report("scale_out", f"Scale-out: shared state in SQLite vs PostgreSQL — {where}; {out['seconds']:.0f} s",
           HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
