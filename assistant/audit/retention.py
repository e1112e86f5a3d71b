"""Retention: which content and metadata are past their time, minus what a legal hold protects.

Content (redacted question, answer, chunk text) goes after `content_retention_days`; it is deleted and only
its salted commitment stays in the chain. Metadata goes after the retention of its kind (the action's first
part); the row keeps seq, time, action, format, body hash, record hash and head, so the chain still verifies
from end to end (and, in record format 2, so do the time and action), and a purge record says which seqs were
purged and which of those were in record format 1. Purge records themselves are never purged: verification
needs them to tell a purge from a deletion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from assistant.audit.chain import FORMAT_1, kind_of
from assistant.audit.records import PURGE_ACTION
from assistant.audit.settings import AuditSettings
from assistant.audit.store import Hold, RetentionRow


@dataclass(frozen=True)
class PurgeResult:
    """What a purge destroyed (or, on a dry run, would destroy), and what holds kept."""

    content_seqs: list[int] = field(default_factory=list)
    metadata_seqs: list[int] = field(default_factory=list)
    held_seqs: list[int] = field(default_factory=list)
    record_seq: int | None = None  # the purge record; None on a dry run
    dry_run: bool = False
    format1_metadata_seqs: list[int] = field(default_factory=list)  # those of metadata_seqs in record format 1



def cutoff(now: datetime, days: int) -> str:
    """The ISO-8601 UTC time `days` before `now`, in the log's time format."""
    return format_time(now - timedelta(days=days))


def format_time(moment: datetime) -> str:
    """The log's time format: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def oldest_cutoff(settings: AuditSettings, now: datetime) -> str:
    """The latest time before which anything at all may be purged."""
    days = [settings.content_retention_days, settings.metadata_retention_days,
            *settings.retention_days_by_kind.values()]
    return cutoff(now, min(days))


def plan_purge(rows: Iterable[RetentionRow], holds: list[Hold], settings: AuditSettings,
               now: datetime) -> PurgeResult:
    """Choose the content and metadata past retention that no hold protects."""
    content_before = cutoff(now, settings.content_retention_days)
    content, metadata, held, format1 = [], [], [], []
    for row in rows:
        if row.action == PURGE_ACTION:
            continue
        days = settings.retention_days_by_kind.get(kind_of(row.action), settings.metadata_retention_days)
        purge_metadata = row.has_metadata and row.time < cutoff(now, days)
        purge_content = row.has_content and (row.time < content_before or purge_metadata)
        if not (purge_metadata or purge_content):
            continue
        if any(hold.covers(row.seq, row.conversation_id) for hold in holds):
            held.append(row.seq)
            continue
        if purge_content:
            content.append(row.seq)
        if purge_metadata:
            metadata.append(row.seq)
            if row.format == FORMAT_1:
                format1.append(row.seq)
    return PurgeResult(content_seqs=content, metadata_seqs=metadata, held_seqs=held, format1_metadata_seqs=format1)
