"""The audit journal: two tamper-evident audit records per generated answer, holding only redacted text.

`conversation.question` is written before the model is called or anything is shown; `conversation.turn` when
the turn ends (answered, no source, or failed). Both carry the turn's event id. A question record without a
turn record with that event id means the answer was generated (and possibly shown) but its outcome was not
recorded. A turn record without a question record is a turn that never reached the model (no source, or a
failure before generation).

Attribute names follow the OpenTelemetry GenAI semantic conventions where one fits (`gen_ai.*`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from assistant.audit import AuditLog
from assistant.turn import Actor, TurnResult
from guardrails.redactor import manifest

redaction_manifest = manifest  # the one manifest (guardrails): type, position and placeholder, never the value


def _sources(result: TurnResult, *, with_cited: bool) -> list[dict[str, Any]]:
    """The given sources by id, content hash, chunk and score (whether cited is known after the answer)."""
    return [s.audit_record(with_cited=with_cited) for s in result.sources]


def _request(result: TurnResult, *, with_cited: bool) -> dict[str, Any]:
    """What both records of a turn say about the request: model, settings, redactions, sources."""
    params = result.params
    return {
        "event_id": result.event_id,
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": result.model,
        "baken.model.sha256": result.model_sha256,
        "gen_ai.request.temperature": params.temperature,
        "gen_ai.request.max_tokens": params.max_tokens,
        "gen_ai.request.seed": params.seed,
        "gen_ai.usage.input_tokens": result.prompt_tokens,
        "baken.prompt_template_version": result.template_version,
        "baken.language": result.language,
        "baken.redactions": redaction_manifest(result.findings),
        "baken.redaction_counts": dict(Counter(f.type for f in [*result.findings, *result.source_findings])),
        "baken.sources": _sources(result, with_cited=with_cited),
    }


def question_record(result: TurnResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chained metadata and the committed (redacted) question of a turn about to reach the model."""
    return _request(result, with_cited=False), {"question": result.redacted_question}


def turn_record(result: TurnResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chained metadata and the committed (redacted) content of one turn."""
    record = {
        **_request(result, with_cited=True),
        "gen_ai.usage.output_tokens": result.completion_tokens,
        "baken.ttft_ms": result.timings_ms.get("first_token"),
        "baken.total_ms": result.timings_ms.get("total"),
        "baken.timings_ms": dict(result.timings_ms),
        "baken.grounded": result.supported,
        "baken.invalid_citations": list(result.invalid_citations),
        "baken.answer_mode": result.mode,
        "baken.follow_up": result.follow_up,
        "baken.evidence": [{"n": e.n, "start": e.start, "end": e.end, "score": e.score} for e in result.evidence],
        "baken.sentences": [{"status": s.status, "supported": s.check.supported, "source": s.check.source,
                             "reason": s.check.reason, "support": s.check.support,
                             "model_cited": list(s.check.model_cited)} for s in result.sentences],
        "baken.withheld": result.withheld,
        "baken.relevance": dict(result.signals),
        "error.type": result.error,
    }
    content = {"question": result.redacted_question, "answer": result.redacted_answer,
               "chunks": list(result.model_texts), "evidence": [e.redacted for e in result.evidence],
               "generated": result.generated, "sentences": [s.check.text for s in result.sentences]}
    return record, content


class AuditJournal:
    """Writes each turn to the audit log; an AuditError stops the turn (no unlogged interaction)."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def _caller(self, actor: Actor) -> dict[str, Any]:
        """What the API adds: the channel and the client's stated user, pseudonymised like an actor."""
        caller: dict[str, Any] = {}
        if actor.channel:
            caller["baken.channel"] = actor.channel
        if actor.client_user:
            caller["baken.client_user"] = self._log.pseudonym(actor.client_user)
        return caller

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        """Append the question's record before generation; raises AuditError if it cannot be written."""
        record, content = question_record(result)
        record.update(self._caller(actor))
        self._log.append_question(actor=actor.user_id, role=actor.role, record=record, content=content,
                                  conversation_id=result.conversation_id)

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        """Append the turn's record; raises AuditError if it cannot be written."""
        record, content = turn_record(result)
        record.update(self._caller(actor))
        outcome = result.outcome if result.outcome != "error" else f"error:{result.error}"
        result.audit_seq = self._log.append_turn(actor=actor.user_id, role=actor.role, record=record,
                                                 content=content, conversation_id=result.conversation_id,
                                                 outcome=outcome)
