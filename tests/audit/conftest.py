"""Fixtures of the audit tests: a log in tmp_path, turn records, and raw access with the triggers dropped."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.chain import body_hash, header_fields, record_hash, record_hash_v2


def turn_record(n: int = 0, doc_id: str = "doc-1") -> dict[str, Any]:
    """A turn's metadata as the lead's conversation code passes it."""
    return {
        "gen_ai.request.model": "smollm2-135m-instruct",
        "baken.model.sha256": "ab" * 32,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 384,
        "gen_ai.usage.input_tokens": 120 + n,
        "gen_ai.usage.output_tokens": 40,
        "baken.prompt_template_version": "1",
        "baken.redactions": [{"type": "BSN", "start": 10, "end": 19, "placeholder": "<BSN_1>"}],
        "baken.sources": [{"doc_id": doc_id, "content_hash": "cd" * 32, "chunk_id": f"{doc_id}:3", "page": 2,
                           "score": 0.61, "cited": True}],
        "baken.ttft_ms": 210,
        "baken.total_ms": 1900,
    }


def turn_content(n: int = 0) -> dict[str, Any]:
    """A turn's redacted content."""
    return {"question": f"Mijn BSN is <BSN_1>, wat is vraag {n}?", "answer": f"Antwoord {n} (bron 1).",
            "chunks": [f"Tekst van fragment {n}."]}


def append_turns(log: AuditLog, count: int, *, actor: str = "alice", conversation_id: str = "conv-1",
                 doc_id: str = "doc-1") -> list[int]:
    """Append `count` conversation turns; returns their seqs."""
    return [log.append("conversation.turn", actor=actor, role="user", record=turn_record(n, doc_id),
                       content=turn_content(n), conversation_id=conversation_id, outcome="answered")
            for n in range(count)]


@pytest.fixture
def settings(tmp_path: Path) -> AuditSettings:
    """Settings with the database and keys in tmp_path and a checkpoint every 5 records."""
    return AuditSettings(path=tmp_path / "audit" / "audit.sqlite3", key_dir=tmp_path / "keys",
                         checkpoint_every=5, durable=False)


@pytest.fixture
def log(settings: AuditSettings, tmp_path: Path) -> Iterator[AuditLog]:
    """An open audit log, closed after the test."""
    audit_log = AuditLog.open(settings, tmp_path)
    yield audit_log
    audit_log.close()


def rehashed(text: str) -> tuple[bytes, bytes | None]:
    """The (record hash, body hash) that an attacker who knows the rules computes for an edited record."""
    record = json.loads(text)
    if "format" not in record:
        return record_hash(text.encode("utf-8")), None
    digest = body_hash(text.encode("utf-8"))
    return record_hash_v2(header_fields(record), digest), digest


@contextmanager
def tampering(db: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection with every trigger dropped, as an attacker with file access would have."""
    conn = sqlite3.connect(db, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `baken audit ...` through the real entry point with DATA_DIR = tmp_path; returns (status, stdout)."""
    import baken.cli.main as entry

    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(entry, "COMMAND_MODULES", ("audit",))  # the other command modules are not ours

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        status = entry.main(["audit", *argv])
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    return run


@dataclass
class Backend:
    """An audit log on one store adapter, and `raw(sql, params)`: its tables with every trigger dropped, as an
    attacker with access to the files or the database would have them (``?`` placeholders on both)."""

    name: str
    log: AuditLog
    raw: Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, settings: AuditSettings, tmp_path: Path) -> Iterator[Backend]:
    """The same tests on the SQLite and the PostgreSQL store (the latter skipped without PostgreSQL)."""
    if request.param == "sqlite":
        log = AuditLog.open(settings, tmp_path)

        def raw_sqlite(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            with tampering(settings.path) as conn:  # type: ignore[arg-type]
                return conn.execute(sql, params).fetchall()

        yield Backend("sqlite", log, raw_sqlite)
        log.close()
        return
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"audit_{uuid.uuid4().hex[:12]}"
    log = AuditLog.open(settings.model_copy(update={"dsn": SecretStr(dsn), "pg_schema": schema}), tmp_path)

    def raw_postgres(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema}") as conn:
            for table in ("records", "content", "checkpoints"):
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
            cursor = conn.execute(sql.replace("?", "%s"), params)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    yield Backend("postgres", log, raw_postgres)
    log.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
