"""Where the stored originals of documents live: a directory (one host), or the shared database (several).

Originals are named by the document's sha256 and suffix, so a name always means the same bytes: a local
copy is never stale, only possibly orphaned. Every write is crash-safe: a file is written under a temporary
name and renamed into place; a database row is written in one statement.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Protocol

from core.database import Database
from core.errors import NotFound

SCHEMA = """
-- The originals of indexed documents, by stored name (sha256 and suffix), for every host to serve.
CREATE TABLE IF NOT EXISTS originals (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""
PART_MAX_AGE = 3600.0  # seconds after which a temporary file is a crashed writer's leftover


class Originals(Protocol):
    """The stored originals, by name; ``directory`` holds their local files."""

    directory: Path

    def write(self, name: str, data: bytes) -> None:
        """Store (or overwrite) an original."""
        ...

    def path(self, name: str) -> Path:
        """A local file holding the original; NotFound when the store has none."""
        ...

    def delete(self, name: str) -> None:
        """Remove an original (no error when it is not there)."""
        ...

    def prune(self, keep: set[str]) -> None:
        """Drop local copies of originals not named in ``keep``, and crashed writers' temporary files."""
        ...


class DirectoryOriginals:
    """Originals as files in one directory (DATA_DIR/documents): today's single-host store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes) -> None:
        """Write the file under a temporary name, then rename it into place."""
        write_file(self.directory / name, data)

    def path(self, name: str) -> Path:
        """The file."""
        target = self.directory / name
        if not target.is_file():
            raise NotFound(f"no stored file {name}")
        return target

    def delete(self, name: str) -> None:
        """Remove the file."""
        (self.directory / name).unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Only temporary leftovers: the directory is the store itself, and ``delete`` removes originals."""
        remove_leftovers(self.directory)


class DatabaseOriginals:
    """Originals as rows of the shared database, copied on demand into a local cache ``directory``."""

    def __init__(self, database: Database, directory: Path) -> None:
        self._db = database
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        database.create(SCHEMA)

    def write(self, name: str, data: bytes) -> None:
        """Store the bytes in the database, and keep a local copy (this host will likely serve it)."""
        with self._db.connect() as conn:
            conn.execute("INSERT INTO originals (name, data) VALUES (?, ?)"
                         " ON CONFLICT (name) DO UPDATE SET data = excluded.data", (name, data))
        write_file(self.directory / name, data)

    def path(self, name: str) -> Path:
        """The local copy, fetched from the database when missing; NotFound when the database has none."""
        cached = self.directory / name
        with self._db.connect() as conn:
            if cached.is_file():
                if conn.execute("SELECT 1 AS found FROM originals WHERE name = ?", (name,)).fetchone():
                    return cached
                row = None
            else:
                row = conn.execute("SELECT data FROM originals WHERE name = ?", (name,)).fetchone()
        if row is None:
            cached.unlink(missing_ok=True)  # deleted by another host
            raise NotFound(f"no stored file {name}")
        write_file(cached, bytes(row["data"]))
        return cached

    def delete(self, name: str) -> None:
        """Remove the row, then the local copy."""
        with self._db.connect() as conn:
            conn.execute("DELETE FROM originals WHERE name = ?", (name,))
        (self.directory / name).unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Drop local copies of originals that are gone (deleted by another host), and temporary leftovers."""
        for cached in self.directory.iterdir():
            if cached.is_file() and not cached.name.endswith(".part") and cached.name not in keep:
                cached.unlink(missing_ok=True)
        remove_leftovers(self.directory)


def write_file(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` crash-safely: a unique temporary file, flushed, then renamed into place."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_leftovers(directory: Path) -> None:
    """Remove temporary files old enough to be a crashed writer's (not one another process is writing)."""
    cutoff = time.time() - PART_MAX_AGE
    for temporary in directory.glob("*.part"):
        try:
            if temporary.stat().st_mtime < cutoff:
                temporary.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
