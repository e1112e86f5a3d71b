"""The auditor's pages: filter the log, open one record with its content, export, verify the chain.
Every read passes `auditor=`, so the log records the auditor's own actions."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from core.errors import NotFound, UserError
from web.auth import requires
from web.context import ctx, is_htmx, render, session_of

AUDIT = [requires("audit")]
FILTERS = ("since", "until", "actor", "document", "action", "outcome", "redaction_type", "conversation_id")
QUESTION, TURN = "conversation.question", "conversation.turn"  # one turn's two records, paired by event_id
ACTIONS = (QUESTION, TURN, "feedback.given", "document.upload", "document.reindex", "document.delete", "document.sync",
           "auth.login", "auth.login_failed", "auth.logout", "user.change", "audit.search", "audit.view",
           "audit.export", "audit.verify", "audit.purge", "audit.purge_preview", "audit.checkpoint",
           "audit.hold.add", "audit.hold.remove", "audit.copy", "audit.backup", "audit.restore",
           "audit.overview", "overview.view")
PAGE = 50


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:128] for k in FILTERS}


def _until(value: str) -> str | None:
    """A date filled in as "until" includes that whole day."""
    if len(value) == 10:
        return value + "T23:59:59.999999"
    return value or None


def _unavailable(request: Request[Any, Any, Any]) -> Template:
    return render(request, "pages/audit.html", section="audit", available=False)


@get("/audit", guards=AUDIT, sync_to_thread=True)
def audit_page(request: Request[Any, Any, Any], offset: FromQuery[int] = 0) -> Template:
    """The filter form and the matching records, newest first."""
    context, user = ctx(request), session_of(request).user
    if context.audit is None:
        return _unavailable(request)
    f = _filters(request)
    records, error = [], None
    try:
        found = context.audit.search(since=f["since"] or None, until=_until(f["until"]), actor=f["actor"] or None,
                                     action=f["action"] or None, outcome=f["outcome"] or None,
                                     document=f["document"] or None, redaction_type=f["redaction_type"] or None,
                                     conversation_id=f["conversation_id"] or None, limit=PAGE,
                                     offset=max(offset, 0), auditor=user.id)
        records = [_summary(r) for r in found]
    except UserError as exc:
        error = str(exc)
    query = urlencode({k: v for k, v in f.items() if v})
    return render(request, "pages/audit.html", section="audit", available=True, f=f, records=records,
                  error=error, query=query, actions=ACTIONS, offset=max(offset, 0), limit=PAGE)


def _summary(record: Any) -> dict[str, Any]:
    meta = json.loads(record.record_json) if record.record_json else {}
    return {"seq": record.seq, "time": record.time, "action": record.action, "actor": meta.get("actor"),
            "role": meta.get("role"), "outcome": meta.get("outcome")}


@post("/audit/verify", guards=AUDIT, sync_to_thread=True, status_code=200)
def verify(request: Request[Any, Any, Any]) -> Template:
    """Walk the whole chain (and the configured witness) and show whether it is intact; the check is logged.

    A POST with the CSRF token: a full-chain walk is work and a logged event, which a cross-site link or image
    must not be able to start in an auditor's browser."""
    context = ctx(request)
    if context.audit is None:
        return _unavailable(request)
    result, error = None, None
    try:
        result = context.audit.verify(witness=context.audit.settings.witness_dir,
                                      auditor=session_of(request).user.id)
    except UserError as exc:  # e.g. the configured witness directory is not mounted
        error = str(exc)
    if is_htmx(request):
        return render(request, "partials/verify.html", result=result, error=error)
    return render(request, "pages/audit_verify.html", section="audit", result=result, error=error)


@get("/audit/records/{seq:int}", guards=AUDIT, sync_to_thread=True)
def record(request: Request[Any, Any, Any], seq: FromPath[int]) -> Template:
    """One record: metadata, the (redacted) content with its sources, the redaction manifest."""
    context = ctx(request)
    if context.audit is None:
        return _unavailable(request)
    try:
        found = context.audit.get(seq, auditor=session_of(request).user.id)
    except NotFound as exc:
        raise NotFoundException() from exc
    meta = json.loads(found.record_json) if found.record_json else {}
    content = json.loads(found.content_json) if found.content_json else {}
    redactions = {k: v for k, v in meta.items() if "redact" in k or "finding" in k or "pii" in k}
    return render(request, "pages/audit_record.html", section="audit", record=found, meta=meta,
                  content=content if isinstance(content, dict) else {},
                  content_sources=_sources(context, meta, content),
                  paired=_paired(context, found.action, meta),
                  redactions=json.dumps(redactions, indent=2, ensure_ascii=False) if redactions else "",
                  raw_record=json.dumps(meta, indent=2, ensure_ascii=False),
                  raw_content=json.dumps(content, indent=2, ensure_ascii=False) if content else "")


def _paired(context: Any, action: str, meta: dict[str, Any]) -> int | None:
    """The seq of the other record of the same turn (question <-> turn), None when there is none (yet).

    Not logged as a search of its own: the view of this record is logged, and the lookup reveals no more than
    which record of the same conversation carries the same event id.
    """
    other = {QUESTION: TURN, TURN: QUESTION}.get(action)
    if other is None or not meta.get("event_id") or not meta.get("conversation_id"):
        return None
    for candidate in context.audit.search(conversation_id=meta["conversation_id"], action=other, limit=1000):
        try:
            found = json.loads(candidate.record_json) if candidate.record_json else {}
        except ValueError:
            continue
        if found.get("event_id") == meta["event_id"]:
            return int(candidate.seq)
    return None


def _sources(context: Any, meta: dict[str, Any], content: dict[str, Any]) -> list[dict[str, Any]]:
    """The turn's sources (from the record) with the text the model saw (from the content), by position."""
    listed = [s for s in meta.get("baken.sources") or [] if isinstance(s, dict)]
    texts = content.get("chunks") or []
    titles = {d.doc_id: d.title for d in context.services.index.documents()} if listed else {}
    return [{**s, "title": titles.get(str(s.get("doc_id")), ""),
             "text": texts[i] if i < len(texts) and isinstance(texts[i], str) else ""}
            for i, s in enumerate(listed)]


@get("/audit/export", guards=AUDIT, sync_to_thread=True)
def export(request: Request[Any, Any, Any], format: FromQuery[str] = "jsonl") -> Response[bytes]:
    """The log as verifiable JSONL or flat CSV, with the date, actor and document filters (logged)."""
    context = ctx(request)
    if context.audit is None:
        raise NotFoundException()
    if format not in ("jsonl", "csv"):
        format = "jsonl"
    f = _filters(request)
    out = io.StringIO()
    context.audit.export(out, format, since=f["since"] or None, until=_until(f["until"]),
                         actor=f["actor"] or None, document=f["document"] or None,
                         auditor=session_of(request).user.id)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return Response(out.getvalue().encode("utf-8"), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="baken-audit-{stamp}.{format}"'})


ROUTES = [audit_page, verify, record, export]
