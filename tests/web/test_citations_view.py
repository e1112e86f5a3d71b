"""How answers, sources and evidence are shown: citation links, one entry per document, highlighted evidence."""

from __future__ import annotations

from web.context import by_document, cite, highlighted, snippet

SOURCES = [{"n": 1, "doc_id": "a", "document": "thuis.md", "title": "Thuiswerk", "text": "x", "cited": False},
           {"n": 2, "doc_id": "b", "document": "log.md", "title": "Logging", "text": "y", "cited": True},
           {"n": 3, "doc_id": "a", "document": "thuis.md", "title": "Thuiswerk", "text": "z", "cited": True}]


def test_single_and_multi_number_citations_link_to_their_sources() -> None:
    html = str(cite("Zo staat het [1, 3] en hier [2]; maar niet [7].", "t", SOURCES))
    assert html.count('class="citation"') == 3 and 'href="/chat/turns/t/sources/3"' in html
    assert "[7]" in html and "/sources/7" not in html


def test_sources_are_grouped_per_document_cited_first() -> None:
    groups = by_document(SOURCES)
    assert [g["title"] for g in groups] == ["Thuiswerk", "Logging"]
    assert [s["n"] for s in groups[0]["sources"]] == [3, 1] and groups[0]["first"]["n"] == 3


def test_evidence_is_highlighted_in_its_chunk_and_everything_is_escaped() -> None:
    text = "Eerst <b>dit</b>. Dan de kern: 3 dagen. Tot slot."
    start = text.index("Dan")
    html = str(highlighted(text, [{"n": 1, "start": start, "end": start + 21}], 1))
    assert "<mark>Dan de kern: 3 dagen.</mark>" in html and "&lt;b&gt;" in html
    assert "<mark>" not in str(highlighted(text, [{"n": 2, "start": start, "end": start + 21}], 1))


def test_a_snippet_is_one_short_line() -> None:
    assert snippet("woord " * 100).endswith("…") and len(snippet("woord " * 100)) <= 141
