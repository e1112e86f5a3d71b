"""Ingestion fixtures: shared-state databases of each dialect (PostgreSQL: a real server, see tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.database import Database


def _postgres(dsn: str) -> Iterator[Database]:
    """A PostgreSQL database in a schema of its own, dropped afterwards."""
    database = Database.open(dsn, Path(), schema=f"t_{uuid.uuid4().hex[:12]}")
    yield database
    with database.connect() as conn:
        conn.execute(f'DROP SCHEMA "{database.schema}" CASCADE')  # type: ignore[attr-defined]
    database.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty shared-state database of each dialect."""
    if request.param == "sqlite":
        yield Database.open(None, tmp_path / "state.sqlite3")
    else:
        yield request.getfixturevalue("postgres")


@pytest.fixture
def postgres(postgres_dsn: str) -> Iterator[Database]:
    """An empty PostgreSQL database, as several hosts share it."""
    yield from _postgres(postgres_dsn)
