"""The information manager's documents as a service for one user: the list and its search, the collections
offered, the indexing jobs, a queued upload, delete, re-index and move, each audited. Everything is inside the
collections the user reads: outside them a document does not exist, as far as this user can tell. The routes
(`web/documents/routes.py`) parse the request (and stream an upload's body to the spool), call one of these,
and render. `audit_indexed` logs each finished upload or re-index, as the Indexer reports it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

from assistant.services import Services
from ingestion.collection import OPEN, Collection
from ingestion.registry import DocumentRecord
from web.accounts.store import User
from web.auth import acting_role
from web.context import WebContext
from web.documents.indexing import IndexJob, clean_filename, logged_name


class Outcome(NamedTuple):
    """What became of one file of an upload (name is empty for a message about the whole form)."""

    name: str
    message: str  # a message key of web.i18n
    status: int = 400  # 202 queued, 413 too large, 403 collection refused, 400 otherwise refused
    values: Mapping[str, Any] = {}  # read only: one shared empty default


class CollectionRefused(Exception):
    """A collection the user does not read was asked for (for an upload, or as a move's target)."""


class Library:
    """One user's view of the documents, over the web context's index, indexer and audit log."""

    def __init__(self, context: WebContext, user: User) -> None:
        self.context, self.user = context, user
        self.readable = context.readable(user)
        self.role = acting_role(user, "documents")

    def matching(self, q: str) -> list[DocumentRecord]:
        """The user's documents whose title, name, source or id contain every word of ``q``, newest first."""
        documents = self.context.services.index.documents(self.readable)
        words = q[:200].lower().split()
        if words:
            documents = [d for d in documents
                         if all(w in f"{d.title} {d.name} {d.source} {d.doc_id}".lower() for w in words)]
        return sorted(documents, key=lambda d: d.ingested_at, reverse=True)

    def collections(self) -> list[Collection]:
        """The collections the user reads (what the upload and move choices offer)."""
        return [c for c in self.context.services.index.collections.list() if c.name in self.readable]

    def jobs(self) -> dict[str, Any]:
        """The indexing jobs of the user's collections, and whether any is still running."""
        jobs = self.context.indexer.jobs(self.readable)
        return {"jobs": jobs, "busy": any(j.status in ("queued", "indexing") for j in jobs)}

    def check_collection(self, collection: str | None) -> str:
        """The collection an upload goes into (``algemeen`` when none is named); CollectionRefused for one the
        user does not read: never into a collection one may not read."""
        collection = collection or OPEN
        if collection not in self.readable:
            raise CollectionRefused(collection)
        return collection

    def submit(self, spooled: Path, filename: str, collection: str) -> IndexJob:
        """Queue a file already in the indexer's spool for indexing."""
        return self.context.indexer.submit(spooled, clean_filename(filename), self.user.id, self.role,
                                           collection=collection)

    def queue(self, upload: IO[bytes], filename: str, collection: str) -> Outcome:
        """One file of a form, already spooled by Litestar: measured without reading it, then copied to the
        indexer's spool and queued."""
        name = clean_filename(filename)
        limit = self.context.max_upload_bytes
        size = upload.seek(0, os.SEEK_END)
        if size > limit:
            return Outcome(name, "docs.too_large", 413, {"mb": limit // (1024 * 1024)})
        if size == 0:
            return Outcome(name, "docs.empty_upload")
        upload.seek(0)
        spooled = self.context.indexer.spool_path()
        try:
            with spooled.open("wb") as out:
                shutil.copyfileobj(upload, out, 1024 * 1024)
        except BaseException:
            spooled.unlink(missing_ok=True)
            raise
        self.submit(spooled, name, collection)
        return Outcome(name, "docs.queued", 202)

    def find(self, doc_id: str) -> DocumentRecord:
        """One of the user's documents (NotFound otherwise)."""
        return self.context.services.index.find(doc_id, self.readable)

    def delete(self, record: DocumentRecord) -> None:
        """Remove a document and its chunks; logged."""
        context = self.context
        context.services.index.delete(record.doc_id)
        if context.audit is not None:
            context.audit.append_document_event(
                "document.delete", actor=self.user.id, role=self.role, doc_id=record.doc_id, sha256=record.doc_id,
                details={"baken.document.name": logged_name(record.name, context.services.assistant.redactor),
                         "baken.collection": record.collection})

    def reindex(self, doc_id: str) -> None:
        """Index a document again from its stored original, in the background (NotFound when not the user's)."""
        self.context.indexer.reindex(doc_id, self.user.id, self.role, self.readable)

    def move(self, record: DocumentRecord, target: str) -> None:
        """Put a document in another collection the user reads (CollectionRefused otherwise); takes effect at
        once; logged."""
        if target not in self.readable:
            raise CollectionRefused(target)
        context = self.context
        context.services.index.move(record.doc_id, target)
        if context.audit is not None:
            context.audit.append_document_event(
                "document.move", actor=self.user.id, role=self.role, doc_id=record.doc_id, sha256=record.doc_id,
                details={"baken.collection.from": record.collection, "baken.collection": target})



def audit_indexed(services: Services, job: IndexJob) -> None:
    """Each finished upload or re-index is counted, and is a document event in the audit log."""
    observed = services.metrics
    if observed is not None:
        observed.observe_ingestion(job.result or "failed", job.total if job.status == "done" else 0,
                                   time.time() - job.created)
    if services.audit is None:
        return
    services.audit.append_document_event(
        f"document.{job.kind}", actor=job.actor_id, role=job.actor_role, doc_id=job.doc_id or "",
        sha256=job.doc_id or "", outcome="ok" if job.status == "done" else "failed",
        details={"baken.document.name": logged_name(job.name, services.assistant.redactor),
                 "baken.document.result": job.result or job.error, "baken.collection": job.collection})
