"""`baken backup` of a running installation and `baken restore` into an empty one, as an operator would."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from baken.cli.main import main
from baken.settings import Settings
from baken.wiring import build_index
from ingestion.embedder import FakeEmbedder
from tests.paths import CORPUS
from web.app import build_accounts
from web.chat.history import History
from web.db import open_web_database

PASSWORD = "correct horse battery staple"
DOCUMENTS = [CORPUS / "algoritmekader" / "voldoen-aan-wetten-en-regels_maatregelen_4-owk-04-logging.md",
             CORPUS / "algoritmekader" / "onderwerpen_duurzaamheid.md"]


@dataclass
class Installation:
    """A small embedded installation: documents, one account with a conversation, audit records."""

    settings: Settings
    doc_ids: list[str]
    user_id: str

    @property
    def data(self) -> Path:
        return self.settings.data_dir


def build_installation(data: Path, models_dir: Path, embedder) -> Installation:
    """Documents ingested, an account with a conversation, and some audit records."""
    settings = Settings(data_dir=data, models_dir=models_dir)
    index = build_index(settings, embedder=embedder)
    doc_ids = [str(index.ingest_file(path).doc_id) for path in DOCUMENTS]
    user = build_accounts(settings).add_user("anna", "medewerker", PASSWORD)
    history = History(open_web_database(settings))
    conversation = history.start(user.id, "Logging")
    turn = history.add_turn(user.id, conversation, "Wat moet er in de logbestanden staan?")
    history.finish_turn(turn.id, "Wie, wat en wanneer [1].", [{"doc_id": doc_ids[0]}], "answered", None)
    with AuditLog.open(AuditSettings(durable=False), data) as log:
        log.append_auth_event("auth.login", actor=user.id, role="medewerker", outcome="ok")
        for n in range(5):
            log.append("conversation.turn", actor=user.id, role="medewerker", record={"n": n},
                       outcome="answered")
    return Installation(settings, doc_ids, user.id)


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, embedder) -> Installation:
    return build_installation(tmp_path_factory.mktemp("live") / "data", models_dir, embedder)


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch, models_dir: Path):
    """use(data_dir): point the `baken` command at this data directory."""
    monkeypatch.setenv("BAKEN_MODELS_DIR", str(models_dir))

    def point(data: Path) -> Path:
        monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
        return data

    return point


@pytest.fixture(scope="module")
def keyless_backup(tmp_path_factory: pytest.TempPathFactory, installation: Installation,
                   models_dir: Path) -> Path:
    """A backup without the keys, taken once for the tests that only read it."""
    target = tmp_path_factory.mktemp("keyless") / "backup"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAKEN_DATA_DIR", str(installation.data))
        patch.setenv("BAKEN_MODELS_DIR", str(models_dir))
        assert main(["backup", str(target)]) == 0
    return target


def keep_writing(installation: Installation, stop: threading.Event, started: threading.Barrier,
                 written: dict[str, int]) -> list[threading.Thread]:
    """Two threads, as a running server would: one appends audit records, one writes the web database."""
    def audit() -> None:
        with AuditLog.open(AuditSettings(durable=False), installation.data) as log:
            log.append("conversation.turn", actor=installation.user_id, role="medewerker", record={},
                       outcome="ok")
            started.wait()
            while not stop.is_set():
                log.append("conversation.turn", actor=installation.user_id, role="medewerker", record={},
                           outcome="answered")
                written["audit"] += 1

    def web() -> None:
        history = History(open_web_database(installation.settings))
        conversation = history.start(installation.user_id, "Tijdens de back-up")
        started.wait()
        while not stop.is_set():
            turn = history.add_turn(installation.user_id, conversation, "Nog een vraag?")
            history.finish_turn(turn.id, "Nog een antwoord.", [], "answered", None)
            written["web"] += 1

    threads = [threading.Thread(target=audit), threading.Thread(target=web)]
    for thread in threads:
        thread.start()
    return threads


def test_a_backup_taken_while_baken_writes_restores_into_a_working_installation(
        installation: Installation, use, tmp_path: Path, embedder, models_dir: Path, capsys) -> None:
    backup, restored = tmp_path / "backup", tmp_path / "restored"
    stop, started, written = threading.Event(), threading.Barrier(3), {"audit": 0, "web": 0}
    threads = keep_writing(installation, stop, started, written)
    try:
        started.wait()
        use(installation.data)
        before = dict(written)
        assert main(["backup", "--with-keys", str(backup)]) == 0
        during = {part: written[part] - before[part] for part in written}
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    out, err = capsys.readouterr()
    assert during["audit"] > 0 and during["web"] > 0, during  # both kept writing while the backup ran
    assert "documents: 2 documents" in out and "now holds the audit signing and pseudonym keys" in err
    manifest = json.loads((backup / "manifest.json").read_text())
    assert {"keys/audit-signing.key", "keys/audit-pseudonym.key", "web/web.sqlite3", "audit/audit.sqlite3",
            "index/documents.sqlite3", "index/chunks.jsonl.gz"} <= set(manifest["files"])
    assert not [p for p in backup.rglob("*") if p.name.endswith(("-wal", "-shm"))]
    assert not (backup / "index" / "lexical").exists() and not (backup / "index" / "chroma").exists()

    use(restored)
    assert main(["restore", str(backup)]) == 0
    out = capsys.readouterr().out
    assert "documents: 2 ready, every original present" in out and "a search finds" in out
    assert f"head at seq {manifest['audit']['last_seq']} as in the backup" in out

    settings = Settings(data_dir=restored, models_dir=models_dir)
    with AuditLog.open(settings.audit_log, restored) as log:
        assert log.verify().ok
        assert manifest["audit"]["last_seq"] == manifest["audit"]["records"]
        last = log.get(log.store.last()[0])  # the restore notes itself right after the backup's head
        assert last.seq == manifest["audit"]["last_seq"] + 1 and last.action == "audit.restore"
    with AuditLog.open(Settings(data_dir=installation.data).audit_log, installation.data) as log:
        assert log.search(action="audit.backup")  # and the backup was noted in the installation's own log
    index = build_index(settings, embedder=embedder)
    assert sorted(d.doc_id for d in index.documents()) == sorted(installation.doc_ids)
    assert all(index.original(doc_id).is_file() for doc_id in installation.doc_ids)
    # the restored index finds the document (retrieval, not the "no source" gate, is what is checked here)
    hits = index.search("Wat moet er in de logbestanden van een algoritme worden vastgelegd?", 4, 0.0)
    assert hits and hits[0].doc_id == installation.doc_ids[0]
    assert build_accounts(settings).authenticate("anna", PASSWORD) is not None
    assert "Logging" in [c.title for c in History(open_web_database(settings)).conversations(installation.user_id)]


def test_without_keys_the_backup_holds_none_and_restore_says_to_put_them_back(
        installation: Installation, keyless_backup: Path, use, tmp_path: Path, capsys) -> None:
    manifest = json.loads((keyless_backup / "manifest.json").read_text())
    assert not [name for name in manifest["files"] if name.startswith("keys/")]
    assert not list(keyless_backup.rglob("*.key"))
    with AuditLog.open(AuditSettings(), installation.data) as log:
        assert manifest["keys"]["key_id"] == log.keys.signer.key_id

    restored = use(tmp_path / "restored")
    assert main(["restore", str(keyless_backup)]) == 0
    out = capsys.readouterr().out
    assert "NOT verified" in out and "audit-signing.key" in out and str(restored / "keys") in out
    assert not (restored / "keys").exists()  # no new key was made in their place

    shutil.copytree(installation.data / "keys", restored / "keys")
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_a_tampered_backup_is_refused_naming_the_file(keyless_backup: Path, use, tmp_path: Path,
                                                      capsys) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(keyless_backup, tampered)
    original = next((tampered / "documents").glob("*.md"))
    original.write_bytes(original.read_bytes().replace(b"algoritme", b"algoritne", 1))
    restored = use(tmp_path / "restored")
    assert main(["restore", str(tampered)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("baken: ") and len(err.splitlines()) == 1 and original.name in err
    assert not restored.exists()


def test_restore_refuses_a_data_dir_that_is_not_empty(keyless_backup: Path, use, tmp_path: Path,
                                                      capsys) -> None:
    restored = use(tmp_path / "restored")
    (restored / "web").mkdir(parents=True)
    assert main(["restore", str(keyless_backup)]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert [p.name for p in restored.iterdir()] == ["web"]


def test_backup_refuses_a_directory_that_is_not_empty(installation: Installation, use, tmp_path: Path,
                                                      capsys) -> None:
    use(installation.data)
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "notes.txt").write_text("oud")
    assert main(["backup", str(tmp_path / "backup")]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(("variable", "value", "advice"), [
    ("BAKEN_DATABASE__DSN", "postgresql://baken@db/baken", "pg_dump"),
    ("BAKEN_INDEX__URL", "http://chroma:8000", "Chroma server's own backup"),
])
def test_shared_state_elsewhere_is_refused_with_advice(variable: str, value: str, advice: str, use,
                                                       installation: Installation, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    use(installation.data)
    monkeypatch.setenv(variable, value)
    assert main(["backup", str(tmp_path / "backup")]) == 1
    assert advice in capsys.readouterr().err
    assert not (tmp_path / "backup").exists()


def test_a_document_deleted_while_the_backup_runs_is_left_out_not_restored_half(
        tmp_path: Path, use, models_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import baken.cli.backup as backup_module

    live = build_installation(tmp_path / "live", models_dir, FakeEmbedder())
    index = build_index(live.settings, embedder=FakeEmbedder())
    export = backup_module._write_chunks

    def delete_then_export(*args):  # after the registry snapshot, before chunks and originals are read
        index.delete(live.doc_ids[1])
        return export(*args)

    monkeypatch.setattr(backup_module, "_write_chunks", delete_then_export)
    use(live.data)
    assert main(["backup", str(tmp_path / "backup")]) == 0
    assert "documents: 1 documents with their originals; 1 left out" in capsys.readouterr().out

    use(tmp_path / "restored")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert "documents: 1 ready, every original present" in capsys.readouterr().out
    restored = build_index(Settings(data_dir=tmp_path / "restored"), embedder=FakeEmbedder())
    assert [d.doc_id for d in restored.documents()] == [live.doc_ids[0]]
    assert restored.chunk_count() == restored.documents()[0].chunks
