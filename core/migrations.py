"""Numbered, named schema migrations recorded in the database (simonw/llm's `migrations.py` is the model).

Each store (an *area*: the registry, the web tables, …) lists its steps in order. A step is SQL (statements
separated by `;` at line ends) or a function of the open transaction. `apply` runs, in one transaction under
the area's lock, every step the table `_migrations` does not list yet, and records it, so two processes
starting at once apply each step once. A database made before migrations existed gets its first step, whose
SQL is `CREATE ... IF NOT EXISTS`, as a no-op; later steps may inspect what is there (`columns`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.database import Connection, Database, statements

LEDGER = """
CREATE TABLE IF NOT EXISTS _migrations (
    area TEXT NOT NULL, name TEXT NOT NULL, applied DOUBLE PRECISION NOT NULL, PRIMARY KEY (area, name))
"""


@dataclass(frozen=True)
class Migration:
    """One named step: SQL, or a function that changes the schema through the transaction it is given."""

    name: str
    step: str | Callable[[Connection], None]


def apply(db: Database, area: str, steps: Sequence[Migration]) -> list[str]:
    """Apply the steps of ``area`` not yet recorded, in order; return their names."""
    db.create(LEDGER)
    done: list[str] = []
    with db.transaction(lock=f"migrations:{area}") as conn:
        applied = {r["name"] for r in conn.execute("SELECT name FROM _migrations WHERE area = ?", (area,)).fetchall()}
        for migration in steps:
            if migration.name in applied:
                continue
            if isinstance(migration.step, str):
                for statement in statements(migration.step):
                    conn.execute(re.sub(r"\bBLOB\b", "BYTEA", statement) if conn.dialect == "postgres" else statement)
            else:
                migration.step(conn)
            conn.execute("INSERT INTO _migrations (area, name, applied) VALUES (?, ?, ?)",
                         (area, migration.name, time.time()))
            done.append(migration.name)
    return done


def columns(conn: Connection, table: str) -> set[str]:
    """The column names of ``table`` (empty when it does not exist), on either dialect."""
    if conn.dialect == "postgres":
        rows = conn.execute("SELECT column_name AS name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND table_name = ?", (table,)).fetchall()
    else:
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    return {r["name"] for r in rows}

