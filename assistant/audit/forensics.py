"""Raw-bytes searches of the audit database files (main file, -wal and -shm): for tests that prove personal
data never reached the disk."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def find_in_files(directory: Path, values: Iterable[str | bytes]) -> list[tuple[Path, str | bytes]]:
    """Every (file, value) where a value's bytes (UTF-8 for text) occur in a file under `directory`."""
    needles = [(v, v.encode("utf-8") if isinstance(v, str) else v) for v in values]
    hits = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [(path, value) for value, needle in needles if needle and needle in data]
    return hits


def assert_not_in_files(directory: Path, values: Iterable[str | bytes]) -> None:
    """Fail when any value occurs in any file under `directory`, including SQLite's -wal and -shm files."""
    hits = find_in_files(directory, values)
    if hits:
        listing = ", ".join(f"{value!r} in {path.name}" for path, value in hits)
        raise AssertionError(f"{len(hits)} value(s) found in raw file bytes: {listing}")
