"""Grounding: only citations of sources that were given survive, and an unsupported answer says so."""

from __future__ import annotations

import pytest

from assistant.citations import UNSUPPORTED, cited_numbers, ground


@pytest.mark.parametrize(("answer", "available", "text", "cited", "invalid"), [
    ("Dat kost veertig euro [1].", 2, "Dat kost veertig euro [1].", [1], []),
    ("Zie [2] en [1, 3].", 3, "Zie [2] en [1, 3].", [2, 1, 3], []),
    ("Zes maanden [1][7].", 2, "Zes maanden [1].", [1], [7]),
    ("Zes maanden [1, 7] of langer [0].", 2, "Zes maanden [1] of langer.", [1], [7, 0]),
    ("Volgens [bron 2] en [Bron 1;bron 2] is dat zo.", 2, "Volgens [2] en [1, 2] is dat zo.", [2, 1], []),
    ("Tien jaar [3 en 1].", 3, "Tien jaar [3, 1].", [3, 1], []),
])
def test_valid_citations_are_kept_and_invalid_ones_removed(answer: str, available: int, text: str,
                                                          cited: list[int], invalid: list[int]) -> None:
    grounded = ground(answer, available)
    assert (grounded.text, grounded.cited, grounded.invalid, grounded.supported) == (text, cited, invalid, True)


def test_answer_citing_only_missing_sources_says_it_found_no_support() -> None:
    grounded = ground("Het is zes maanden [5].", 4)
    assert not grounded.supported and grounded.cited == [] and grounded.invalid == [5]
    assert grounded.text.startswith("Het is zes maanden.")
    assert grounded.text.endswith(UNSUPPORTED["nl"])


@pytest.mark.parametrize(("language", "phrase"), [("nl", "geen onderbouwing"), ("en", "could not find support")])
def test_answer_without_any_citation_gets_a_note_in_the_question_language(language: str, phrase: str) -> None:
    grounded = ground("Six months.", 3, language)
    assert not grounded.supported and phrase in grounded.text and grounded.text.startswith("Six months.")


def test_empty_answer_is_only_the_note() -> None:
    assert ground("", 2).text == UNSUPPORTED["nl"]


def test_no_sources_means_every_citation_is_invalid() -> None:
    grounded = ground("Zie [1].", 0)
    assert grounded.invalid == [1] and not grounded.supported


def test_cited_numbers_reads_the_same_forms_as_ground() -> None:
    assert cited_numbers("Zie [bron 2] en [1, 3] maar niet [9].", 3) == [2, 1, 3]
