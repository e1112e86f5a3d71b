"""Accounts, sessions, login limits and history behave the same on SQLite and PostgreSQL, and several processes
on one PostgreSQL share them (a real server: see tests/conftest.py)."""

from __future__ import annotations

import sqlite3
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import web.accounts.store
from baken.settings import Settings
from core.database import Database
from core.errors import UserError
from web.accounts.store import Accounts, Login, LoginLimits
from web.chat.history import History
from web.db import open_web_database

PASSWORD = "correct horse battery staple"

# web/db.py's SCHEMA before PostgreSQL support (REAL columns, `UNIQUE COLLATE NOCASE` on the user name).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, origin TEXT NOT NULL,
    created REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, time);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations(user_id, updated);
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '', sources_json TEXT NOT NULL DEFAULT '[]', outcome TEXT NOT NULL DEFAULT 'pending',
    event_id TEXT, feedback TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation_id, created);
"""


@pytest.fixture
def settings(dialect_settings: Settings) -> Settings:
    """The web database of each dialect (`dialect_settings`)."""
    return dialect_settings


@pytest.fixture
def open_db(settings: Settings) -> Iterator[Callable[[], Database]]:
    """open_db() -> the web database, as one more server process would open it."""
    opened: list[Database] = []

    def make() -> Database:
        opened.append(open_web_database(settings))
        return opened[-1]

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def accounts(open_db: Callable[[], Database]) -> Accounts:
    """Accounts with one-hour sessions; three free failed logins per name and address, six per address, then
    waits of 30 s doubling to at most 10 minutes; failures count for an hour."""
    return Accounts(open_db(), session_seconds=3600,
                    limits=LoginLimits(per_name=3, per_address=6, first_delay=30, max_delay=600, window=3600))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time web.accounts.store sees: clock[0], settable."""
    now = [time.time()]
    monkeypatch.setattr(web.accounts.store, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


def test_the_web_tables_live_where_the_settings_say(settings: Settings, open_db: Callable[[], Database]) -> None:
    db = open_db()
    if settings.database_dsn:
        assert db.dialect == "postgres" and settings.database.pg_schema in db.where
        assert not (settings.data_dir / "web" / "web.sqlite3").exists()
    else:
        assert db.dialect == "sqlite" and db.where == str(settings.data_dir / "web" / "web.sqlite3")
    open_db()  # opening again (another process starting) changes nothing


def test_a_user_name_is_taken_whatever_its_case(accounts: Accounts) -> None:
    alice = accounts.add_user("Alice", "medewerker", PASSWORD)
    with pytest.raises(UserError, match="already a user"):
        accounts.add_user(" alice ", "beheerder", PASSWORD)
    accounts.add_user("bob", "auditor", PASSWORD)
    assert [(u.name, u.role, u.active) for u in accounts.users()] == [("Alice", "medewerker", True),
                                                                       ("bob", "auditor", True)]
    assert accounts.user(alice.id) == alice
    assert accounts.user("nobody") is None


@pytest.mark.parametrize(("role", "name", "password", "message"), [
    ("koning", "alice", PASSWORD, "unknown role"),
    ("medewerker", "", PASSWORD, "1 to 64"),
    ("medewerker", "a\x07", PASSWORD, "1 to 64"),
    ("medewerker", "alice", "short", "at least"),
])
def test_a_bad_account_is_refused(accounts: Accounts, role: str, name: str, password: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        accounts.add_user(name, role, password)
    assert accounts.users() == []


def test_authenticate_checks_the_password_and_ignores_the_name_case(accounts: Accounts) -> None:
    alice = accounts.add_user("Alice", "medewerker", PASSWORD)
    assert accounts.authenticate("ALICE ", PASSWORD) == alice
    assert accounts.authenticate("Alice", PASSWORD + "!") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


def test_an_outdated_password_hash_is_replaced_on_login(accounts: Accounts, open_db: Callable[[], Database],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    alice = accounts.add_user("alice", "medewerker", PASSWORD)
    monkeypatch.setattr(web.accounts.store, "HASHING", {"time_cost": 2, "memory_cost": 1024, "parallelism": 1})
    stronger = Accounts(open_db(), session_seconds=3600)
    db = open_db()

    def stored() -> str:
        with db.connect() as conn:
            row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (alice.id,)).fetchone()
        return row["password_hash"] if row else ""

    assert ",t=1," in stored()
    assert stronger.authenticate("alice", PASSWORD) == alice
    assert ",t=2," in stored()
    assert accounts.authenticate("alice", PASSWORD) == alice


def test_disabling_an_account_ends_its_sessions(accounts: Accounts) -> None:
    alice = accounts.add_user("alice", "medewerker", PASSWORD)
    bob = accounts.add_user("bob", "medewerker", PASSWORD)
    token, bobs = accounts.start_session(alice), accounts.start_session(bob)
    accounts.set_active(alice.id, False)
    assert accounts.session(token) is None
    assert accounts.authenticate("alice", PASSWORD) is None
    assert accounts.user(alice.id).active is False  # type: ignore[union-attr]
    accounts.set_active(alice.id, True)
    assert accounts.session(token) is None  # re-enabling does not bring a session back
    assert accounts.authenticate("alice", PASSWORD) == alice
    assert accounts.session(bobs).user == bob  # type: ignore[union-attr]


def test_a_session_slides_forward_while_in_use_and_expires_when_not(accounts: Accounts, clock: list[float]) -> None:
    alice = accounts.add_user("alice", "medewerker", PASSWORD)
    start = clock[0]
    token = accounts.start_session(alice, origin="oidc")
    session = accounts.session(token)
    assert session is not None and session.user == alice and len(session.csrf) > 20
    clock[0] = start + 3000
    assert accounts.session(token).expires == start + 6600  # type: ignore[union-attr]
    clock[0] = start + 6000  # past the first expiry, within the slid one
    assert accounts.session(token) is not None
    clock[0] = start + 6000 + 3601
    assert accounts.session(token) is None
    assert accounts.session(None) is None and accounts.session("x" * 200) is None


def test_logging_out_ends_only_that_session(accounts: Accounts) -> None:
    alice = accounts.add_user("alice", "medewerker", PASSWORD)
    first, second = accounts.start_session(alice), accounts.start_session(alice)
    accounts.end_session(first)
    accounts.end_session(None)
    assert accounts.session(first) is None
    assert accounts.session(second) is not None


def test_failed_logins_past_the_budget_make_the_next_attempt_wait_twice_as_long_each_time(
        accounts: Accounts, clock: list[float]) -> None:
    accounts.add_user("alice", "medewerker", PASSWORD)
    for _ in range(3):
        assert accounts.log_in("alice", "wrong password!!", "10.0.0.1") == Login(None)
    waits = []
    for _ in range(6):
        refused = accounts.log_in("alice", PASSWORD, "10.0.0.1")  # even the right password waits
        assert refused.user is None and refused.retry_after > 0
        waits.append(refused.retry_after)
        clock[0] += refused.retry_after
        assert accounts.log_in("alice", "wrong password!!", "10.0.0.1") == Login(None)
    assert waits == [30, 60, 120, 240, 480, 600]
    clock[0] += 600
    assert accounts.log_in("alice", PASSWORD, "10.0.0.1").user is not None
    assert accounts.login_wait("alice", "10.0.0.1") == 0  # a success clears the name's failures there


def test_a_stranger_cannot_lock_a_user_out_from_another_address(accounts: Accounts, clock: list[float]) -> None:
    accounts.add_user("admin", "beheerder", PASSWORD)
    for _ in range(5):
        accounts.log_in("admin", "wrong password!!", "10.6.6.6")
        clock[0] += 1
    assert accounts.log_in("admin", PASSWORD, "10.6.6.6").retry_after > 0
    assert accounts.log_in("admin", PASSWORD, "10.0.0.1").user is not None


def test_spraying_many_names_from_one_address_is_slowed_too(accounts: Accounts, clock: list[float]) -> None:
    accounts.add_user("bob", "medewerker", PASSWORD)
    for n in range(6):
        assert accounts.log_in(f"user-{n}", "Welkom01!", "10.6.6.6") == Login(None)
    assert accounts.log_in("user-6", "Welkom01!", "10.6.6.6").retry_after == 30
    assert accounts.log_in("bob", PASSWORD, "10.6.6.6").retry_after == 30
    assert accounts.log_in("bob", PASSWORD, "10.0.0.1").user is not None  # other addresses are not affected
    clock[0] += 30
    assert accounts.log_in("bob", PASSWORD, "10.6.6.6").user is not None
    assert accounts.login_wait("user-7", "10.6.6.6") == 0  # a success takes its own attempt back
    assert accounts.log_in("user-7", "Welkom01!", "10.6.6.6") == Login(None)
    assert accounts.login_wait("user-8", "10.6.6.6") == 60  # ... but does not reset the address's count


def test_failed_logins_are_forgotten_after_the_window(accounts: Accounts, clock: list[float]) -> None:
    for _ in range(3):
        accounts.log_in("alice", "wrong password!!", "10.0.0.1")
    assert accounts.login_wait("alice", "10.0.0.1") == 30
    clock[0] += 3601
    assert accounts.login_wait("alice", "10.0.0.1") == 0


def test_parallel_attempts_cannot_all_slip_through_before_the_wait(accounts: Accounts) -> None:
    import threading

    barrier, results = threading.Barrier(8), []

    def attempt() -> None:
        barrier.wait()
        results.append(accounts.log_in("alice", "wrong password!!", "10.0.0.1"))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for r in results if not r.retry_after) == 3  # the budget; the rest wait


def test_two_processes_share_accounts_sessions_and_login_limits(open_db: Callable[[], Database]) -> None:
    a = Accounts(open_db(), session_seconds=3600, limits=LoginLimits(per_name=2))
    b = Accounts(open_db(), session_seconds=3600, limits=LoginLimits(per_name=2))
    alice = a.add_user("alice", "medewerker", PASSWORD)
    with pytest.raises(UserError):
        b.add_user("ALICE", "medewerker", PASSWORD)
    assert b.authenticate("alice", PASSWORD) == alice
    token = a.start_session(alice)
    assert b.session(token).csrf == a.session(token).csrf  # type: ignore[union-attr]
    b.end_session(token)
    assert a.session(token) is None
    a.log_in("bob", "wrong password!!", "10.0.0.1")
    b.log_in("bob", "wrong password!!", "10.0.0.1")
    assert a.login_wait("bob", "10.0.0.1") > 0 and b.login_wait("bob", "10.0.0.1") > 0


def test_history_is_kept_per_user(open_db: Callable[[], Database]) -> None:
    history, elsewhere = History(open_db()), History(open_db())
    first = history.start("u1", "Parkeren " * 30)
    second = history.start("u1", "Afval")
    theirs = history.start("u2", "Paspoort")
    turn = history.add_turn("u1", first, "Wat kost een parkeervergunning?")
    assert [c.id for c in elsewhere.conversations("u1")] == [first, second]  # the newest turn comes first
    assert len(elsewhere.conversations("u1")[0].title) == 120
    assert [c.id for c in elsewhere.conversations("u2")] == [theirs]
    assert elsewhere.owns("u1", first) and not elsewhere.owns("u2", first)

    assert turn.outcome == "pending" and elsewhere.turn("u1", turn.id).answer == ""  # type: ignore[union-attr]
    sources = [{"n": 1, "title": "Parkeerbeleid – €40", "page": 2}]
    history.finish_turn(turn.id, "Veertig euro [1].", sources, "answered", "event-1")
    history.set_feedback(turn.id, "up")
    later = history.add_turn("u1", first, "En voor bezoekers?")
    stored = elsewhere.turn("u1", turn.id)
    assert stored is not None
    assert (stored.answer, stored.sources, stored.outcome, stored.event_id, stored.feedback) == \
           ("Veertig euro [1].", sources, "answered", "event-1", "up")
    assert stored.created == pytest.approx(turn.created)
    assert [t.id for t in elsewhere.turns("u1", first)] == [turn.id, later.id]
    assert elsewhere.turn("u2", turn.id) is None and elsewhere.turns("u2", first) == []


def test_a_web_database_of_the_old_schema_opens_and_works(tmp_path: Path) -> None:
    path = tmp_path / "web" / "web.sqlite3"
    path.parent.mkdir()
    hasher = web.accounts.store.PasswordHasher(**web.accounts.store.HASHING)
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
        old.execute("INSERT INTO users (id, name, role, password_hash, created) VALUES (?, ?, ?, ?, ?)",
                    ("u-old", "Oud", "beheerder", hasher.hash(PASSWORD), 1.0))
        old.execute("INSERT INTO conversations VALUES ('c-old', 'u-old', 'Eerder', 1.0, 1.0)")
    old.close()

    db = open_web_database(Settings(data_dir=tmp_path))
    accounts, history = Accounts(db, session_seconds=3600), History(db)
    old_user = accounts.authenticate("oud", PASSWORD)
    assert old_user is not None and old_user.id == "u-old"
    with pytest.raises(UserError):
        accounts.add_user("OUD", "medewerker", PASSWORD)
    new_user = accounts.add_user("Nieuw", "medewerker", PASSWORD)
    assert accounts.session(accounts.start_session(new_user)).user == new_user  # type: ignore[union-attr]
    assert accounts.log_in("x", "wrong password!!", "10.0.0.1") == Login(None)
    assert accounts.login_wait("x", "10.0.0.1") == 0
    assert [c.id for c in history.conversations("u-old")] == ["c-old"]
    turn = history.add_turn("u-old", "c-old", "Nog een vraag")
    assert [t.id for t in history.turns("u-old", "c-old")] == [turn.id]
    with db.connect() as conn:
        indexes = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
    assert "users_name_ci" in indexes


def test_old_conversations_are_purged_and_a_user_deletes_only_their_own(open_db: Callable[[], Database]) -> None:
    history = History(open_db())
    old, recent, other = history.start("u1", "oud"), history.start("u1", "nieuw"), history.start("u2", "ander")
    for conversation, user in ((old, "u1"), (recent, "u1"), (other, "u2")):
        history.finish_turn(history.add_turn(user, conversation, "vraag").id, "antwoord", [], "answered", None)
    with history._db.connect() as conn:
        conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time() - 100 * 86400, old))
    assert history.purge(time.time() - 90 * 86400) == 1
    assert [c.id for c in history.conversations("u1")] == [recent] and history.turns("u1", old) == []
    assert not history.delete("u1", other)  # not theirs
    assert history.delete("u1", recent) and history.conversations("u1") == []
    assert [c.id for c in history.conversations("u2")] == [other] and len(history.turns("u2", other)) == 1


def test_password_checks_run_at_most_hashing_at_once_together(accounts: Accounts, monkeypatch) -> None:
    import threading

    accounts.add_user("alice", "medewerker", PASSWORD)
    running, most, lock = [0], [0], threading.Lock()
    hasher = accounts._hasher

    class Counted:
        def verify(self, hash_: str, password: str) -> bool:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            try:
                return hasher.verify(hash_, password)
            finally:
                with lock:
                    running[0] -= 1

        def check_needs_rehash(self, hash_: str) -> bool:
            return False

    monkeypatch.setattr(accounts, "_hasher", Counted())
    threads = [threading.Thread(target=accounts.authenticate, args=("alice", PASSWORD)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= most[0] <= web.accounts.store.HASHING_AT_ONCE
