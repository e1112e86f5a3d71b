"""A log in the first record format, as Baken wrote it before record format 2 (a frozen copy of that code's
SQLite schema and record rule), so that the upgrade tests run against real old files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT,
    conversation_id TEXT,
    outcome TEXT,
    record_json TEXT,
    record_hash BLOB NOT NULL,
    head BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE INDEX IF NOT EXISTS records_actor ON records(actor, time);
CREATE INDEX IF NOT EXISTS records_conversation ON records(conversation_id);
CREATE TABLE IF NOT EXISTS content (
    seq INTEGER PRIMARY KEY REFERENCES records(seq),
    salt BLOB NOT NULL,
    content_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY,
    head TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT,
    seq_from INTEGER,
    seq_to INTEGER,
    reason TEXT NOT NULL,
    created TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purge_authorisation (seq INTEGER PRIMARY KEY);

CREATE TRIGGER IF NOT EXISTS records_append_only BEFORE INSERT ON records
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM records)
BEGIN SELECT RAISE(ABORT, 'audit records are appended in sequence only'); END;

CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END;

CREATE TRIGGER IF NOT EXISTS records_update_only_by_purge BEFORE UPDATE ON records
WHEN NEW.seq IS NOT OLD.seq OR NEW.time IS NOT OLD.time OR NEW.action IS NOT OLD.action
  OR NEW.record_hash IS NOT OLD.record_hash OR NEW.head IS NOT OLD.head
  OR NEW.record_json IS NOT NULL OR NEW.actor IS NOT NULL OR NEW.conversation_id IS NOT NULL
  OR NEW.outcome IS NOT NULL
  OR NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed outside retention purge'); END;

CREATE TRIGGER IF NOT EXISTS content_no_update BEFORE UPDATE ON content
BEGIN SELECT RAISE(ABORT, 'audit content cannot be changed'); END;

CREATE TRIGGER IF NOT EXISTS content_delete_only_by_purge BEFORE DELETE ON content
WHEN NOT EXISTS (SELECT 1 FROM purge_authorisation WHERE seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit content can only be destroyed by retention purge'); END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be changed'); END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted'); END;
"""


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def write_v1_log(path: Path, count: int, *, time: str = "2026-01-01T00:00:00.000000Z", actor: str = "p-alice",
                 conversation_id: str = "conv-1") -> list[bytes]:
    """Create an old-schema SQLite log at `path` with `count` format-1 turn records (half with content);
    returns their heads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V1_SCHEMA)
    head, heads = bytes(32), []
    for seq in range(1, count + 1):
        content = {"question": f"vraag {seq}", "answer": f"antwoord {seq}"} if seq % 2 else None
        record: dict[str, Any] = {"gen_ai.usage.input_tokens": seq, "event_id": str(uuid.uuid4())}
        salt = content_bytes = None
        if content is not None:
            salt, content_bytes = os.urandom(32), _canonical(content)
            record["content_commitment"] = hashlib.sha256(salt + content_bytes).hexdigest()
        else:
            record["content_commitment"] = None
        record.update(seq=seq, time=time, action="conversation.turn", actor=actor, role="user",
                      conversation_id=conversation_id, outcome="answered")
        record_bytes = _canonical(record)
        rec_hash = hashlib.sha256(record_bytes).digest()
        head = hashlib.sha256(head + rec_hash).digest()
        conn.execute("INSERT INTO records (seq, time, action, actor, conversation_id, outcome, record_json,"
                     " record_hash, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, time, "conversation.turn", actor, conversation_id, "answered",
                      record_bytes.decode("utf-8"), rec_hash, head))
        if content_bytes is not None:
            conn.execute("INSERT INTO content (seq, salt, content_json) VALUES (?, ?, ?)",
                         (seq, salt, content_bytes.decode("utf-8")))
        heads.append(head)
    conn.close()
    return heads


def purge_v1(path: Path, metadata_seqs: list[int], *, time: str = "2026-06-01T00:00:00.000000Z") -> int:
    """Purge the metadata (and content) of `metadata_seqs` as the format-1 code did, appending its format-1
    purge record; returns that record's seq. Sign a checkpoint afterwards, as that code's purge did."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO purge_authorisation (seq) VALUES (?)", [(s,) for s in metadata_seqs])
    conn.executemany("DELETE FROM content WHERE seq = ?", [(s,) for s in metadata_seqs])
    conn.executemany("UPDATE records SET record_json = NULL, actor = NULL, conversation_id = NULL, outcome = NULL"
                     " WHERE seq = ?", [(s,) for s in metadata_seqs])
    conn.execute("DELETE FROM purge_authorisation")
    seq, prev = conn.execute("SELECT seq, head FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    ranges = [[s, s] for s in metadata_seqs]
    record = {"baken.purge.content_seqs": ranges, "baken.purge.metadata_seqs": ranges, "event_id": str(uuid.uuid4()),
              "content_commitment": None, "seq": seq, "time": time, "action": "audit.purge", "actor": "p-system",
              "role": "system", "conversation_id": None, "outcome": "purged"}
    record_bytes = _canonical(record)
    rec_hash = hashlib.sha256(record_bytes).digest()
    conn.execute("INSERT INTO records (seq, time, action, actor, conversation_id, outcome, record_json, record_hash,"
                 " head) VALUES (?, ?, 'audit.purge', 'p-system', NULL, 'purged', ?, ?, ?)",
                 (seq, time, record_bytes.decode("utf-8"), rec_hash, hashlib.sha256(bytes(prev) + rec_hash).digest()))
    conn.execute("COMMIT")
    conn.close()
    return seq
