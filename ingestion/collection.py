"""Collections: every document belongs to one; a collection grants reading to groups; users belong to groups.

`algemeen` always exists and is open to every employee. Any other collection is readable only by members of
a group it grants (deny by default). Search filters inside both indexes by the collections a reader may read
(`Index.search(..., collections=...)`); every other path a document's text or file takes checks the same
set (`Collections.readable`). The tables live beside the document registry, in the shared-state database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from core.database import Database
from core.errors import NotFound, UserError
from core.migrations import Migration, apply
from ingestion import registry

OPEN = "algemeen"  # the collection every employee reads
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
GROUP = re.compile(r"^[\w.@/ -]{1,200}$")  # provider group names may hold paths (Keycloak) or e-mail-like ids

MIGRATIONS = (
    Migration("001_collections", """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, title TEXT NOT NULL, created DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS collection_grants (
    collection TEXT NOT NULL, group_name TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (collection, group_name));
"""),
)


@dataclass(frozen=True)
class Collection:
    """A collection, the groups it grants reading to, and how many documents it holds."""

    name: str
    title: str
    groups: tuple[str, ...]
    documents: int = 0

    @property
    def open(self) -> bool:
        """Whether every employee reads it."""
        return self.name == OPEN


class Collections:
    """The collections and their grants, in the registry's database; thread-safe (short connections)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        apply(db, "registry", registry.MIGRATIONS)  # the documents it counts
        apply(db, "collections", MIGRATIONS)

    def add(self, name: str, title: str = "") -> Collection:
        """Create a collection (a lower-case name: letters, digits, - and _)."""
        name = check_name(name)
        if name == OPEN or self._exists(name):
            raise UserError(f"de collectie {name!r} bestaat al")
        with self._db.transaction(lock="collections") as conn:
            conn.execute("INSERT INTO collections (name, title, created) VALUES (?, ?, ?)",
                         (name, title.strip() or name, time.time()))
        return self.get(name)

    def grant(self, name: str, group: str) -> Collection:
        """Let members of ``group`` read the collection."""
        name, group = self.require(name), check_group(group)
        if name == OPEN:
            raise UserError(f"{OPEN!r} is al open voor iedere medewerker")
        with self._db.transaction(lock="collections") as conn:
            conn.execute("INSERT INTO collection_grants (collection, group_name, created) VALUES (?, ?, ?)"
                         " ON CONFLICT (collection, group_name) DO NOTHING", (name, group, time.time()))
        return self.get(name)

    def revoke(self, name: str, group: str) -> Collection:
        """Stop letting members of ``group`` read the collection (at once, for every search)."""
        name = self.require(name)
        with self._db.transaction(lock="collections") as conn:
            conn.execute("DELETE FROM collection_grants WHERE collection = ? AND group_name = ?", (name, group))
        return self.get(name)

    def get(self, name: str) -> Collection:
        """One collection with its grants and document count."""
        found = [c for c in self.list() if c.name == name]
        if not found:
            raise NotFound(f"er is geen collectie {name!r} (baken collections list)")
        return found[0]

    def list(self) -> list[Collection]:
        """Every collection, `algemeen` first, with its grants and how many ready documents it holds."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT name, title FROM collections ORDER BY name").fetchall()
            grants = conn.execute("SELECT collection, group_name FROM collection_grants"
                                  " ORDER BY collection, group_name").fetchall()
            counts = {r["collection"]: int(r["n"]) for r in conn.execute(
                "SELECT collection, COUNT(*) AS n FROM documents WHERE status = 'ready' GROUP BY collection").fetchall()}
        groups: dict[str, list[str]] = {}
        for grant in grants:
            groups.setdefault(grant["collection"], []).append(grant["group_name"])
        named = [(OPEN, "Algemeen")] + [(r["name"], r["title"]) for r in rows]
        return [Collection(name, title, tuple(groups.get(name, ())), counts.get(name, 0)) for name, title in named]

    def readable(self, groups: Iterable[str]) -> frozenset[str]:
        """The collections members of ``groups`` may read: `algemeen`, and every one granted to such a group."""
        wanted = sorted(set(groups))
        if not wanted:
            return frozenset({OPEN})
        marks = ", ".join("?" * len(wanted))
        with self._db.connect() as conn:
            rows = conn.execute(f"SELECT DISTINCT collection FROM collection_grants WHERE group_name IN ({marks})",
                                wanted).fetchall()
        return frozenset({OPEN, *(r["collection"] for r in rows)})

    def require(self, name: str) -> str:
        """``name`` when such a collection exists, else a NotFound that names the command to list them."""
        name = name.strip().lower()
        if name != OPEN and not self._exists(name):
            raise NotFound(f"er is geen collectie {name!r} (baken collections list)")
        return name

    def _exists(self, name: str) -> bool:
        with self._db.connect() as conn:
            return conn.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone() is not None


def check_name(name: str) -> str:
    """A valid collection name, lower-cased, or a UserError that says what is allowed."""
    name = name.strip().lower()
    if not NAME.match(name):
        raise UserError(f"ongeldige collectienaam {name!r}: kleine letters, cijfers, - en _, hoogstens 40 tekens")
    return name


def check_group(group: str) -> str:
    """A valid group name, or a UserError."""
    group = group.strip()
    if not GROUP.match(group):
        raise UserError(f"ongeldige groepsnaam {group!r}")
    return group
