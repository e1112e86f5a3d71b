"""The BM25 index: Dutch and English stemming per chunk, persistence per document, and recovery from bad files."""

from __future__ import annotations

from pathlib import Path

from ingestion.lexical import LexicalIndex, Tokenizer

DUTCH = "Alle wachtwoorden van gebruikers worden periodiek gewijzigd, met een maximum van een jaar."
ENGLISH = "All passwords of the users are changed periodically, at least once a year."
LOGS = "De logbestanden van het systeem worden zes maanden bewaard door de gebruiksverantwoordelijke."


def _index(tmp_path: Path) -> LexicalIndex:
    index = LexicalIndex(tmp_path / "lexical")
    index.add_document("nl-doc", ["nl-0", "nl-1"], [DUTCH, LOGS])
    index.add_document("en-doc", ["en-0"], [ENGLISH])
    return index


def test_each_chunk_is_stemmed_in_its_own_language() -> None:
    tokenizer = Tokenizer()
    assert tokenizer.passage(DUTCH)[0] == "nl" and tokenizer.passage(ENGLISH)[0] == "en"
    assert tokenizer.passage("het logbestand")[1][0] == tokenizer.passage("de logbestanden")[1][0]
    assert "password" in tokenizer.passage(ENGLISH)[1] and "passwords" not in tokenizer.passage(ENGLISH)[1]


def test_stop_words_are_not_indexed() -> None:
    assert Tokenizer().words("De van het een en of") == []


def test_inflected_dutch_question_finds_the_chunk(tmp_path: Path) -> None:
    hits = _index(tmp_path).search("Hoe lang bewaren we een logbestand?", 5)
    assert hits[0].chunk_id == "nl-1" and hits[0].doc_id == "nl-doc" and hits[0].score > 0


def test_english_question_finds_the_english_chunk(tmp_path: Path) -> None:
    assert _index(tmp_path).search("password change", 5)[0].chunk_id == "en-0"


def test_only_allowed_documents_are_returned(tmp_path: Path) -> None:
    hits = _index(tmp_path).search("wachtwoord password", 5, allowed={"en-doc"})
    assert [h.doc_id for h in hits] == ["en-doc"]


def test_question_without_known_words_finds_nothing(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert index.search("veerboot Texel", 5) == [] and index.search("de het een", 5) == []
    assert LexicalIndex(tmp_path / "empty").search("wachtwoord", 5) == []


def test_index_persists_across_instances(tmp_path: Path) -> None:
    _index(tmp_path)
    reopened = LexicalIndex(tmp_path / "lexical")
    assert reopened.doc_ids() == {"nl-doc", "en-doc"} and reopened.count() == 3
    assert reopened.search("wachtwoorden", 1)[0].chunk_id == "nl-0"


def test_removed_document_is_gone_from_search_and_disk(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.remove_document("nl-doc")
    index.remove_document("never-there")
    assert [h.doc_id for h in index.search("wachtwoorden logbestanden", 5)] == []
    assert LexicalIndex(tmp_path / "lexical").doc_ids() == {"en-doc"}


def test_re_adding_a_document_replaces_its_chunks(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add_document("nl-doc", ["nl-9"], ["Een parkeervergunning kost veertig euro."])
    assert index.count() == 2
    assert index.search("parkeervergunningen", 5)[0].chunk_id == "nl-9"
    assert all(h.chunk_id != "nl-0" for h in index.search("wachtwoorden", 5))


def test_corrupt_and_half_written_files_are_dropped_at_load(tmp_path: Path) -> None:
    _index(tmp_path)
    (tmp_path / "lexical" / "nl-doc.json").write_text('{"version": 1, "doc_id": "nl-doc", "chu')
    (tmp_path / "lexical" / "x.json.part").write_text("half")
    (tmp_path / "lexical" / "old.json").write_text('{"version": 0, "doc_id": "old", "chunks": []}')
    reopened = LexicalIndex(tmp_path / "lexical")
    assert reopened.doc_ids() == {"en-doc"}
    assert sorted(p.name for p in (tmp_path / "lexical").iterdir()) == ["en-doc.json"]


def test_a_compound_matches_through_its_parts(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lexical")
    index.add_document("a", ["a-0"], ["Richt een formeel proces in voor codewijzigingen."])
    index.add_document("b", ["b-0"], ["Maak een back-up van de omgeving."])
    assert index.search("Wie keurt aanpassingen aan de programmacode goed?", 2)[0].chunk_id == "a-0"


def test_coverage_is_the_idf_weighted_share_of_the_question_found_in_the_chunk(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert index.search("logbestanden bewaard", 1)[0].coverage == 1.0
    partial = index.search("logbestanden hondenbelasting", 1)[0]
    assert partial.chunk_id == "nl-1" and 0.0 < partial.coverage < 0.5  # the unknown word weighs most
