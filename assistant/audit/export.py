"""Exports: canonical JSONL that an outside party can verify, and flat CSV for people.

Every JSONL line is the canonical JSON of ``{seq, prev_head, record_hash, head[, record[, content, salt]]}``
or, for a record in format 2 whose metadata was purged, ``{seq, prev_head, record_hash, head, header,
body_hash}``: its header (format, seq, time, action, kind) stays provable. The export always runs from seq 1
to the end of the log so that the chain can be checked from the genesis head; records outside the filters
(and purged ones outside the time window, or when the export filters on more than time) appear as stubs with
the chain fields only, which reveal nothing but hashes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from assistant.audit.chain import FORMAT_2, GENESIS_HEAD, canonical_json, header_of
from assistant.audit.store import RecordQuery, StoredRecord

# event_id pairs a turn's conversation.question record with its conversation.turn record.
CSV_COLUMNS = ("seq", "time", "action", "actor", "role", "conversation_id", "event_id", "outcome", "model",
               "input_tokens", "output_tokens", "sources", "redactions", "question", "answer", "head")


def record_matches(record: dict[str, Any], query: RecordQuery) -> bool:
    """The Python twin of the store's filters, for exports."""
    time = record.get("time", "")
    if query.since is not None and time < query.since:
        return False
    if query.until is not None and time >= query.until:
        return False
    for key, value in (("actor", query.actor), ("action", query.action), ("outcome", query.outcome),
                       ("conversation_id", query.conversation_id)):
        if value is not None and record.get(key) != value:
            return False
    if query.document is not None:
        ids = {record.get("baken.document.id"), record.get("baken.document.sha256")}
        for source in record.get("baken.sources") or []:
            ids |= {source.get("doc_id"), source.get("content_hash")}
        if query.document not in ids:
            return False
    types = {r.get("type") for r in record.get("baken.redactions") or []}
    return query.redaction_type is None or query.redaction_type in types


def header_matches(row: StoredRecord, query: RecordQuery) -> bool:
    """Whether a purged record's header belongs in an export: only time and action are left to filter on, so
    an export that filters on anything else shows no purged headers."""
    if any(v is not None for v in (query.actor, query.outcome, query.conversation_id, query.document,
                                   query.redaction_type)):
        return False
    return (query.since is None or row.time >= query.since) and (query.until is None or row.time < query.until) \
        and (query.action is None or row.action == query.action)


def write_jsonl(rows: Iterable[StoredRecord], out: IO[str], query: RecordQuery) -> int:
    """Write the whole chain as canonical JSONL, with data for the records matching `query`; returns that count."""
    prev, selected = GENESIS_HEAD, 0
    for row in rows:
        line: dict[str, Any] = {"seq": row.seq, "prev_head": prev.hex(), "record_hash": row.record_hash.hex(),
                                "head": row.head.hex()}
        if row.record_json is not None:
            record = json.loads(row.record_json)
            if record_matches(record, query):
                selected += 1
                line["record"] = record
                if row.content_json is not None and row.salt is not None:
                    line["content"] = json.loads(row.content_json)
                    line["salt"] = row.salt.hex()
        elif row.format == FORMAT_2 and row.body_hash is not None and header_matches(row, query):
            line["header"] = header_of(row.seq, row.time, row.action)
            line["body_hash"] = row.body_hash.hex()
        out.write(canonical_json(line).decode("utf-8") + "\n")
        prev = row.head
    return selected


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(rows: Iterable[StoredRecord], out: IO[str], query: RecordQuery) -> int:
    """Write the matching records as flat CSV for people (not verifiable); returns the count."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        if row.record_json is None:
            continue
        record = json.loads(row.record_json)
        if not record_matches(record, query):
            continue
        content = json.loads(row.content_json) if row.content_json is not None else {}
        sources = ";".join(f"{s.get('doc_id')}#{s.get('chunk_id')}{'*' if s.get('cited') else ''}"
                           for s in record.get("baken.sources") or [])
        kinds: dict[str, int] = {}
        for redaction in record.get("baken.redactions") or []:
            kinds[redaction.get("type")] = kinds.get(redaction.get("type"), 0) + 1
        writer.writerow([_cell(v) for v in (
            row.seq, record.get("time"), record.get("action"), record.get("actor"), record.get("role"),
            record.get("conversation_id"), record.get("event_id"), record.get("outcome"),
            record.get("gen_ai.request.model"),
            record.get("gen_ai.usage.input_tokens"), record.get("gen_ai.usage.output_tokens"), sources,
            ";".join(f"{k}:{n}" for k, n in sorted(kinds.items())), content.get("question"),
            content.get("answer"), row.head.hex())])
        count += 1
    return count
