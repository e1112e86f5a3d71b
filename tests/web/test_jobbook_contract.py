"""One contract for every JobBook: jobs in this process's memory and jobs in the shared-state database
(SQLite and PostgreSQL) are kept, listed and finished alike."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.database import Database
from web.documents.indexing import DatabaseJobs, IndexJob, JobBook, MemoryJobs, Owner


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobBook]:
    """The fake (memory) and the real book on each dialect."""
    if request.param == "memory":
        yield MemoryJobs()
        return
    if request.param == "sqlite":
        db = Database.open(None, tmp_path / "state.sqlite3")
    else:
        db = Database.open(request.getfixturevalue("postgres_dsn"), tmp_path, schema=f"t_{uuid.uuid4().hex[:12]}")
    yield DatabaseJobs(db, Owner.this_process())
    if db.dialect == "postgres":
        with db.connect() as conn:
            conn.execute(f'DROP SCHEMA "{db.schema}" CASCADE')  # type: ignore[attr-defined]
    db.close()


def _job(name: str, created: float) -> IndexJob:
    return IndexJob(id=uuid.uuid4().hex, name=name, actor_id="u1", actor_role="informatiebeheerder",
                    source=f"upload:{name}", created=created)


def test_added_jobs_are_listed_newest_first_and_unfinished(book: JobBook) -> None:
    now = time.time()
    old, new = _job("a.pdf", now - 10), _job("b.pdf", now)
    book.add(old)
    book.add(new)
    assert [j.id for j in book.recent()] == [new.id, old.id]
    assert {j.id for j in book.unfinished()} == {old.id, new.id}


def test_a_saved_finished_job_is_no_longer_unfinished(book: JobBook) -> None:
    job = _job("a.pdf", time.time())
    book.add(job)
    job.status, job.done, job.total, job.doc_id, job.result = "indexing", 1, 4, None, None
    book.progress(job)
    job.status, job.done, job.doc_id, job.result = "done", 4, "d" * 64, "new"
    book.save(job)
    book.heartbeat()
    (listed,) = book.recent()
    assert (listed.id, listed.status, listed.done, listed.total, listed.doc_id, listed.result) == (
        job.id, "done", 4, 4, "d" * 64, "new")
    assert book.unfinished() == []
