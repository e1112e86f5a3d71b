"""One `Source` from the index hit to the template, the CLI's JSON and the audit record.

The index returns Sources (unnumbered); the assistant numbers the ones it gives the model (``n``, as the
answer cites them), gives the model their redacted text, and marks which the answer cited. Each border takes
its record from here: `record()` for the web history, the template and `ask --json`; `audit_record()` for the
audit log (ids, hash and score only, never the text); `from_record()` reads a stored record back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """A retrieved chunk with its document and score (higher is better), numbered once it is given to the model.

    ``score`` depends on the search mode: dense, the cosine similarity (-1..1); lexical, the BM25 score
    (0..); hybrid, the fused reciprocal-rank score scaled so that 1.0 means first in both retrievers.
    ``cosine`` is the chunk's cosine similarity to the question when the dense retriever proposed it.
    ``document`` is the document's source key (a path, or "upload:NAME").
    """

    chunk_id: str
    doc_id: str
    document: str
    title: str
    heading: str
    page: int | None
    score: float
    text: str
    cosine: float | None = None
    n: int = 0  # the number the answer cites it by; 0 until it is given to the model
    cited: bool = False
    collection: str = "algemeen"  # the document's collection when it was found

    @property
    def source(self) -> str:
        """The document's source key (the name `Hit` gave it)."""
        return self.document

    def record(self) -> dict[str, Any]:
        """The source as the web history, the template and `ask --json` keep it."""
        return {"n": self.n, "doc_id": self.doc_id, "chunk_id": self.chunk_id, "document": self.document,
                "title": self.title, "page": self.page, "heading": self.heading, "score": self.score,
                "text": self.text, "cited": self.cited, "collection": self.collection}

    def audit_record(self, *, with_cited: bool) -> dict[str, Any]:
        """The source as the audit log keeps it: ids, content hash, chunk and score, never the text (whether
        it was cited is known only after the answer)."""
        return {"n": self.n, "doc_id": self.doc_id, "content_hash": self.doc_id, "chunk_id": self.chunk_id,
                "page": self.page, "score": self.score, "collection": self.collection,
                **({"cited": self.cited} if with_cited else {})}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Source:
        """A source from its `record()` (missing fields get their empty value)."""
        return cls(chunk_id=str(record.get("chunk_id", "")), doc_id=str(record.get("doc_id", "")),
                   document=str(record.get("document", "")), title=str(record.get("title", "")),
                   heading=str(record.get("heading", "")), page=record.get("page"),
                   score=float(record.get("score", 0.0)), text=str(record.get("text", "")),
                   n=int(record.get("n", 0)), cited=bool(record.get("cited", False)),
                   collection=str(record.get("collection") or "algemeen"))
