"""The one Source value: its records for the history, the CLI and the audit log, and back."""

from __future__ import annotations

from dataclasses import replace

from ingestion.source import Source

SOURCE = Source(chunk_id="d1-0", doc_id="d" * 64, document="upload:parkeren.md", title="Parkeren", heading="Tarieven",
                page=2, score=0.81, text="Een parkeervergunning kost veertig euro per jaar.", cosine=0.77, n=1,
                cited=True)


def test_the_record_reads_back_into_the_same_source() -> None:
    assert Source.from_record(SOURCE.record()) == replace(SOURCE, cosine=None)


def test_the_audit_record_holds_ids_hash_and_score_but_never_the_text() -> None:
    record = SOURCE.audit_record(with_cited=True)
    assert record == {"n": 1, "doc_id": "d" * 64, "content_hash": "d" * 64, "chunk_id": "d1-0", "page": 2,
                      "score": 0.81, "collection": "algemeen", "cited": True}
    assert "cited" not in SOURCE.audit_record(with_cited=False)


def test_the_old_hit_name_for_the_document_key_still_reads() -> None:
    assert SOURCE.source == SOURCE.document == "upload:parkeren.md"
