"""Walking the chain: the first record that is modified, missing, inserted, out of place or cut off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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
class PurgeCoverage:
    """The sequence ranges that purge records say were purged: missing data there is expected."""

    content: list[list[int]] = field(default_factory=list)
    metadata: list[list[int]] = field(default_factory=list)

    def add(self, record: dict) -> None:  # type: ignore[type-arg]
        """Take the ranges of one purge record."""
        self.content += record.get("baken.purge.content_seqs", [])
        self.metadata += record.get("baken.purge.metadata_seqs", [])


def verify_records(
    rows: Iterable[StoredRecord],
    checkpoints: list[Checkpoint],
    signature_ok: Callable[[Checkpoint], bool],
    coverage: PurgeCoverage,
) -> VerifyResult:
    """Check every row against its predecessor and every checkpoint; stop at the first fault."""
    for cp in checkpoints:
        if not signature_ok(cp):
            return VerifyResult(False, 0, 0, len(checkpoints), cp.seq,
                                f"the checkpoint at seq {cp.seq} has a bad signature (or another key's)")
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_seq.setdefault(cp.seq, []).append(cp)
    prev, expected, count, last_good_cp = GENESIS_HEAD, 1, 0, 0
    for row in rows:
        fault = _check_row(row, expected, prev, coverage)
        if fault is None:
            for cp in by_seq.get(row.seq, []):
                if cp.head != row.head.hex():
                    return VerifyResult(
                        False, count, expected - 1, len(checkpoints), last_good_cp + 1,
                        f"the chain was rewritten: the head at seq {row.seq} differs from its signed checkpoint;"
                        f" the first changed record lies in seqs {last_good_cp + 1}..{row.seq}")
                last_good_cp = row.seq
        if fault is not None:
            return VerifyResult(False, count, expected - 1, len(checkpoints), fault[0], fault[1])
        prev, expected, count = row.head, expected + 1, count + 1
    last_seq = expected - 1
    beyond = [cp.seq for cp in checkpoints if cp.seq > last_seq]
    if beyond:
        return VerifyResult(False, count, last_seq, len(checkpoints), last_seq + 1,
                            f"the log was truncated: it ends at seq {last_seq} but a signed checkpoint covers "
                            f"seq {max(beyond)}")
    notes = () if checkpoints else ("no signed checkpoint: a rewrite of the whole chain would go unnoticed",)
    covered = max((cp.seq for cp in checkpoints), default=0)
    if checkpoints and covered < last_seq:
        notes = (f"records {covered + 1}..{last_seq} come after the last signed checkpoint",)
    return VerifyResult(True, count, last_seq, len(checkpoints), notes=notes)


def _check_row(row: StoredRecord, expected: int, prev: bytes,
               coverage: PurgeCoverage) -> tuple[int, str] | None:
    """The (seq, reason) of the fault in one row, or None."""
    if row.seq != expected:
        return expected, f"record {expected} is missing (deleted); the next record is {row.seq}"
    if row.record_json is None:
        if not in_ranges(row.seq, coverage.metadata):
            return row.seq, f"record {row.seq} lost its metadata without a purge record saying so"
        if row.content_json is not None:
            return row.seq, f"record {row.seq} has content but its metadata was purged"
    else:
        try:
            record = json.loads(row.record_json)
            claimed = record["seq"]
        except (ValueError, KeyError, TypeError):
            return row.seq, f"record {row.seq} is not a valid record"
        if claimed != row.seq:
            return row.seq, f"record {row.seq} says it is record {claimed}: records were inserted or reordered"
        if record_hash(row.record_json.encode("utf-8")) != row.record_hash:
            return row.seq, f"record {row.seq} was modified: its hash does not match"
        promised = record.get("content_commitment")
        if row.content_json is not None:
            if promised is None or row.salt is None or \
                    commitment(row.salt, row.content_json.encode("utf-8")).hex() != promised:
                return row.seq, f"the content of record {row.seq} was modified: its commitment does not match"
        elif promised is not None and not in_ranges(row.seq, coverage.content):
            return row.seq, f"the content of record {row.seq} is missing without a purge record saying so"
    if next_head(prev, row.record_hash) != row.head:
        return row.seq, (f"the chain breaks at record {row.seq}: its head does not follow from the record before"
                         " (a record was changed, removed, inserted or reordered)")
    return None


def purge_coverage(purge_records: Iterable[StoredRecord]) -> PurgeCoverage:
    """Collect the ranges of the purge records (their own integrity is checked by the chain walk)."""
    coverage = PurgeCoverage()
    for row in purge_records:
        if row.record_json is None:
            continue
        try:
            record = json.loads(row.record_json)
        except ValueError:
            continue
        if record.get("action") == PURGE_ACTION:
            coverage.add(record)
    return coverage
