"""Indexing jobs shared through the shared-state database (SQLite and a real PostgreSQL): every server process
lists every job with its progress; a job whose process died shows as interrupted; progress is not written for
every batch of chunks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

import web.documents.indexing
from baken.settings import Settings
from baken.wiring import Services
from core.database import Connection, Database
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.settings import IngestionSettings
from ingestion.store import FakeStore
from tests.web.conftest import BASE_URL
from web.app import create_app
from web.documents.indexing import INTERRUPTED, Indexer, IndexJob, Owner

BATCH = 64  # chunks per embedding call in Index._add_chunks


class PacedEmbedder(FakeEmbedder):
    """A FakeEmbedder that can hold every batch after the first ``allowed`` until released, or slow each one."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed = 10**9
        self.seconds_per_batch = 0.0
        self.released = threading.Event()
        self.calls = 0

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors, after the test lets this batch go."""
        self.calls += 1
        if self.calls > self.allowed:
            assert self.released.wait(20), "the test never released the embedder"
        time.sleep(self.seconds_per_batch)
        return super().embed_passages(texts)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty shared-state database of each dialect (PostgreSQL: a schema of its own, dropped afterwards)."""
    if request.param == "sqlite":
        db = Database.open(None, tmp_path / "state.sqlite3")
    else:
        db = Database.open(request.getfixturevalue("postgres_dsn"), tmp_path, schema=f"t_{uuid.uuid4().hex[:12]}")
    yield db
    if db.dialect == "postgres":
        with db.connect() as conn:
            conn.execute(f'DROP SCHEMA "{db.schema}" CASCADE')  # type: ignore[attr-defined]
    db.close()


@pytest.fixture
def embedder() -> PacedEmbedder:
    """The embedder of the test's index."""
    return PacedEmbedder()


@pytest.fixture
def index(tmp_path: Path, embedder: PacedEmbedder) -> Index:
    """A real, empty index over the fake embedder and store, with small chunks so that a document has many."""
    return Index(embedder, FakeStore(), Registry(tmp_path / "index.sqlite3"), tmp_path / "documents",
                 IngestionSettings(chunk_tokens=32, chunk_overlap=0))


@pytest.fixture
def indexers(index: Index, database: Database, tmp_path: Path) -> Iterator[Callable[..., Indexer]]:
    """make(**kwargs): an Indexer sharing the test's database and uploads directory, as a server process would."""
    made: list[Indexer] = []

    def make(**kwargs: Any) -> Indexer:
        made.append(Indexer(index, tmp_path / "uploads", database, **kwargs))
        return made[-1]

    yield make
    for indexer in made:
        indexer.close()


def _document(batches: int) -> bytes:
    """A Markdown document of at least ``batches`` embedding batches of 32-token chunks."""
    paragraphs = [f"Alinea {i} over de gemeente en haar " + " ".join(f"woord{i}x{j}" for j in range(24)) + "."
                  for i in range(batches * BATCH)]
    return ("# Groot document\n\n" + "\n\n".join(paragraphs) + "\n").encode()


def _spool(indexer: Indexer, body: bytes) -> Path:
    path = indexer.spool_path()
    path.write_bytes(body)
    return path


def _until(what: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def _seen(indexer: Indexer, job_id: str) -> IndexJob | None:
    return next((j for j in indexer.jobs() if j.id == job_id), None)


def _row(db: Database, job_id: str) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute("SELECT * FROM index_jobs WHERE id = ?", (job_id,)).fetchone()
    assert row is not None
    return row


def _insert_job(db: Database, owner: Owner, updated: float, status: str = "indexing") -> str:
    """A job row as another server process would have written it."""
    job_id = uuid.uuid4().hex
    with db.connect() as conn:
        conn.execute("INSERT INTO index_jobs (id, name, actor_id, actor_role, kind, status, done, total, source,"
                     " created, host, pid, pid_started, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (job_id, "elders.md", "u1", "informatiebeheerder", "upload", status, 3, 10,
                      "upload:elders.md", time.time() - 5, owner.host, owner.pid, owner.started, updated))
    return job_id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_job_is_listed_with_its_progress_and_outcome_by_another_process(
        indexers: Callable[..., Indexer], embedder: PacedEmbedder) -> None:
    finished_a: list[IndexJob] = []
    finished_b: list[IndexJob] = []
    a = indexers(on_finished=finished_a.append)
    b = indexers(on_finished=finished_b.append)
    embedder.allowed = 1  # hold the second batch, so the job stays half-way
    job = a.submit(_spool(a, _document(3)), "groot.md", "u1", "informatiebeheerder")

    running = _until(lambda: (j := _seen(b, job.id)) and j.done == BATCH and j)
    assert (running.status, running.name, running.actor_id, running.kind) == ("indexing", "groot.md", "u1", "upload")
    assert running.total > 2 * BATCH and b.busy()

    embedder.released.set()
    done = _until(lambda: (j := _seen(b, job.id)) and j.status == "done" and j)
    assert (done.result, done.error) == ("new", None)
    assert done.done == done.total == running.total and done.doc_id
    assert not b.busy()
    assert [j.id for j in _until(lambda: finished_a)] == [job.id] and finished_b == []
    assert [j.status for j in a.jobs()] == ["done"]


@pytest.mark.parametrize("owner", [
    pytest.param(lambda: Owner(Owner.this_process().host, _dead_pid(), 0), id="its-pid-is-gone"),
    pytest.param(lambda: Owner(Owner.this_process().host, os.getpid(), Owner.this_process().started + 1),
                 id="a-later-process-got-its-pid"),
])
def test_a_job_of_a_dead_process_on_this_host_shows_as_interrupted(
        owner: Callable[[], Owner], indexers: Callable[..., Indexer], database: Database) -> None:
    b = indexers()
    orphan = _insert_job(database, owner(), updated=time.time())

    [job] = b.jobs()
    assert (job.id, job.status, job.error) == (orphan, "failed", INTERRUPTED)
    assert not b.busy()
    assert (_row(database, orphan)["status"], _row(database, orphan)["error"]) == ("failed", INTERRUPTED)


def test_a_starting_process_fails_the_jobs_of_this_hosts_dead_processes(
        indexers: Callable[..., Indexer], database: Database) -> None:
    indexers()  # creates the table
    orphan = _insert_job(database, Owner(Owner.this_process().host, _dead_pid(), 0), updated=time.time())
    alive = _insert_job(database, Owner.this_process(), updated=time.time())
    indexers()
    assert _row(database, orphan)["status"] == "failed" and _row(database, orphan)["error"] == INTERRUPTED
    assert _row(database, alive)["status"] == "indexing"


@pytest.mark.parametrize("host", [
    pytest.param(lambda: "another-host.example", id="another-host"),
    pytest.param(lambda: f"{socket.gethostname()}/4026599999", id="a-container-with-host-networking"),
])
def test_another_hosts_job_is_interrupted_only_when_its_heartbeat_is_stale(
        host: Callable[[], str], indexers: Callable[..., Indexer], database: Database) -> None:
    b = indexers()
    elsewhere = Owner(host(), _dead_pid(), 1)  # its pid means nothing here
    stale = _insert_job(database, elsewhere, updated=time.time() - web.documents.indexing.STALE_SECONDS - 1)
    fresh = _insert_job(database, elsewhere, updated=time.time() - 5)

    jobs = {j.id: j for j in b.jobs()}
    assert (jobs[stale].status, jobs[stale].error) == ("failed", INTERRUPTED)
    assert (jobs[fresh].status, jobs[fresh].done, jobs[fresh].total, jobs[fresh].error) == ("indexing", 3, 10, None)
    assert b.busy()


def test_the_heartbeat_keeps_the_owners_unfinished_jobs_fresh(
        indexers: Callable[..., Indexer], database: Database, embedder: PacedEmbedder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.documents.indexing, "HEARTBEAT_SECONDS", 0.05)
    a = indexers()
    embedder.allowed = 1
    running = a.submit(_spool(a, _document(2)), "groot.md", "u1", "informatiebeheerder")
    queued = a.submit(_spool(a, b"# Klein\n\nEen klein document.\n"), "klein.md", "u1", "informatiebeheerder")
    _until(lambda: _row(database, running.id)["done"] == BATCH)
    before = {job.id: _row(database, job.id)["updated"] for job in (running, queued)}
    _until(lambda: all(_row(database, job_id)["updated"] > at + 0.1 for job_id, at in before.items()))
    embedder.released.set()
    _until(lambda: _row(database, queued.id)["status"] == "done")


def test_progress_is_written_about_once_a_second_not_for_every_batch(
        indexers: Callable[..., Indexer], database: Database, embedder: PacedEmbedder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    period = 0.2  # PROGRESS_SECONDS scaled down, so that the test takes a second rather than seconds
    monkeypatch.setattr(web.documents.indexing, "PROGRESS_SECONDS", period)
    writes: list[tuple[float, tuple[Any, ...]]] = []
    execute = Connection.execute

    def recording(self: Connection, statement: str, params: Sequence[Any] = ()) -> Any:
        if statement.startswith("UPDATE index_jobs SET status"):
            writes.append((time.monotonic(), tuple(params)))
        return execute(self, statement, params)

    monkeypatch.setattr(Connection, "execute", recording)
    a = indexers()
    embedder.seconds_per_batch, batches = 0.05, 10
    job = a.submit(_spool(a, _document(batches)), "groot.md", "u1", "informatiebeheerder")
    _until(lambda: (j := _seen(a, job.id)) and j.status == "done")

    statuses = [params[0] for _, params in writes]
    assert statuses[0] == "indexing" and statuses[-1] == "done" and statuses.count("done") == 1
    progress = [(at, params) for at, params in writes if params[0] == "indexing" and params[2] > 0]
    embedding = progress[-1][0] - progress[0][0]
    assert embedder.calls >= batches and embedding > 2 * period
    assert 2 <= len(progress) <= embedding / period + 1 < embedder.calls / 2
    assert progress[0][1][1:3] == (BATCH, progress[0][1][2])  # the first batch: the total becomes known at once
    gaps = [later[0] - earlier[0] for earlier, later in pairwise(progress)]
    assert all(gap >= period * 0.9 for gap in gaps), gaps


def test_old_finished_jobs_are_pruned(indexers: Callable[..., Indexer], database: Database,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.documents.indexing, "KEEP_JOBS", 3)
    a = indexers()
    ids = []
    for i in range(5):
        job = a.submit(_spool(a, f"# Nummer {i}\n\nTekst {i}.\n".encode()), f"n{i}.md", "u1", "informatiebeheerder")
        ids.append(job.id)
        _until(lambda: _row(database, ids[-1])["status"] == "done")
    assert [j.id for j in a.jobs()] == ids[:1:-1]
    with database.connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM index_jobs").fetchone() == {"n": 3}


def test_a_starting_process_removes_only_dead_processes_spooled_uploads(index: Index, tmp_path: Path) -> None:
    a = Indexer(index, tmp_path / "uploads")
    a.close()
    live = _spool(a, b"in progress")
    dead_owner = Owner(Owner.this_process().host, _dead_pid(), 0)
    dead = live.with_name(live.name.replace(f".{os.getpid()}.", f".{dead_owner.pid}.", 1))
    dead.write_bytes(b"left behind")
    old_style = tmp_path / "uploads" / f"{uuid.uuid4().hex}.upload"
    old_style.write_bytes(b"left behind by an older version")
    elsewhere = tmp_path / "uploads" / f"0badc0de.{dead_owner.pid}.0.{uuid.uuid4().hex}.upload"
    elsewhere.write_bytes(b"another host's, on a shared directory")
    abandoned = tmp_path / "uploads" / f"0badc0de.{dead_owner.pid}.0.{uuid.uuid4().hex}.upload"
    abandoned.write_bytes(b"another host's, long ago")
    os.utime(abandoned, (time.time() - web.documents.indexing.ABANDONED_SECONDS - 60,) * 2)

    Indexer(index, tmp_path / "uploads").close()
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == sorted([live.name, elsewhere.name])



def test_the_jobs_partial_of_another_server_process_shows_an_upload(login, web_settings_: Settings,
                                                                    services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    other = create_app(web_settings_, services)  # a second `baken serve` on the same data directory
    polled_elsewhere = TestClient(other, base_url=BASE_URL)
    polled_elsewhere.cookies = client.cookies
    try:
        response = client.put("/documents/upload", content=b"# Afval\n\nDe groene bak gaat elke week.\n",
                              headers={"X-CSRF-Token": csrf, "X-File-Name": "afval.md",
                                       "Content-Type": "application/octet-stream"})
        job_id = response.json()["job"]
        html = _until(lambda: (page := polled_elsewhere.get("/documents/jobs").text) and "klaar" in page and page)
        assert f'data-job="{job_id}"' in html and "afval.md" in html and "klaar: toegevoegd" in html
    finally:
        other.state.baken.indexer.close()
        other.state.baken.chat.close()


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="PID namespaces are Linux's")
def test_a_host_is_its_name_and_pid_namespace() -> None:
    namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    assert Owner.this_process().host == f"{socket.gethostname()}/{namespace}"
