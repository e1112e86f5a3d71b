"""The hash chain: canonical JSON, record hashes, heads and content commitments.

A record's bytes are its canonical JSON: keys sorted, separators ``,`` and ``:``, UTF-8, non-ASCII kept as is
(``ensure_ascii=False``), NaN and infinities refused. ``head_n = SHA-256(head_{n-1} || record_hash_n)``,
sequence numbers start at 1 without gaps, and the head before record 1 (the genesis head) is 32 zero bytes.
Content is committed to as ``SHA-256(salt || canonical(content))`` with a random 32-byte salt per record.

Two record formats; a chain may hold both (a log written before the upgrade goes on in format 2):

- format 1 (a record without a ``format`` field): ``record_hash = SHA-256(canonical(record))``.
- format 2 (``"format": 2``): the header is the record's fields ``format, seq, time, action, kind`` (``kind``
  is the action's first dotted part), the body hash is ``SHA-256(canonical(record))`` (the whole record, as
  stored), and ``record_hash = SHA-256(0x02 || SHA-256(canonical(header)) || body_hash)``. Purging the
  metadata keeps the body hash, so the header (seq, time, action, kind) stays provable without the body.

``tools/verify_audit_export.py`` repeats these rules without importing this module; keep both in step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HEAD = bytes(32)
SALT_BYTES = 32
FORMAT_1, FORMAT_2 = 1, 2
CURRENT_FORMAT = FORMAT_2
HEADER_FIELDS = ("format", "seq", "time", "action", "kind")


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and stored."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_scalar
    ).encode("utf-8")


def _scalar(value: Any) -> Any:
    """Numpy-style scalars (a retriever's float32 score) become plain numbers; anything else is refused."""
    item = getattr(value, "item", None)
    if callable(item):
        plain = item()
        if isinstance(plain, (bool, int, float, str)):
            return plain
    raise TypeError(f"{type(value).__name__} is not JSON: the audit log takes plain JSON values only")


def record_hash(record_bytes: bytes) -> bytes:
    """SHA-256 of a record's canonical JSON."""
    return hashlib.sha256(record_bytes).digest()


def next_head(prev_head: bytes, rec_hash: bytes) -> bytes:
    """The chain head after appending a record with hash `rec_hash`."""
    return hashlib.sha256(prev_head + rec_hash).digest()


def commitment(salt: bytes, content_bytes: bytes) -> bytes:
    """The commitment to a record's content that the chained record carries."""
    return hashlib.sha256(salt + content_bytes).digest()


def kind_of(action: str) -> str:
    """The kind of an action: its first dotted part (`conversation.turn` -> `conversation`)."""
    return action.split(".", 1)[0]


def header_of(seq: int, time: str, action: str) -> dict[str, Any]:
    """The format-2 header of a record: what survives a metadata purge and stays provable."""
    return {"format": FORMAT_2, "seq": seq, "time": time, "action": action, "kind": kind_of(action)}


def header_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The header fields of a format-2 record (KeyError when one is missing)."""
    return {name: record[name] for name in HEADER_FIELDS}


def body_hash(record_bytes: bytes) -> bytes:
    """A format-2 record's body hash: SHA-256 of its canonical JSON, the whole record as stored."""
    return hashlib.sha256(record_bytes).digest()


def record_hash_v2(header: dict[str, Any], body_digest: bytes) -> bytes:
    """A format-2 record hash: SHA-256(0x02 || SHA-256(canonical(header)) || body hash)."""
    return hashlib.sha256(bytes([FORMAT_2]) + hashlib.sha256(canonical_json(header)).digest() + body_digest).digest()
