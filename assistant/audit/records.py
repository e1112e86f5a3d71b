"""Building one chained record: the caller's attributes plus the fields the log adds, hashed into the chain."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.audit.chain import (
    CURRENT_FORMAT,
    SALT_BYTES,
    body_hash,
    canonical_json,
    commitment,
    header_of,
    next_head,
    record_hash_v2,
)

# Fields the log sets itself; a caller's record may carry only `event_id` of these.
RESERVED_FIELDS = frozenset(
    {"format", "seq", "time", "action", "kind", "actor", "role", "conversation_id", "outcome",
     "content_commitment"}
)
PURGE_ACTION = "audit.purge"


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready to be written: its canonical bytes, chain fields and (salted) content; `format` and
    `body_hash` are those of the record format (format 1 has no body hash)."""

    seq: int
    time: str
    action: str
    actor: str
    conversation_id: str | None
    outcome: str | None
    record_json: str
    record_hash: bytes
    head: bytes
    content_json: str | None
    salt: bytes | None
    format: int = CURRENT_FORMAT
    body_hash: bytes | None = None


# A store calls this inside its write transaction with (next seq, current head).
Preparer = Callable[[int, bytes], PreparedRecord]


def prepare_record(
    seq: int,
    prev_head: bytes,
    *,
    time: str,
    action: str,
    actor: str,
    role: str,
    attributes: dict[str, Any],
    content: dict[str, Any] | None = None,
    conversation_id: str | None = None,
    outcome: str | None = None,
) -> PreparedRecord:
    """Add the log's fields to `attributes`, commit to `content` and chain the result after `prev_head`, in the
    current record format (2: the hash commits to the header and the body separately, see chain.py)."""
    clash = RESERVED_FIELDS.intersection(attributes)
    if clash:
        raise ValueError(f"record attributes may not set {sorted(clash)}: the audit log sets them")
    record = dict(attributes)
    record.setdefault("event_id", str(uuid.uuid4()))
    content_json = salt = None
    if content is not None:
        salt = os.urandom(SALT_BYTES)
        content_bytes = canonical_json(content)
        content_json = content_bytes.decode("utf-8")
        record["content_commitment"] = commitment(salt, content_bytes).hex()
    else:
        record["content_commitment"] = None
    header = header_of(seq, time, action)
    record.update(header, actor=actor, role=role, conversation_id=conversation_id, outcome=outcome)
    record_bytes = canonical_json(record)
    body_digest = body_hash(record_bytes)
    rec_hash = record_hash_v2(header, body_digest)
    return PreparedRecord(
        seq=seq, time=time, action=action, actor=actor, conversation_id=conversation_id, outcome=outcome,
        record_json=record_bytes.decode("utf-8"), record_hash=rec_hash, head=next_head(prev_head, rec_hash),
        content_json=content_json, salt=salt, format=CURRENT_FORMAT, body_hash=body_digest,
    )


def seq_ranges(seqs: list[int]) -> list[list[int]]:
    """Compress sorted sequence numbers to inclusive [first, last] ranges."""
    ranges: list[list[int]] = []
    for seq in sorted(seqs):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


def in_ranges(seq: int, ranges: list[list[int]]) -> bool:
    """True when `seq` lies in one of the inclusive ranges."""
    return any(first <= seq <= last for first, last in ranges)


def insert_next(conn: Any, prepare: Preparer, mark: str) -> PreparedRecord:
    """Append the record after the last one on a DB-API connection (inside the caller's write transaction).

    ``mark`` is the driver's parameter placeholder (`?` for sqlite3, `%s` for psycopg); both stores share this
    one statement set so their chains cannot drift apart.
    """
    row = conn.execute("SELECT seq, head FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    seq, head = (row[0], bytes(row[1])) if row else (0, bytes(32))
    rec = prepare(seq + 1, head)
    marks = ", ".join([mark] * 11)
    conn.execute(
        "INSERT INTO records (seq, time, action, actor, conversation_id, outcome, record_json, record_hash,"
        f" head, format, body_hash) VALUES ({marks})",
        (rec.seq, rec.time, rec.action, rec.actor, rec.conversation_id, rec.outcome, rec.record_json,
         rec.record_hash, rec.head, rec.format, rec.body_hash),
    )
    if rec.content_json is not None:
        conn.execute(f"INSERT INTO content (seq, salt, content_json) VALUES ({mark}, {mark}, {mark})",
                     (rec.seq, rec.salt, rec.content_json))
    return rec
