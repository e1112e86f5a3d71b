"""The web's tables (accounts, sessions, login attempts, conversations) in the shared-state database: an SQLite
file under DATA_DIR/web by default, PostgreSQL when BAKEN_DATABASE__DSN is set, so that every server process on
every host sees the same accounts, sessions and history."""

from __future__ import annotations

import core.database
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


def open_web_database(settings: AppSettings) -> core.database.Database:
    """The web database as configured (PostgreSQL or DATA_DIR/web/web.sqlite3), its tables created."""
    db = core.database.Database.open(settings.database_dsn, settings.data_dir / "web" / "web.sqlite3",
                                      settings.database.pg_schema)
    db.create(SCHEMA)
    return db

