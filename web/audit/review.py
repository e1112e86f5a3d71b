"""The auditor's review of the log, as the pages need it: search with the form's filters, one record with its
content and sources, the chain check, the export. Every read passes ``auditor=``, so the log records the
auditor's own actions. The routes (`web/audit/routes.py`) only parse the request and render what this gives.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.audit.log import AuditLog

FILTERS = ("since", "until", "actor", "document", "action", "outcome", "redaction_type", "conversation_id")
QUESTION, TURN = "conversation.question", "conversation.turn"  # one turn's two records, paired by event_id
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def until(value: str) -> str | None:
    """A date filled in as "until" includes that whole day."""
    if len(value) == 10:
        return value + "T23:59:59.999999"
    return value or None


def record_of_event(audit: AuditLog, conversation_id: str, action: str, event_id: str, limit: int = 1000) -> int | None:
    """The seq of the record of ``action`` in the conversation that carries ``event_id`` (a turn's question
    and turn records share one), None when the log has none (yet).

    Not logged as a search of its own: the caller's view is logged, and the lookup reveals no more than which
    record of the same conversation carries the same event id.
    """
    if not conversation_id or not event_id:
        return None
    for candidate in audit.search(conversation_id=conversation_id, action=action, limit=limit):
        try:
            found = json.loads(candidate.record_json) if candidate.record_json else {}
        except ValueError:
            continue
        if found.get("event_id") == event_id:
            return int(candidate.seq)
    return None


@dataclass(frozen=True)
class Export:
    """An export as a download: its bytes, media type and file name."""

    body: bytes
    media_type: str
    filename: str


class AuditReview:
    """What an auditor reads, over the audit log and (for document titles) the index."""

    def __init__(self, audit: AuditLog, titles: Any) -> None:
        self.audit = audit
        self._titles = titles  # () -> {doc_id: title}; read only when a record lists sources

    def search(self, filters: dict[str, str], offset: int, limit: int, auditor: str) -> list[dict[str, Any]]:
        """The records matching the form's filters, newest first, as summary rows (a UserError for a bad
        filter)."""
        f = filters
        found = self.audit.search(since=f["since"] or None, until=until(f["until"]), actor=f["actor"] or None,
                                  action=f["action"] or None, outcome=f["outcome"] or None,
                                  document=f["document"] or None, redaction_type=f["redaction_type"] or None,
                                  conversation_id=f["conversation_id"] or None, limit=limit, offset=offset,
                                  auditor=auditor)
        return [_summary(r) for r in found]

    def verify(self, auditor: str) -> Any:
        """Walk the whole chain and the configured witness (a UserError when the witness is not reachable)."""
        return self.audit.verify(witness=self.audit.settings.witness_dir, auditor=auditor)

    def record(self, seq: int, auditor: str) -> dict[str, Any]:
        """One record as its page shows it: metadata, the (redacted) content with its sources, the redaction
        findings, the paired record of the same turn, and both as JSON (NotFound when there is none)."""
        found = self.audit.get(seq, auditor=auditor)
        meta = json.loads(found.record_json) if found.record_json else {}
        content = json.loads(found.content_json) if found.content_json else {}
        redactions = {k: v for k, v in meta.items() if "redact" in k or "finding" in k or "pii" in k}
        other = {QUESTION: TURN, TURN: QUESTION}.get(found.action)
        return {"record": found, "meta": meta, "content": content if isinstance(content, dict) else {},
                "content_sources": self._sources(meta, content),
                "paired": record_of_event(self.audit, meta.get("conversation_id") or "", other,
                                          meta.get("event_id") or "") if other else None,
                "redactions": json.dumps(redactions, indent=2, ensure_ascii=False) if redactions else "",
                "raw_record": json.dumps(meta, indent=2, ensure_ascii=False),
                "raw_content": json.dumps(content, indent=2, ensure_ascii=False) if content else ""}

    def _sources(self, meta: dict[str, Any], content: Any) -> list[dict[str, Any]]:
        """The turn's sources (from the record) with the text the model saw (from the content), by position."""
        listed = [s for s in meta.get("baken.sources") or [] if isinstance(s, dict)]
        texts = (content.get("chunks") if isinstance(content, dict) else None) or []
        titles = self._titles() if listed else {}
        return [{**s, "title": titles.get(str(s.get("doc_id")), ""),
                 "text": texts[i] if i < len(texts) and isinstance(texts[i], str) else ""}
                for i, s in enumerate(listed)]

    def export(self, format: str, filters: dict[str, str], auditor: str) -> Export:
        """The log as verifiable JSONL or flat CSV (any other format: JSONL), with the date, actor and document
        filters; the export is logged."""
        format = format if format in MEDIA else "jsonl"
        out = io.StringIO()
        self.audit.export(out, format, since=filters["since"] or None, until=until(filters["until"]),
                          actor=filters["actor"] or None, document=filters["document"] or None, auditor=auditor)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Export(out.getvalue().encode("utf-8"), MEDIA[format], f"baken-audit-{stamp}.{format}")


def _summary(record: Any) -> dict[str, Any]:
    meta = json.loads(record.record_json) if record.record_json else {}
    return {"seq": record.seq, "time": record.time, "action": record.action, "actor": meta.get("actor"),
            "role": meta.get("role"), "outcome": meta.get("outcome")}
