"""Walking the chain: the first record that is modified, missing, inserted, out of place or cut off, whose
indexed columns disagree with it, or that a checkpoint (stored, in a file or in the witness) contradicts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.audit.chain import (
    FORMAT_1,
    FORMAT_2,
    GENESIS_HEAD,
    body_hash,
    commitment,
    header_fields,
    header_of,
    next_head,
    record_hash,
    record_hash_v2,
)
from assistant.audit.checkpoint import Checkpoint
from assistant.audit.records import PURGE_ACTION, in_ranges, seq_ranges
from assistant.audit.store import StoredRecord

# The columns a search filters on and a list shows, each a copy of the record field of the same name.
INDEXED_COLUMNS = ("time", "action", "actor", "conversation_id", "outcome")
# The indexed columns a metadata purge clears (time and action stay, proven by the format-2 header).
PURGED_COLUMNS = ("actor", "conversation_id", "outcome")


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
    witnessed: int = 0  # checkpoints read from the witness


@dataclass(frozen=True)
class _Signed:
    """A checkpoint and where it came from ("stored" in the database or a file, or "witness")."""

    checkpoint: Checkpoint
    source: str


@dataclass
class _Walk:
    """State of one walk: where we are, and data found missing that a later purge record must account for."""

    prev: bytes = GENESIS_HEAD
    expected: int = 1
    signed_up_to: int = 0  # the highest checkpoint seq: purge records after it are not trusted
    last_good_checkpoint: int = 0
    # seq -> (kind, reason): content or metadata absent; forgiven when a later purge record names the seq.
    # Kinds: "content", "metadata" (format 2: its header is proven) and "format1_metadata" (nothing proves it).
    unexplained: dict[int, tuple[str, str]] = field(default_factory=dict)
    unproven: list[int] = field(default_factory=list)  # format-1 records purged: time and action unproven

    def explain(self, purge: dict[str, Any]) -> None:
        """Forgive what a verified purge record says it purged (only seqs before it, and only when a signed
        checkpoint covers the purge record: purge always signs one, and a forger cannot)."""
        if purge["seq"] > self.signed_up_to:
            return
        for seq in [s for s in self.unexplained if s < purge["seq"]]:
            kind = self.unexplained[seq][0]
            if kind == "format1_metadata" and purge.get("format") == FORMAT_2:
                # A format-2 purge names the format-1 records among those it purged: a format-2 record made to
                # look like format 1 (so that its header needs no proof) is not among them.
                ranges = purge.get("baken.purge.format1_metadata_seqs", [])
            elif kind == "format1_metadata":
                ranges = purge.get("baken.purge.metadata_seqs", [])  # before format 2, all were format 1
            else:
                ranges = purge.get(f"baken.purge.{kind}_seqs", [])
            if in_ranges(seq, ranges):
                del self.unexplained[seq]


def verify_records(
    rows: Iterable[StoredRecord], checkpoints: list[Checkpoint], signature_ok: Callable[[Checkpoint], bool],
    witness: Sequence[Checkpoint] = (),
) -> VerifyResult:
    """Check every row against its predecessor and every checkpoint (the stored ones and those the witness
    holds); stop at the first fault."""
    total = len(checkpoints)
    signed = [_Signed(cp, "stored") for cp in checkpoints] + [_Signed(cp, "witness") for cp in witness]
    for s in signed:
        if not signature_ok(s.checkpoint):
            where = "the checkpoint" if s.source == "stored" else "the witness's checkpoint"
            return VerifyResult(False, 0, 0, total, s.checkpoint.seq,
                                f"{where} at seq {s.checkpoint.seq} has a bad signature (or another key's)",
                                witnessed=len(witness))
    by_seq: dict[int, list[_Signed]] = {}
    for s in signed:
        by_seq.setdefault(s.checkpoint.seq, []).append(s)
    walk = _Walk(signed_up_to=max((s.checkpoint.seq for s in signed), default=0))
    for row in rows:
        fault = _check_row(row, walk)
        if fault is None:
            fault = _check_checkpoints(row, by_seq.get(row.seq, []), walk)
        if fault is not None:
            return VerifyResult(False, walk.expected - 1, walk.expected - 1, total, *fault, witnessed=len(witness))
        walk.prev, walk.expected = row.head, walk.expected + 1
    last_seq = walk.expected - 1
    if walk.unexplained:
        seq = min(walk.unexplained)
        return VerifyResult(False, last_seq, last_seq, total, seq, walk.unexplained[seq][1],
                            witnessed=len(witness))
    beyond = [s for s in signed if s.checkpoint.seq > last_seq]
    if beyond:
        furthest = max(beyond, key=lambda s: s.checkpoint.seq)
        where = "a signed checkpoint" if furthest.source == "stored" else "a checkpoint in the witness"
        return VerifyResult(False, last_seq, last_seq, total, last_seq + 1,
                            f"the log was truncated: it ends at seq {last_seq} but {where} covers "
                            f"seq {furthest.checkpoint.seq}", witnessed=len(witness))
    return VerifyResult(True, last_seq, last_seq, total, notes=_notes(checkpoints, witness, walk, last_seq),
                        witnessed=len(witness))


def _notes(checkpoints: list[Checkpoint], witness: Sequence[Checkpoint], walk: _Walk,
           last_seq: int) -> tuple[str, ...]:
    """What an intact result does not prove."""
    notes: list[str] = []
    covered = max((cp.seq for cp in [*checkpoints, *witness]), default=0)
    if not checkpoints and not witness and last_seq:
        notes.append("no signed checkpoint yet: a rewrite of the whole chain would go unnoticed")
    elif covered < last_seq:
        notes.append(f"records {covered + 1}..{last_seq} come after the last signed checkpoint")
    if walk.unproven:
        ranges = ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in seq_ranges(walk.unproven))
        notes.append(f"{len(walk.unproven)} record(s) purged in record format 1 (seqs {ranges}): their time and "
                     "action cannot be proven (format 1 keeps no header hash)")
    return tuple(notes)


def _check_checkpoints(row: StoredRecord, checkpoints: list[_Signed], walk: _Walk) -> tuple[int, str] | None:
    """The fault when a checkpoint at this row disagrees with its head; a witnessed one is named first (the
    stored ones may have been re-signed to fit a rewritten chain)."""
    bad = sorted((s for s in checkpoints if s.checkpoint.head != row.head.hex()), key=lambda s: s.source != "witness")
    if bad:
        first = walk.last_good_checkpoint + 1
        if bad[0].source == "witness":
            return first, (f"the log was rewritten and re-signed: the head at seq {row.seq} differs from the "
                           f"checkpoint the witness holds (signed {bad[0].checkpoint.time}); the first changed "
                           f"record lies in seqs {first}..{row.seq}")
        return first, (f"the chain was rewritten: the head at seq {row.seq} differs from its signed checkpoint;"
                       f" the first changed record lies in seqs {first}..{row.seq}")
    if checkpoints:
        walk.last_good_checkpoint = row.seq
    return None


def _check_row(row: StoredRecord, walk: _Walk) -> tuple[int, str] | None:
    """The (seq, reason) of the fault in one row, or None; absent data is noted in `walk` for later."""
    seq = row.seq
    if seq != walk.expected:
        return walk.expected, f"record {walk.expected} is missing (deleted); the next record is {seq}"
    if row.format not in (FORMAT_1, FORMAT_2) or (row.format == FORMAT_1) != (row.body_hash is None):
        return seq, f"record {seq} has an unknown record format ({row.format}) or a body hash that does not fit it"
    record: dict[str, Any] | None = None
    if row.record_json is None:
        fault = _check_purged(row, walk)
    else:
        try:
            record = json.loads(row.record_json)
            claimed = record["seq"]  # type: ignore[index]
        except (ValueError, KeyError, TypeError):
            return seq, f"record {seq} is not a valid record"
        if claimed != seq:
            return seq, f"record {seq} says it is record {claimed}: records were inserted or reordered"
        fault = _check_record(row, record, walk)
    if fault is not None:
        return fault
    if next_head(walk.prev, row.record_hash) != row.head:
        return seq, (f"the chain breaks at record {seq}: its head does not follow from the record before"
                     " (a record was changed, removed, inserted or reordered)")
    if record is not None and record.get("action") == PURGE_ACTION:
        walk.explain(record)
    return None


def _check_purged(row: StoredRecord, walk: _Walk) -> tuple[int, str] | None:
    """A row whose metadata is gone: no content, no descriptive columns, and (format 2) a proven header."""
    seq = row.seq
    if row.content_json is not None:
        return seq, f"record {seq} has content but its metadata was purged"
    left = [name for name in PURGED_COLUMNS if getattr(row, name) is not None]
    if left:
        return seq, (f"record {seq} lost its metadata without a signed purge record: its {', '.join(left)} "
                     "column(s) still show values that nothing proves (a purge clears them)")
    if row.format == FORMAT_2:
        assert row.body_hash is not None  # checked in _check_row
        if record_hash_v2(header_of(seq, row.time, row.action), row.body_hash) != row.record_hash:
            return seq, (f"the header of record {seq} was modified: its time ({row.time}) or action "
                         f"({row.action}) does not match its hash")
        walk.unexplained[seq] = ("metadata", f"record {seq} lost its metadata without a signed purge record saying so")
    else:
        walk.unproven.append(seq)
        walk.unexplained[seq] = ("format1_metadata", (
            f"record {seq} lost its metadata without a signed purge record saying so (or its record format was "
            "changed to 1, whose header nothing proves)"))
    return None


def _check_record(row: StoredRecord, record: dict[str, Any], walk: _Walk) -> tuple[int, str] | None:
    """A row with its record: the hash by the record's format, the indexed columns, the content."""
    seq = row.seq
    if record.get("format", FORMAT_1) != row.format:
        return seq, f"record {seq} is in record format {record.get('format', FORMAT_1)} but its row says {row.format}"
    record_bytes = row.record_json.encode("utf-8")  # type: ignore[union-attr]
    if row.format == FORMAT_1:
        if record_hash(record_bytes) != row.record_hash:
            return seq, f"record {seq} was modified: its hash does not match"
    else:
        try:
            header = header_fields(record)
            valid = header == header_of(seq, header["time"], header["action"])
        except (KeyError, TypeError, AttributeError):
            valid = False
        if not valid:
            return seq, f"record {seq} is not a valid record: its header is incomplete or its kind does not fit"
        digest = body_hash(record_bytes)
        if record_hash_v2(header, digest) != row.record_hash:
            return seq, f"record {seq} was modified: its hash does not match"
        if row.body_hash != digest:
            return seq, f"the body hash of record {seq} was changed: it does not match the record"
    for name in INDEXED_COLUMNS:
        if getattr(row, name) != record.get(name):
            return seq, (f"the indexed column {name} of record {seq} was changed: it shows {getattr(row, name)!r},"
                         f" the record says {record.get(name)!r} (searches and lists would show the false value)")
    promised = record.get("content_commitment")
    if row.content_json is not None:
        if promised is None or row.salt is None or \
                commitment(row.salt, row.content_json.encode("utf-8")).hex() != promised:
            return seq, f"the content of record {seq} was modified: its commitment does not match"
    elif promised is not None:
        walk.unexplained[seq] = ("content", f"the content of record {seq} is missing without a signed purge record")
    return None
