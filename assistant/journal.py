"""The audit journal: one tamper-evident audit record per turn, holding only redacted text.

Attribute names follow the OpenTelemetry GenAI semantic conventions where one fits (`gen_ai.*`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from assistant.audit import AuditLog
from assistant.turn import Actor, TurnResult


def redaction_manifest(findings: list[Any]) -> list[dict[str, Any]]:
    """Type, position and placeholder of each finding; never the value."""
    return [{"type": f.type, "start": f.start, "end": f.end, "placeholder": f.placeholder} for f in findings]


def turn_record(result: TurnResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chained metadata and the committed (redacted) content of one turn."""
    params = result.params
    record = {
        "event_id": result.event_id,
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": result.model,
        "baken.model.sha256": result.model_sha256,
        "gen_ai.request.temperature": params.temperature,
        "gen_ai.request.max_tokens": params.max_tokens,
        "gen_ai.request.seed": params.seed,
        "gen_ai.usage.input_tokens": result.prompt_tokens,
        "gen_ai.usage.output_tokens": result.completion_tokens,
        "baken.prompt_template_version": result.template_version,
        "baken.language": result.language,
        "baken.redactions": redaction_manifest(result.findings),
        "baken.redaction_counts": dict(Counter(f.type for f in [*result.findings, *result.source_findings])),
        "baken.sources": [{"n": s.n, "doc_id": s.doc_id, "content_hash": s.doc_id, "chunk_id": s.chunk_id,
                           "page": s.page, "score": s.score, "cited": s.cited} for s in result.sources],
        "baken.ttft_ms": result.timings_ms.get("first_token"),
        "baken.total_ms": result.timings_ms.get("total"),
        "baken.timings_ms": dict(result.timings_ms),
        "baken.grounded": result.supported,
        "baken.invalid_citations": list(result.invalid_citations),
        "error.type": result.error,
    }
    content = {"question": result.redacted_question, "answer": result.redacted_answer,
               "chunks": list(result.model_texts)}
    return record, content


class AuditJournal:
    """Writes each turn to the audit log; an AuditError stops the turn (no unlogged interaction)."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        """Append the turn's record; raises AuditError if it cannot be written."""
        record, content = turn_record(result)
        outcome = result.outcome if result.outcome != "error" else f"error:{result.error}"
        result.audit_seq = self._log.append_turn(actor=actor.user_id, role=actor.role, record=record,
                                                 content=content, conversation_id=result.conversation_id,
                                                 outcome=outcome)
