"""Local accounts (argon2id), server-side sessions and login throttling, stored in the web database.

A session cookie holds only a random token; the database keeps its SHA-256, the user and the CSRF token.
Sessions do not record *how* the user logged in beyond `origin`, so single sign-on (OIDC) can create them too.

Login throttling never locks an account for everyone: failures count per user name *from one client address*
(so a stranger typing ``admin`` cannot keep the administrator out) and per client address across all names
(so one address cannot spray a password over many accounts). Past its budget, each key makes the next attempt
wait, twice as long after every further failure. The failures are rows in the shared database, so every
process on every host applies the same waits.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.database import Database
from core.errors import UserError

ROLES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")
MIN_PASSWORD = 12
# argon2id cost; empty means argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
HASHING: dict[str, Any] = {}
# Password checks at once per process: each takes argon2's 64 MiB and a core for a fraction of a second, so a
# burst of logins (a morning rush, a flood of guesses from many addresses) waits here instead of taking the
# memory and every core from the pages.
HASHING_AT_ONCE = max(2, os.cpu_count() or 2)


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


@dataclass(frozen=True)
class LoginLimits:
    """How failed logins slow further attempts: free failures per name from one address and per address, the
    first wait after them (doubling with each further failure, up to ``max_delay``), and how long a failure
    counts."""

    per_name: int = 5
    per_address: int = 20
    first_delay: float = 30.0
    max_delay: float = 900.0
    window: float = 3600.0

    def wait(self, failures: list[float], budget: int, now: float) -> float:
        """Seconds until the next attempt is allowed after ``failures`` (their times, oldest first)."""
        if len(failures) < budget:
            return 0.0
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(len(failures) - budget, 32))
        return max(0.0, failures[-1] + delay - now)


@dataclass(frozen=True)
class Login:
    """The result of a login attempt: the user, or None; ``retry_after`` > 0 when the attempt was refused
    unchecked because its name or address must wait that many seconds."""

    user: User | None
    retry_after: float = 0.0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def throttle_keys(name: str, address: str) -> tuple[str, str]:
    """The failure counters a login touches: its name from its address, and its address."""
    return f"name:{name.strip().lower()}|addr:{address}", f"addr:{address}"


class Accounts:
    """Users, sessions and failed-login counts."""

    def __init__(self, db: Database, session_seconds: int, limits: LoginLimits | None = None) -> None:
        self._db = db
        self._hasher = PasswordHasher(**HASHING)
        self._dummy_hash = self._hasher.hash("baken-timing-equaliser")
        self._hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
        self.session_seconds = session_seconds
        self.limits = limits or LoginLimits()

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
            with self._hashing:
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

    # --- login throttling ---------------------------------------------------------------------------------

    def log_in(self, name: str, password: str, address: str) -> Login:
        """Check a password, unless ``name`` from ``address`` (or ``address`` itself) must still wait.

        The attempt is counted as a failure *before* the password is checked, under a lock, so that parallel
        attempts cannot all pass the check at once; a success takes it back and clears the name's failures
        from that address (never the address's own count: one good account must not reset a spray)."""
        pair, addr = throttle_keys(name, address)
        now = time.time()
        with self._db.transaction(lock="login-throttle") as conn:
            conn.execute("DELETE FROM login_failures WHERE time < ?", (now - self.limits.window,))
            wait = max(self.limits.wait(self._failures(conn, pair, now), self.limits.per_name, now),
                       self.limits.wait(self._failures(conn, addr, now), self.limits.per_address, now))
            if wait > 0:
                return Login(None, math.ceil(wait))
            conn.executemany("INSERT INTO login_failures (key, time) VALUES (?, ?)", [(pair, now), (addr, now)])
        user = self.authenticate(name, password)
        if user is not None:
            with self._db.connect() as conn:
                conn.execute("DELETE FROM login_failures WHERE key = ?", (pair,))
                conn.execute("DELETE FROM login_failures WHERE key = ? AND time = ?", (addr, now))
        return Login(user)

    def login_wait(self, name: str, address: str) -> float:
        """Seconds before ``name`` may try to log in from ``address`` again (0: now)."""
        pair, addr = throttle_keys(name, address)
        now = time.time()
        with self._db.connect() as conn:
            return math.ceil(max(self.limits.wait(self._failures(conn, pair, now), self.limits.per_name, now),
                                 self.limits.wait(self._failures(conn, addr, now), self.limits.per_address, now)))

    def record_failure(self, *keys: str) -> None:
        """Count a failed login against each key (as `log_in` does; for tools and tests)."""
        now = time.time()
        with self._db.connect() as conn:
            conn.executemany("INSERT INTO login_failures (key, time) VALUES (?, ?)", [(k, now) for k in keys])

    def _failures(self, conn: Any, key: str, now: float) -> list[float]:
        rows = conn.execute("SELECT time FROM login_failures WHERE key = ? AND time > ? ORDER BY time",
                            (key, now - self.limits.window)).fetchall()
        return [float(r["time"]) for r in rows]
