"""Local accounts (argon2id), server-side sessions and login rate limiting, stored in the web database.

A session cookie holds only a random token; the database keeps its SHA-256, the user and the CSRF token.
Sessions do not record *how* the user logged in beyond `origin`, so single sign-on (OIDC) can create them too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from baken.database import Database
from baken.errors import UserError

ROLES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")
MIN_PASSWORD = 12
# argon2id cost; empty means argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
HASHING: dict[str, Any] = {}


@dataclass(frozen=True)
class User:
    """An account: id, name, role, active."""

    id: str
    name: str
    role: str
    active: bool = True


@dataclass(frozen=True)
class Session:
    """A logged-in session: its user and the CSRF token every state-changing request must carry."""

    user: User
    csrf: str
    expires: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _count(row: dict[str, Any] | None) -> int:
    return int(row["n"]) if row else 0


class Accounts:
    """Users, sessions and failed-login counts."""

    def __init__(self, db: Database, session_seconds: int, max_failures: int = 5, window_seconds: int = 900) -> None:
        self._db = db
        self._hasher = PasswordHasher(**HASHING)
        self._dummy_hash = self._hasher.hash("baken-timing-equaliser")
        self.session_seconds = session_seconds
        self._max_failures = max_failures
        self._window = window_seconds

    # --- users ---------------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        """Create an account; UserError for an unknown role, a taken name or a short password."""
        name = name.strip()
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if not name or len(name) > 64 or any(ord(c) < 32 for c in name):
            raise UserError("a user name is 1 to 64 printable characters")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"a password has at least {MIN_PASSWORD} characters")
        user, password_hash = User(str(uuid.uuid4()), name, role), self._hasher.hash(password)
        # The unique index on lower(name) decides, so two processes adding the same name cannot both succeed.
        with self._db.connect() as conn:
            added = conn.execute("INSERT INTO users (id, name, role, password_hash, created) VALUES (?, ?, ?, ?, ?) "
                                 "ON CONFLICT DO NOTHING", (user.id, name, role, password_hash, time.time())).rowcount
        if not added:
            raise UserError(f"there is already a user called {name!r}")
        return user

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT id, name, role, active FROM users ORDER BY lower(name), name").fetchall()
        return [User(r["id"], r["name"], r["role"], bool(r["active"])) for r in rows]

    def user(self, user_id: str) -> User | None:
        """One account by id."""
        with self._db.connect() as conn:
            r = conn.execute("SELECT id, name, role, active FROM users WHERE id = ?", (user_id,)).fetchone()
        return User(r["id"], r["name"], r["role"], bool(r["active"])) if r else None

    def set_active(self, user_id: str, active: bool) -> None:
        """Enable or disable an account; disabling ends its sessions."""
        with self._db.transaction() as conn:
            conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))
            if not active:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user with this name and password, or None (in about the same time either way)."""
        with self._db.connect() as conn:
            r = conn.execute("SELECT id, name, role, active, password_hash FROM users WHERE lower(name) = lower(?)",
                             (name.strip(),)).fetchone()
        try:
            self._hasher.verify(r["password_hash"] if r else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if r is None or not r["active"]:
            return None
        if self._hasher.check_needs_rehash(r["password_hash"]):
            with self._db.connect() as conn:
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (self._hasher.hash(password), r["id"]))
        return User(r["id"], r["name"], r["role"], True)

    # --- sessions ------------------------------------------------------------------------------------------

    def start_session(self, user: User, origin: str = "password") -> str:
        """A new session for ``user``; returns the token for the cookie (only its hash is stored)."""
        token, now = secrets.token_urlsafe(32), time.time()
        with self._db.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            conn.execute("INSERT INTO sessions (token_hash, user_id, csrf, origin, created, expires) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (_digest(token), user.id, secrets.token_urlsafe(32), origin, now,
                          now + self.session_seconds))
        return token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie token (its expiry slides forward), or None."""
        if not token or len(token) > 128:
            return None
        now = time.time()
        with self._db.connect() as conn:
            r = conn.execute("SELECT s.csrf, s.expires, u.id, u.name, u.role, u.active FROM sessions s "
                             "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?", (_digest(token),)).fetchone()
            if r is None or r["expires"] < now or not r["active"]:
                return None
            expires = now + self.session_seconds
            # Write at most once a minute; no row left means another process ended the session since the SELECT.
            if expires - r["expires"] > 60 and not conn.execute(
                    "UPDATE sessions SET expires = ? WHERE token_hash = ?", (expires, _digest(token))).rowcount:
                return None
        return Session(User(r["id"], r["name"], r["role"], True), r["csrf"], expires)

    def end_session(self, token: str | None) -> None:
        """Log out: the session is gone from the store."""
        if token:
            with self._db.connect() as conn:
                conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))

    # --- rate limiting -------------------------------------------------------------------------------------

    def login_blocked(self, *keys: str) -> bool:
        """True when any key (user name, client address) had too many recent failed logins."""
        since = time.time() - self._window
        with self._db.connect() as conn:
            return any(_count(conn.execute("SELECT COUNT(*) AS n FROM login_failures WHERE key = ? AND time > ?",
                                           (k, since)).fetchone()) >= self._max_failures for k in keys)

    def record_failure(self, *keys: str) -> None:
        """Count a failed login against each key."""
        now = time.time()
        with self._db.connect() as conn:
            conn.execute("DELETE FROM login_failures WHERE time < ?", (now - self._window,))
            conn.executemany("INSERT INTO login_failures (key, time) VALUES (?, ?)", [(k, now) for k in keys])

    def clear_failures(self, *keys: str) -> None:
        """Forget failed logins after a success."""
        with self._db.connect() as conn:
            conn.executemany("DELETE FROM login_failures WHERE key = ?", [(k,) for k in keys])
