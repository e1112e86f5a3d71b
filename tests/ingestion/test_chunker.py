"""Chunker: chunks fit the budget, overlap, never cross sections, and keep title, heading and page."""

from __future__ import annotations

from itertools import pairwise

from ingestion.chunker import chunk_document
from ingestion.document import ParsedDocument, Section


def words(text: str) -> int:
    return len(text.split())


def test_chunks_fit_the_budget_and_overlap() -> None:
    sentences = " ".join(f"Zin nummer {i} gaat over beleid." for i in range(200))
    document = ParsedDocument("Titel", "text", [Section(sentences, ("Kop",), 3)])
    chunks = chunk_document(document, "d" * 64, words, max_tokens=60, overlap=12)
    assert len(chunks) > 5
    assert all(words(c.embed_text) <= 60 for c in chunks)
    for first, second in pairwise(chunks):
        assert first.text.split(".")[-2] in second.text  # the last sentence is carried over
    assert {(c.title, c.heading, c.page) for c in chunks} == {("Titel", "Kop", 3)}


def test_chunks_do_not_cross_sections() -> None:
    document = ParsedDocument("T", "pdf", [Section("een twee", page=1), Section("drie vier", page=2)])
    chunks = chunk_document(document, "e" * 64, words, max_tokens=100, overlap=10)
    assert [(c.page, c.text) for c in chunks] == [(1, "een twee"), (2, "drie vier")]


def test_one_very_long_sentence_is_split_by_words() -> None:
    document = ParsedDocument("T", "text", [Section("woord " * 500)])
    chunks = chunk_document(document, "f" * 64, words, max_tokens=50, overlap=0)
    assert all(words(c.embed_text) <= 50 for c in chunks)
    assert sum(words(c.text) for c in chunks) == 500


def test_chunk_ids_are_stable_and_unique() -> None:
    document = ParsedDocument("T", "text", [Section("a. " * 300)])
    first = chunk_document(document, "a" * 64, words, 40, 5)
    second = chunk_document(document, "a" * 64, words, 40, 5)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
