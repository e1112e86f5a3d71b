"""The hash chain: canonical JSON, record hashes, heads and content commitments.

A record's bytes are its canonical JSON: keys sorted, separators ``,`` and ``:``, UTF-8, non-ASCII kept as is
(``ensure_ascii=False``), NaN and infinities refused. ``head_n = SHA-256(head_{n-1} || SHA-256(record_n))``,
sequence numbers start at 1 without gaps, and the head before record 1 (the genesis head) is 32 zero bytes.
Content is committed to as ``SHA-256(salt || canonical(content))`` with a random 32-byte salt per record.
``tools/verify_audit_export.py`` repeats these rules without importing this module; keep both in step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HEAD = bytes(32)
SALT_BYTES = 32


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
