"""`baken migrate`, end to end: a single-host installation (SQLite, embedded Chroma) moved to a real PostgreSQL
and a real `chroma run` server, then served from there through the normal code paths."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.log import open_store
from baken.cli.main import main
from baken.cli.migrate import _masked
from baken.settings import Settings
from baken.wiring import build_folder_sync, build_index
from core.database import Database, DatabaseSettings
from ingestion.embedder import FakeEmbedder
from ingestion.registry import DocumentRecord, Registry, now
from ingestion.settings import IndexSettings, IngestionSettings
from ingestion.store import ChromaStore
from tests.servers import ChromaServer
from web.accounts.store import Accounts
from web.chat.history import History
from web.db import open_web_database

PASSWORD = "correct horse battery staple"
DOCUMENTS = {
    "parkeren.md": "# Parkeervergunning\n\nEen parkeervergunning voor bewoners kost veertig euro per jaar.\n",
    "afval.txt": "Grofvuil wordt op afspraak opgehaald, twee keer per jaar zonder kosten.\n",
}


@dataclass
class Installation:
    """A single-host installation under ``data``, and what the test put in it."""

    data: Path
    users: dict[str, str]  # name -> id
    conversation: str
    turns: list[Any]
    doc_ids: dict[str, str]  # file name -> doc_id
    audit_records: int


@dataclass
class Target:
    """Empty PostgreSQL schemas and a Chroma collection of the test's own; ``dsn`` carries a password."""

    dsn: str
    password: str
    schema: str
    audit_schema: str
    index_url: str
    collection: str


@pytest.fixture
def target(postgres_dsn: str, chroma_server: ChromaServer) -> Iterator[Target]:
    """Schemas and a collection nobody else uses, dropped afterwards."""
    parts = urlsplit(postgres_dsn)
    password = parts.password or "geheim-wachtwoord-4711"  # the test server trusts loopback: any password works
    if parts.password is None:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user}:{password}@{host}")
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield Target(urlunsplit(parts), password, name, f"{name}_audit", chroma_server.url, f"m{name}")
    database = Database.open(postgres_dsn, Path(), "public")
    with database.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}_audit" CASCADE')


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Installation:
    """Two users (one disabled), a conversation with two turns, a session, two documents and one unfinished,
    and an audit log, all in the embedded defaults; the `baken` command pointed at it."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    db = open_web_database(settings)
    accounts, history = Accounts(db, session_seconds=3600), History(db)
    anna, bert = accounts.add_user("Anna", "beheerder", PASSWORD), accounts.add_user("Bert", "medewerker", PASSWORD)
    accounts.set_active(bert.id, False)
    accounts.start_session(anna)
    accounts.record_failure("127.0.0.1")
    conversation = history.start(anna.id, "Parkeren")
    for question, answer in (("Wat kost een parkeervergunning?", "Veertig euro per jaar [1]."),
                             ("En voor bezoekers?", "Dat staat niet in de bronnen.")):
        turn = history.add_turn(anna.id, conversation, question)
        history.finish_turn(turn.id, answer, [{"n": 1, "title": "Parkeervergunning"}], "answered", None)

    index = build_index(settings, embedder=FakeEmbedder())
    index.collections.add("hr", "Personeelszaken")
    index.collections.grant("hr", "team-hr")
    doc_ids = {}
    for name, text in DOCUMENTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        outcome = index.ingest_file(tmp_path / name, collection="hr" if name == "afval.txt" else "algemeen")
        assert outcome.status == "new", outcome
        doc_ids[name] = outcome.doc_id
    Registry(data / "index" / "documents.sqlite3", host="elders", pid=1).begin(DocumentRecord(
        "f" * 64, "/half/klaar.md", "klaar.md", "Half klaar", "md", 3, 0, "indexing", None, now()))

    audit = AuditLog.open(settings.audit_log, data)
    audit.append_auth_event("auth.login", actor=audit.pseudonym(anna.id), role="beheerder", outcome="ok")
    audit.checkpoint()
    audit.append_auth_event("auth.logout", actor=audit.pseudonym(anna.id), role="beheerder", outcome="ok")
    audit.close()

    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    for name in ("BAKEN_DATABASE__DSN", "BAKEN_AUDIT__DSN", "BAKEN_INDEX__URL", "BAKEN_AUDIT__KEY_DIR"):
        monkeypatch.delenv(name, raising=False)
    return Installation(data, {"Anna": anna.id, "Bert": bert.id}, conversation, history.turns(anna.id, conversation),
                        doc_ids, audit_records=2)


def _migrate(target: Target, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             *extra: str, dsn_from_env: bool = False) -> tuple[int, str, str]:
    monkeypatch.setenv("BAKEN_AUDIT__PG_SCHEMA", target.audit_schema)
    monkeypatch.setenv("TARGET_DSN", target.dsn)
    to = ["--to-database-env", "TARGET_DSN"] if dsn_from_env else ["--to-database", target.dsn]
    status = main(["migrate", *to, "--schema", target.schema, "--to-index", target.index_url,
                   "--collection", target.collection, *extra])
    out, err = capsys.readouterr()
    assert target.password not in out + err
    return status, out, err


def _snapshot(data: Path) -> dict[str, Any]:
    """Everything of the source a migration must leave as it was."""
    found: dict[str, Any] = {}
    for path, tables in ((data / "web" / "web.sqlite3", ("users", "sessions", "login_failures", "conversations",
                                                          "turns", "index_jobs")),
                         (data / "index" / "documents.sqlite3", ("documents", "owners", "synced_files",
                                                                 "sync_failures", "sync_runs"))):
        with Database(path).connect() as conn:
            have = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
            for table in tables:
                found[table] = (conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                                if table in have else None)
    found["files"] = {p.name: p.read_bytes() for p in sorted((data / "documents").iterdir())}
    found["chunks"] = sorted((i, t) for b in ChromaStore(data / "index" / "chroma").chunks() for i, t in
                             zip(b.ids, b.texts))
    store = open_store(AuditSettings(), data)
    found["audit"] = store.last()
    store.close()
    return found


def test_migrate_moves_everything_and_the_scale_out_layout_serves_it(
        installation: Installation, target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    share = tmp_path / "share"  # a synced folder: one file whose bytes are indexed already, one that fails
    share.mkdir()
    (share / "parkeren.md").write_text(DOCUMENTS["parkeren.md"], encoding="utf-8")
    (share / "kapot.docx").write_bytes(b"PK\x03\x04 geen echt docx")
    single = Settings(data_dir=installation.data, ingestion=IngestionSettings(sandbox=False))
    synced = build_folder_sync(single, build_index(single, embedder=FakeEmbedder())).sync(share)
    assert (synced.counts()["unchanged"], synced.counts()["failed"]) == (1, 1)
    before = _snapshot(installation.data)
    status, out, err = _migrate(target, monkeypatch, capsys)
    assert status == 0, err
    assert "folder sync: copied 1 synced files, 1 remembered failures and 1 runs" in out
    assert "audit log: copied 2 records" in out and "the copy verifies" in out
    assert "web: copied 2 users, 1 conversations, 2 turns (not sessions or login failures" in out
    assert "documents: copied 2 ready documents and 2 originals (1 unfinished left behind)" in out
    assert f"chunks to {target.index_url} (collection {target.collection}), not embedded again" in out
    assert f"BAKEN_DATABASE__DSN={target.dsn.replace(target.password, '****')}" in out
    assert f"BAKEN_INDEX__URL={target.index_url}" in out and f"BAKEN_AUDIT__PG_SCHEMA={target.audit_schema}" in out
    assert f"Mount the audit key directory {installation.data / 'keys'} on every host" in out
    assert _snapshot(installation.data) == before

    # Another host, with nothing local but the mounted audit keys, serves what the first one had.
    host = Settings(data_dir=tmp_path / "host2",
                    database=DatabaseSettings(dsn=target.dsn, pg_schema=target.schema),
                    index=IndexSettings(url=target.index_url, collection=target.collection),
                    audit=AuditSettings(pg_schema=target.audit_schema, key_dir=installation.data / "keys"))
    db = open_web_database(host)
    accounts, history = Accounts(db, session_seconds=3600), History(db)
    anna = accounts.authenticate("anna", PASSWORD)
    assert anna is not None and anna.id == installation.users["Anna"] and anna.role == "beheerder"
    assert accounts.authenticate("Bert", PASSWORD) is None  # still disabled
    assert [(u.name, u.role, u.active) for u in accounts.users()] == [("Anna", "beheerder", True),
                                                                      ("Bert", "medewerker", False)]
    assert history.turns(anna.id, installation.conversation) == installation.turns
    with db.connect() as conn:
        assert [conn.execute(f"SELECT COUNT(*) AS n FROM {t}").fetchone()["n"]  # type: ignore[index]
                for t in ("sessions", "login_failures")] == [0, 0]

    source_index = build_index(Settings(data_dir=installation.data), embedder=FakeEmbedder())
    index = build_index(host, embedder=FakeEmbedder())
    assert sorted(d.doc_id for d in index.documents()) == sorted(installation.doc_ids.values())
    for question in ("Wat kost een parkeervergunning voor bewoners?", "Wanneer wordt grofvuil opgehaald?"):
        found, expected = index.search(question, k=2), source_index.search(question, k=2)
        assert [(h.chunk_id, h.text) for h in found] == [(h.chunk_id, h.text) for h in expected] != []
    assert index.search("grofvuil afspraak", k=1, mode="dense")[0].doc_id == installation.doc_ids["afval.txt"]
    for name, doc_id in installation.doc_ids.items():
        assert index.original(doc_id).read_bytes() == DOCUMENTS[name].encode()
    assert [(c.name, c.groups) for c in index.collections.list()] == [("algemeen", ()), ("hr", ("team-hr",))]
    assert [d.doc_id for d in index.documents({"hr"})] == [installation.doc_ids["afval.txt"]]
    index.recover()  # the first start on the new layout: nothing to repair, the chunks carry their collection
    assert [h.doc_id for h in index.search("grofvuil afspraak", 1, mode="dense", collections={"hr"})] == \
        [installation.doc_ids["afval.txt"]]
    assert installation.doc_ids["afval.txt"] not in {
        h.doc_id for h in index.search("grofvuil afspraak", 5, mode="lexical", collections={"algemeen"})}

    moved = build_folder_sync(host.model_copy(update={"ingestion": IngestionSettings(sandbox=False)}), index)
    assert [r.status for r in moved.runs()] == ["done"]  # the page shows the runs before the move
    again = moved.sync(share)  # nothing read again, nothing indexed again, the failure not retried
    assert (again.counts()["unchanged"], again.counts()["failed_unchanged"], again.counts()["new"]) == (1, 1, 0)

    audit = AuditLog.open(host.audit_log, host.data_dir)
    try:
        verified = audit.verify()
    finally:
        audit.close()
    assert verified.ok and verified.records == installation.audit_records + 1  # and the copy's own record


def test_a_dry_run_counts_and_writes_nothing(installation: Installation, target: Target, postgres_dsn: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(installation.data)
    status, out, _ = _migrate(target, monkeypatch, capsys, "--dry-run", dsn_from_env=True)  # no password in `ps`
    assert status == 0
    assert "audit log: would copy 2 records" in out and "web: would copy 2 users, 1 conversations, 2 turns" in out
    assert "documents: would copy 2 ready documents and 2 originals (1 unfinished left behind)" in out
    assert "index: would copy 2 chunks" in out and "Nothing was written" in out
    assert _snapshot(installation.data) == before
    with Database.open(postgres_dsn, Path(), "public").connect() as conn:
        assert conn.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name IN (?, ?)",
                            (target.schema, target.audit_schema)).fetchall() == []


def test_a_second_migrate_into_the_same_target_is_refused(installation: Installation, target: Target,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _migrate(target, monkeypatch, capsys)[0] == 0
    status, out, err = _migrate(target, monkeypatch, capsys)
    assert status == 1 and "copied" not in out
    assert "the target is not empty (2 users, 1 conversations, 2 turns, 2 documents, 2 originals, 2 chunks in" in err
    assert "an audit log in" in err and "never into a live installation" in err


def test_a_refused_audit_copy_leaves_every_target_empty(installation: Installation, target: Target,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    keys, away = installation.data / "keys", installation.data.parent / "keys-elsewhere"
    keys.rename(away)
    status, out, err = _migrate(target, monkeypatch, capsys)
    assert status == 1 and "stopped: the audit keys are not in" in err and "DROP SCHEMA" not in err
    assert "copied" not in out
    away.rename(keys)
    status, out, err = _migrate(target, monkeypatch, capsys)
    assert status == 0, err


def test_an_installation_with_nothing_in_it_has_nothing_to_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path / "leeg"))
    assert main(["migrate", "--to-database", "postgresql://baken:s3cret@db/baken", "--to-index",
                 "http://chroma:8000", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "audit log: none yet under DATA_DIR, nothing to copy" in out and "would copy 0 users" in out
    assert "would copy 0 ready documents" in out and "would copy 0 chunks" in out and "s3cret" not in out
    assert not (tmp_path / "leeg").exists()


def test_an_installation_already_on_postgresql_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BAKEN_DATABASE__DSN", "postgresql://baken:s3cret@db/baken")
    assert main(["migrate", "--to-database", "postgresql://baken:s3cret@db2/baken"]) == 1
    out, err = capsys.readouterr()
    assert "already (BAKEN_DATABASE__DSN)" in err and "s3cret" not in out + err


def test_without_to_index_the_index_stays_and_the_output_says_so(installation: Installation, target: Target,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAKEN_AUDIT__PG_SCHEMA", target.audit_schema)
    assert main(["migrate", "--to-database", target.dsn, "--schema", target.schema]) == 0
    out = capsys.readouterr().out
    assert f"index: stays where it is ({installation.data / 'index' / 'chroma'})" in out
    assert "BAKEN_INDEX__URL" not in out and target.password not in out


@pytest.mark.parametrize(("dsn", "shown"), [
    ("postgresql://baken:s3cret@db:5432/baken", "postgresql://baken:****@db:5432/baken"),
    ("postgresql://baken@db/baken?sslmode=require&password=s3cret",
     "postgresql://baken@db/baken?sslmode=require&password=****"),
    ("host=db user=baken password=s3cret dbname=baken", "host=db user=baken password=**** dbname=baken"),
    ("host=db password = 'met spatie s3cret' dbname=baken", "host=db password=**** dbname=baken"),
    ("http://chroma:8000", "http://chroma:8000"),
])
def test_a_dsn_is_shown_without_its_password(dsn: str, shown: str) -> None:
    assert _masked(dsn) == shown
