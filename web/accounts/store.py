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
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.database import Database
from core.errors import NotFound, UserError

ROLES = ("medewerker", "informatiebeheerder", "auditor", "beheerder")
SEPARATED = frozenset({"auditor", "beheerder"})
GROUP_NAME = re.compile(r"[\w.\-/]{1,64}")
USER_COLUMNS = "id, name, role, roles, user_groups, active, origin"
MIN_PASSWORD = 12
# argon2id cost; empty means argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
HASHING: dict[str, Any] = {}
# Password checks at once per process: each takes argon2's 64 MiB and a core for a fraction of a second, so a
# burst of logins (a morning rush, a flood of guesses from many addresses) waits here instead of taking the
# memory and every core from the pages.
HASHING_AT_ONCE = max(2, os.cpu_count() or 2)


@dataclass(frozen=True)
class User:
    """An account: id, name, its roles and groups, whether it is active, and where it comes from ("local":
    a password here; "oidc": the organisation's OpenID provider)."""

    id: str
    name: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    active: bool = True
    origin: str = "local"

    def has(self, role: str) -> bool:
        """True when the user holds ``role``."""
        return role in self.roles

    @property
    def role(self) -> str:
        """The roles as one text in ROLES order ("medewerker+beheerder"): for display and for audit records of
        actions that no single role grants (login, logout)."""
        return "+".join(ordered(self.roles))


def ordered(roles: Iterable[str]) -> list[str]:
    """Roles in the order of ROLES."""
    held = set(roles)
    return [r for r in ROLES if r in held]


def check_roles(roles: str | Iterable[str]) -> frozenset[str]:
    """The roles as a set; UserError (in Dutch and English) for none, an unknown one, or auditor together with
    beheerder (separation of duties: who administers accounts must not also audit what they did)."""
    found = frozenset(r.strip() for r in ([roles] if isinstance(roles, str) else roles) if r.strip())
    unknown = sorted(found - set(ROLES))
    if unknown:
        raise UserError(f"onbekende rol {unknown[0]!r}: kies uit {', '.join(ROLES)} / "
                        f"unknown role {unknown[0]!r}: use one of {', '.join(ROLES)}")
    if not found:
        raise UserError("een gebruiker heeft minstens één rol / a user has at least one role")
    if SEPARATED <= found:
        raise RoleConflict("de rollen auditor en beheerder gaan niet samen (functiescheiding) / auditor cannot be "
                           "combined with beheerder (separation of duties)")
    return found


def check_groups(groups: str | Iterable[str]) -> frozenset[str]:
    """Group names as a set (a text is split at commas); UserError for a name that is not 1 to 64 letters,
    digits, '-', '_', '.' or '/'."""
    found = frozenset(g.strip() for g in (groups.split(",") if isinstance(groups, str) else groups) if g.strip())
    bad = sorted(g for g in found if not GROUP_NAME.fullmatch(g))
    if bad:
        raise UserError(f"ongeldige groepsnaam {bad[0]!r}: 1 tot 64 letters, cijfers, - _ . of / / "
                        f"invalid group name {bad[0]!r}: 1 to 64 letters, digits, - _ . or /")
    return found


class RoleConflict(UserError):
    """Roles that may not be held together (auditor and beheerder)."""


def _user(r: dict[str, Any], active: bool | None = None) -> User:
    return User(r["id"], r["name"], frozenset(x for x in r["roles"].split(",") if x),
                frozenset(x for x in r["user_groups"].split(",") if x),
                bool(r["active"]) if active is None else active, r["origin"])


@dataclass(frozen=True)
class Session:
    """A logged-in session: its user and the CSRF token every state-changing request must carry."""

    user: User
    csrf: str
    expires: float
    origin: str = "password"  # how it started: "password" or "oidc"


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


def _joined(groups: Iterable[str]) -> str:
    return ",".join(sorted(groups))


def _roles_text(roles: Iterable[str]) -> tuple[str, str]:
    """The stored forms of a set of roles: the first (the `role` column older processes read) and all."""
    held = ordered(roles)
    return (held[0] if held else ""), ",".join(held)


def _check_name(name: str) -> None:
    if not name or len(name) > 64 or any(ord(c) < 32 for c in name):
        raise UserError("een gebruikersnaam is 1 tot 64 leesbare tekens / a user name is 1 to 64 printable "
                        "characters")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def throttle_keys(name: str, address: str) -> tuple[str, str]:
    """The failure counters a login touches: its name from its address, and its address."""
    return f"name:{name.strip().lower()}|addr:{address}", f"addr:{address}"


class Accounts:
    """Users, sessions and failed-login counts."""

    def __init__(self, db: Database, session_seconds: int, limits: LoginLimits | None = None,
                 sso_session_seconds: int | None = None) -> None:
        self._db = db
        self._hasher = PasswordHasher(**HASHING)
        self._dummy_hash = self._hasher.hash("baken-timing-equaliser")
        self._hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
        self.session_seconds = session_seconds
        self.limits = limits or LoginLimits()
        # An SSO session ends this long after its login, however active, so the provider decides again.
        self.sso_session_seconds = sso_session_seconds

    # --- users ---------------------------------------------------------------------------------------------

    def add_user(self, name: str, roles: str | Iterable[str], password: str,
                 groups: str | Iterable[str] = ()) -> User:
        """Create a local account; UserError for unknown or conflicting roles, a bad group name, a taken name or
        a short password."""
        name, held, member_of = name.strip(), check_roles(roles), check_groups(groups)
        _check_name(name)
        if len(password) < MIN_PASSWORD:
            raise UserError(f"een wachtwoord heeft minstens {MIN_PASSWORD} tekens / a password has at least "
                            f"{MIN_PASSWORD} characters")
        user, password_hash = User(str(uuid.uuid4()), name, held, member_of), self._hasher.hash(password)
        # The unique index on lower(name) decides, so two processes adding the same name cannot both succeed.
        with self._db.connect() as conn:
            added = conn.execute("INSERT INTO users (id, name, role, roles, user_groups, password_hash, created) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                 (user.id, name, *_roles_text(held), _joined(member_of), password_hash,
                                  time.time())).rowcount
        if not added:
            raise UserError(f"er is al een gebruiker {name!r} / there is already a user called {name!r}")
        return user

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._db.connect() as conn:
            rows = conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY lower(name), name").fetchall()
        return [_user(r) for r in rows]

    def user(self, user_id: str) -> User | None:
        """One account by id."""
        with self._db.connect() as conn:
            r = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(r) if r else None

    def user_named(self, name: str) -> User | None:
        """One account by name (case-insensitive)."""
        with self._db.connect() as conn:
            r = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE lower(name) = lower(?)",
                             (name.strip(),)).fetchone()
        return _user(r) if r else None

    def set_roles(self, user_id: str, roles: str | Iterable[str] | None = None,
                  groups: str | Iterable[str] | None = None) -> User:
        """Replace an account's roles and/or groups (None leaves them); its sessions see the change at once."""
        target = self.user(user_id)
        if target is None:
            raise NotFound("die gebruiker bestaat niet / no such user")
        held = check_roles(roles) if roles is not None else target.roles
        member_of = check_groups(groups) if groups is not None else target.groups
        with self._db.connect() as conn:
            conn.execute("UPDATE users SET role = ?, roles = ?, user_groups = ? WHERE id = ?",
                         (*_roles_text(held), _joined(member_of), user_id))
        return User(target.id, target.name, held, member_of, target.active, target.origin)

    def set_active(self, user_id: str, active: bool) -> None:
        """Enable or disable an account (an administrator's decision, which a provider login does not undo);
        disabling ends its sessions."""
        with self._db.transaction() as conn:
            conn.execute("UPDATE users SET active = ?, disabled_by = ? WHERE id = ?",
                         (int(active), None if active else "admin", user_id))
            if not active:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def sso_user(self, subject: str, name: str, roles: Iterable[str], groups: Iterable[str],
                 disabled: bool) -> User:
        """The account of a provider's subject ("issuer|sub"), created at its first login; every login replaces
        its roles and groups with the provider's, and disables it (ending its sessions) when the provider says
        so. An account an administrator disabled stays disabled. Someone refused at a first login gets no
        account (the returned User has no id)."""
        held, member_of = frozenset(roles), frozenset(groups)
        with self._db.transaction(lock="sso-user") as conn:
            r = conn.execute(f"SELECT {USER_COLUMNS}, disabled_by FROM users WHERE subject = ?",
                             (subject,)).fetchone()
            if r is None and disabled:  # no account for someone who never had access
                return User("", name, held, member_of, False, "oidc")
            if r is None:
                user_id, name = str(uuid.uuid4()), self._free_name(conn, name, subject)
                conn.execute("INSERT INTO users (id, name, role, roles, user_groups, password_hash, created, origin, "
                             "subject, active, disabled_by) VALUES (?, ?, ?, ?, ?, '', ?, 'oidc', ?, ?, ?)",
                             (user_id, name, *_roles_text(held), _joined(member_of), time.time(), subject,
                              int(not disabled), "provider" if disabled else None))
                return User(user_id, name, held, member_of, not disabled, "oidc")
            by_admin = r["disabled_by"] == "admin"
            active = not disabled and not by_admin
            conn.execute("UPDATE users SET role = ?, roles = ?, user_groups = ?, active = ?, disabled_by = ? "
                         "WHERE id = ?", (*_roles_text(held), _joined(member_of), int(active),
                                          "admin" if by_admin else "provider" if disabled else None, r["id"]))
            if not active:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (r["id"],))
        return User(r["id"], r["name"], held, member_of, active, "oidc")

    def _free_name(self, conn: Any, name: str, subject: str) -> str:
        """The provider's user name, or it with a short tag of the subject when another account has it (a
        provider user never takes over a local account by its name)."""
        name = "".join(c for c in name.strip() if ord(c) >= 32)[:48] or "sso"
        if conn.execute("SELECT 1 AS taken FROM users WHERE lower(name) = lower(?)", (name,)).fetchone() is None:
            return name
        return f"{name}~{hashlib.sha256(subject.encode()).hexdigest()[:8]}"

    def local_accounts(self) -> int:
        """Active local (password) accounts: the break-glass ones, when SSO is on."""
        with self._db.connect() as conn:
            row = conn.execute("SELECT COUNT(*) AS n FROM users WHERE origin = 'local' AND active = 1").fetchone()
        return int(row["n"]) if row else 0

    def authenticate(self, name: str, password: str) -> User | None:
        """The active local user with this name and password, or None (in about the same time either way)."""
        with self._db.connect() as conn:
            r = conn.execute(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(name) = lower(?)",
                             (name.strip(),)).fetchone()
        stored = r["password_hash"] if r and r["password_hash"] else self._dummy_hash  # an SSO account has none
        try:
            with self._hashing:
                self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if r is None or not r["active"] or r["origin"] != "local":
            return None
        if self._hasher.check_needs_rehash(r["password_hash"]):
            with self._db.connect() as conn:
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (self._hasher.hash(password), r["id"]))
        return _user(r, True)

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
            r = conn.execute("SELECT s.csrf, s.expires, s.created, s.origin AS session_origin, u.id, u.name, u.role, "
                             "u.roles, u.user_groups, u.active, u.origin FROM sessions s JOIN users u ON u.id = "
                             "s.user_id WHERE s.token_hash = ?", (_digest(token),)).fetchone()
            if r is None or r["expires"] < now or not r["active"]:
                return None
            if r["session_origin"] == "oidc" and self.sso_session_seconds and \
                    r["created"] + self.sso_session_seconds < now:
                return None
            expires = now + self.session_seconds
            # Write at most once a minute; no row left means another process ended the session since the SELECT.
            if expires - r["expires"] > 60 and not conn.execute(
                    "UPDATE sessions SET expires = ? WHERE token_hash = ?", (expires, _digest(token))).rowcount:
                return None
        return Session(_user(r, True), r["csrf"], expires, r["session_origin"])

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
