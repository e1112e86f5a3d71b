"""API keys of the OpenAI-compatible API, in the shared web database (SQLite or PostgreSQL), so that every host
sees the same keys: a key is shown once and stored only as the sha256 of its token; every request looks its key
up (no cache), so a revocation holds on every host at once. The per-key rate is counted in the same database."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import cast

from core.database import Database, Row
from core.errors import NotFound, UserError
from ingestion.collection import OPEN, check_name

TOKEN_PREFIX = "bk-"
RATE_WINDOW_SECONDS = 60
# Numbered, named migrations, recorded in `api_migrations`; a new one is appended, never edited.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("001_api_keys", """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL, owner TEXT NOT NULL, purpose TEXT NOT NULL,
    collections TEXT NOT NULL DEFAULT '', rate_per_minute INTEGER NOT NULL, created DOUBLE PRECISION NOT NULL,
    revoked DOUBLE PRECISION);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_token ON api_keys(token_hash);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_name ON api_keys(lower(name));
"""),
    ("002_api_rate", """
CREATE TABLE IF NOT EXISTS api_rate (
    key_id TEXT NOT NULL, window_start BIGINT NOT NULL, calls INTEGER NOT NULL, PRIMARY KEY (key_id, window_start));
"""),
)


@dataclass(frozen=True)
class ApiKey:
    """One key: who owns it and why, what it may read (`algemeen` and ``collections``) and how often it may call
    (never its token)."""

    id: str
    name: str
    owner: str
    purpose: str
    collections: tuple[str, ...]
    rate_per_minute: int
    created: float
    revoked: float | None = None

    @property
    def actor(self) -> str:
        """The actor id of this key's calls in the audit log (pseudonymised there like a user id)."""
        return f"apikey:{self.id}"


def hash_token(token: str) -> str:
    """The stored form of a token: its sha256 (a 32-byte random token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiKeys:
    """Adds, lists, revokes and checks API keys."""

    def __init__(self, db: Database) -> None:
        self._db = db
        migrate(db)

    def add(self, name: str, owner: str, purpose: str, collections: tuple[str, ...] = (),
            rate_per_minute: int = 60) -> tuple[ApiKey, str]:
        """A new key and its token (shown once: only its hash is kept)."""
        name = name.strip()
        if not name or not owner.strip() or not purpose.strip():
            raise UserError("a key needs a name, an owner and a purpose")
        if rate_per_minute < 1:
            raise UserError("the rate must be at least 1 call a minute")
        collections = tuple(sorted({check_name(c) for c in collections} - {OPEN}))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(uuid.uuid4().hex[:12], name, owner.strip(), purpose.strip(), collections,
                     rate_per_minute, time.time())
        with self._db.transaction(lock="api_keys") as conn:
            if conn.execute("SELECT 1 FROM api_keys WHERE lower(name) = lower(?)", (name,)).fetchone():
                raise UserError(f"a key named {name!r} exists already (names stay taken after a revocation: choose another)")
            conn.execute("INSERT INTO api_keys (id, name, token_hash, owner, purpose, collections, rate_per_minute,"
                         " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (key.id, key.name, hash_token(token), key.owner, key.purpose, ",".join(key.collections),
                          key.rate_per_minute, key.created))
        return key, token

    def registered(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM api_keys ORDER BY created").fetchall()
        return [_key(r) for r in rows]

    def revoke(self, name_or_id: str) -> ApiKey:
        """Revoke a key by name or id; from the next request on it is refused on every host."""
        with self._db.transaction(lock="api_keys") as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE (id = ? OR lower(name) = lower(?)) AND revoked IS NULL",
                               (name_or_id, name_or_id)).fetchone()
            if row is None:
                raise NotFound(f"no active key named {name_or_id!r}")
            conn.execute("UPDATE api_keys SET revoked = ? WHERE id = ?", (time.time(), row["id"]))
        return _key(row)

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key of ``token``, or None (unknown or revoked); looked up on every call."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._db.connect() as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE token_hash = ? AND revoked IS NULL",
                               (hash_token(token),)).fetchone()
        return _key(row) if row else None

    def take_call(self, key: ApiKey, now: float | None = None) -> float:
        """Count one call of ``key`` in the current minute; 0 when allowed, else the seconds until the next.

        One atomic upsert. Its commit does not wait for the disk: a count lost in a crash forgets at most a
        minute's calls, and that wait (an fsync, ~19 ms on a busy disk) was half the gateway's own time."""
        now = time.time() if now is None else now
        window = int(now // RATE_WINDOW_SECONDS) * RATE_WINDOW_SECONDS
        count = ("INSERT INTO api_rate (key_id, window_start, calls) VALUES (?, ?, 1) ON CONFLICT (key_id, window_start)"
                 " DO UPDATE SET calls = api_rate.calls + 1 RETURNING calls")
        if self._db.dialect == "sqlite":  # autocommit: the one statement is its own transaction
            with self._db.connect() as conn:
                conn.execute("PRAGMA synchronous=OFF")
                calls = cast("Row", conn.execute(count, (key.id, window)).fetchone())["calls"]  # RETURNING: one row
                conn.execute("DELETE FROM api_rate WHERE key_id = ? AND window_start < ?", (key.id, window))
        else:
            with self._db.transaction() as conn:
                conn.execute("SET LOCAL synchronous_commit TO OFF")
                calls = cast("Row", conn.execute(count, (key.id, window)).fetchone())["calls"]  # RETURNING: one row
                conn.execute("DELETE FROM api_rate WHERE key_id = ? AND window_start < ?", (key.id, window))
        return 0.0 if calls <= key.rate_per_minute else max(1.0, window + RATE_WINDOW_SECONDS - now)


def migrate(db: Database) -> None:
    """Apply the migrations not yet recorded, in order, each in one transaction."""
    db.create("CREATE TABLE IF NOT EXISTS api_migrations (name TEXT PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)")
    with db.connect() as conn:
        done = {r["name"] for r in conn.execute("SELECT name FROM api_migrations").fetchall()}
    for name, ddl in MIGRATIONS:
        if name in done:
            continue
        db.create(ddl)
        with db.transaction(lock="schema") as conn:
            conn.execute("INSERT INTO api_migrations (name, applied) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                         (name, time.time()))


def _key(row: Row) -> ApiKey:
    collections = str(row["collections"] or "")
    return ApiKey(str(row["id"]), str(row["name"]), str(row["owner"]), str(row["purpose"]),
                  tuple(c for c in collections.split(",") if c), int(row["rate_per_minute"]),
                  float(row["created"]), float(row["revoked"]) if row["revoked"] is not None else None)
