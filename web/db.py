"""The web's tables (accounts, sessions, login attempts, conversations) in the shared-state database: an SQLite
file under DATA_DIR/web by default, PostgreSQL when BAKEN_DATABASE__DSN is set, so that every server process on
every host sees the same accounts, sessions and history."""

from __future__ import annotations

import core.database
from core.database import Connection
from core.migrations import Migration, apply, columns
from web.settings import AppSettings

# Valid on SQLite and PostgreSQL. Files made before PostgreSQL support have `REAL` columns and `name ... UNIQUE
# COLLATE NOCASE`; CREATE ... IF NOT EXISTS leaves those tables as they are and only adds the lower(name) index.
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, created DOUBLE PRECISION NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_name_ci ON users(lower(name));
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, origin TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, time DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, time);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations(user_id, updated);
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '', sources_json TEXT NOT NULL DEFAULT '[]', outcome TEXT NOT NULL DEFAULT 'pending',
    event_id TEXT, feedback TEXT, created DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation_id, created);
CREATE INDEX IF NOT EXISTS turns_user_outcome ON turns(user_id, outcome);
"""



def _roles_and_groups(conn: Connection) -> None:
    """Several roles and groups per user, SSO accounts and pending SSO logins. Each user's one role becomes
    the first of its roles; the `role` column stays (the first role), so a process of the previous version
    still reads an account during a rolling upgrade."""
    present = columns(conn, "users")
    for column, ddl in (("roles", "TEXT NOT NULL DEFAULT ''"), ("user_groups", "TEXT NOT NULL DEFAULT ''"),
                        ("origin", "TEXT NOT NULL DEFAULT 'local'"), ("subject", "TEXT"), ("disabled_by", "TEXT")):
        if column not in present:
            conn.execute(f"ALTER TABLE users ADD COLUMN {column} {ddl}")
    conn.execute("UPDATE users SET roles = role WHERE roles = ''")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS users_subject ON users(subject)")
    conn.execute("CREATE TABLE IF NOT EXISTS sso_logins (state_hash TEXT PRIMARY KEY, browser_hash TEXT NOT NULL, "
                 "nonce TEXT NOT NULL, verifier TEXT NOT NULL, redirect_uri TEXT NOT NULL, next TEXT NOT NULL, "
                 "created DOUBLE PRECISION NOT NULL)")


# Numbered, named steps (core.migrations); a new one is appended, never edited.
MIGRATIONS = (
    Migration("001_tables", SCHEMA),
    Migration("002_roles_and_groups", _roles_and_groups),
)


def open_web_database(settings: AppSettings) -> core.database.Database:
    """The web database as configured (PostgreSQL or DATA_DIR/web/web.sqlite3), migrated to this version."""
    db = core.database.Database.open(settings.database_dsn, settings.data_dir / "web" / "web.sqlite3",
                                      settings.database.pg_schema)
    apply(db, "web", MIGRATIONS)
    return db

