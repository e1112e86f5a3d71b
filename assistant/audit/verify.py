"""Walking the chain: the first record that is modified, missing, inserted, out of place or cut off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.audit.chain import GENESIS_HEAD, commitment, next_head, record_hash
from assistant.audit.checkpoint import Checkpoint
from assistant.audit.records import PURGE_ACTION, in_ranges
from assistant.audit.store import StoredRecord


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a verification: ok, or the first bad sequence number and why."""

    ok: bool
    records: int
    last_seq: int
    checkpoints: int = 0
    first_bad_seq: int | None = None
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class _Walk:
    """State of one walk: where we are, and data found missing that a later purge record must account for."""

    prev: bytes = GENESIS_HEAD
    expected: int = 1
    signed_up_to: int = 0  # the highest checkpoint seq: purge records after it are not trusted
    last_good_checkpoint: int = 0
    # seq -> (kind, reason): content or metadata absent; forgiven when a later purge record names the seq
    unexplained: dict[int, tuple[str, str]] = field(default_factory=dict)

    def explain(self, purge: dict[str, Any]) -> None:
        """Forgive what a verified purge record says it purged (only seqs before it, and only when a signed
        checkpoint covers the purge record: purge always signs one, and a forger cannot)."""
        if purge["seq"] > self.signed_up_to:
            return
        for seq in [s for s in self.unexplained if s < purge["seq"]]:
            kind = self.unexplained[seq][0]
            if in_ranges(seq, purge.get(f"baken.purge.{kind}_seqs", [])):
                del self.unexplained[seq]


def verify_records(
    rows: Iterable[StoredRecord], checkpoints: list[Checkpoint], signature_ok: Callable[[Checkpoint], bool]
) -> VerifyResult:
    """Check every row against its predecessor and every checkpoint; stop at the first fault."""
    total = len(checkpoints)
    for cp in checkpoints:
        if not signature_ok(cp):
            return VerifyResult(False, 0, 0, total, cp.seq,
                                f"the checkpoint at seq {cp.seq} has a bad signature (or another key's)")
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_seq.setdefault(cp.seq, []).append(cp)
    walk = _Walk(signed_up_to=max((cp.seq for cp in checkpoints), default=0))
    for row in rows:
        fault = _check_row(row, walk)
        if fault is None:
            fault = _check_checkpoints(row, by_seq.get(row.seq, []), walk)
        if fault is not None:
            return VerifyResult(False, walk.expected - 1, walk.expected - 1, total, *fault)
        walk.prev, walk.expected = row.head, walk.expected + 1
    last_seq = walk.expected - 1
    if walk.unexplained:
        seq = min(walk.unexplained)
        return VerifyResult(False, last_seq, last_seq, total, seq, walk.unexplained[seq][1])
    beyond = [cp.seq for cp in checkpoints if cp.seq > last_seq]
    if beyond:
        return VerifyResult(False, last_seq, last_seq, total, last_seq + 1,
                            f"the log was truncated: it ends at seq {last_seq} but a signed checkpoint covers "
                            f"seq {max(beyond)}")
    covered = max((cp.seq for cp in checkpoints), default=0)
    notes: tuple[str, ...] = ()
    if not checkpoints and last_seq:
        notes = ("no signed checkpoint yet: a rewrite of the whole chain would go unnoticed",)
    elif covered < last_seq:
        notes = (f"records {covered + 1}..{last_seq} come after the last signed checkpoint",)
    return VerifyResult(True, last_seq, last_seq, total, notes=notes)


def _check_checkpoints(row: StoredRecord, checkpoints: list[Checkpoint], walk: _Walk) -> tuple[int, str] | None:
    for cp in checkpoints:
        if cp.head != row.head.hex():
            first = walk.last_good_checkpoint + 1
            return first, (f"the chain was rewritten: the head at seq {row.seq} differs from its signed checkpoint;"
                           f" the first changed record lies in seqs {first}..{row.seq}")
        walk.last_good_checkpoint = row.seq
    return None


def _check_row(row: StoredRecord, walk: _Walk) -> tuple[int, str] | None:
    """The (seq, reason) of the fault in one row, or None; absent data is noted in `walk` for later."""
    seq = row.seq
    if seq != walk.expected:
        return walk.expected, f"record {walk.expected} is missing (deleted); the next record is {seq}"
    if row.record_json is None:
        if row.content_json is not None:
            return seq, f"record {seq} has content but its metadata was purged"
        walk.unexplained[seq] = ("metadata", f"record {seq} lost its metadata without a signed purge record saying so")
    else:
        try:
            record = json.loads(row.record_json)
            claimed = record["seq"]
        except (ValueError, KeyError, TypeError):
            return seq, f"record {seq} is not a valid record"
        if claimed != seq:
            return seq, f"record {seq} says it is record {claimed}: records were inserted or reordered"
        if record_hash(row.record_json.encode("utf-8")) != row.record_hash:
            return seq, f"record {seq} was modified: its hash does not match"
        promised = record.get("content_commitment")
        if row.content_json is not None:
            if promised is None or row.salt is None or \
                    commitment(row.salt, row.content_json.encode("utf-8")).hex() != promised:
                return seq, f"the content of record {seq} was modified: its commitment does not match"
        elif promised is not None:
            walk.unexplained[seq] = ("content", f"the content of record {seq} is missing without a signed purge record")
    if next_head(walk.prev, row.record_hash) != row.head:
        return seq, (f"the chain breaks at record {seq}: its head does not follow from the record before"
                     " (a record was changed, removed, inserted or reordered)")
    if row.record_json is not None and record.get("action") == PURGE_ACTION:
        walk.explain(record)
    return None
