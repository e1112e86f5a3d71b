"""Evidence selection and the sentence check, on texts written here, with the real Dutch/English stemmer."""

from __future__ import annotations

import time

import pytest

from assistant.check import Checker, present, supported_share
from assistant.evidence import select_evidence
from assistant.terms import Terms, numbers
from ingestion.lexical import Tokenizer

LOGGING = ("Voor logbestanden gelden de volgende bewaartermijnen, waarna ze automatisch worden verwijderd:\n\n"
           "- beveiligingslogging (inlogpogingen, beheerrechten, toegangsrechten): 12 maanden;\n"
           "- netwerk- en firewalllogging: 6 maanden;\n"
           "- gespreksgeschiedenis van de AI-assistent Baken: 30 dagen.\n")
THUISWERK = ("Bij een voltijds dienstverband van 36 uur werk je maximaal 3 dagen per week thuis. Je werkt dus "
             "minimaal 2 dagen per week op kantoor. Elk team heeft één vaste teamdag per week waarop iedereen "
             "op kantoor is. Het afdelingshoofd stelt de teamdag vast.")
SOURCES = [(1, THUISWERK, "Thuiswerkbeleid\nVerdeling tussen thuis en kantoor", None),
           (2, LOGGING, "Informatiebeveiliging\nLogging en bewaartermijnen van logbestanden", None)]


@pytest.fixture(scope="module")
def terms() -> Terms:
    return Terms(Tokenizer().stems)


def test_the_sentence_that_answers_is_chosen_first(terms: Terms) -> None:
    evidence = select_evidence("Hoeveel dagen per week mag ik thuiswerken?", SOURCES, terms)
    assert evidence[0].n == 1 and "maximaal 3 dagen per week thuis" in evidence[0].text
    assert 1 <= len(evidence) <= 3
    assert THUISWERK[evidence[0].start:evidence[0].end] == evidence[0].text


def test_a_compound_in_the_question_finds_its_list_item(terms: Terms) -> None:
    evidence = select_evidence("Hoe lang wordt firewalllogging bewaard?", SOURCES, terms)
    assert evidence[0].n == 2 and "firewalllogging: 6 maanden" in evidence[0].text
    assert evidence[0].coverage >= 0.9


def test_what_the_question_asks_for_decides_between_sentences(terms: Terms) -> None:
    evidence = select_evidence("Wie stelt de teamdag vast?", SOURCES, terms)
    assert "afdelingshoofd" in evidence[0].text


@pytest.mark.parametrize("question", ["de het een?", "???", "12345"])
def test_a_question_without_topic_gives_no_evidence_and_no_error(terms: Terms, question: str) -> None:
    assert select_evidence(question, SOURCES, terms) == []


def test_overlapping_chunks_do_not_repeat_a_sentence(terms: Terms) -> None:
    evidence = select_evidence("Hoe lang wordt firewalllogging bewaard?", [*SOURCES, (3, LOGGING, "", None)], terms)
    assert len({e.text for e in evidence}) == len(evidence)


def test_selection_is_fast_on_long_sources_and_a_4000_character_question(terms: Terms) -> None:
    long_sources = [(n, THUISWERK * 6 + LOGGING * 6, "", None) for n in range(1, 5)]
    question = ("Hoeveel dagen mag ik thuiswerken en how many days may I work from home? " * 60)[:4000]
    select_evidence(question, long_sources, terms)
    started = time.perf_counter()
    select_evidence("Hoeveel dagen per week mag ik thuiswerken?", long_sources, terms)
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize(("text", "expected"), [
    ("€ 1.000 per jaar", {"1000"}), ("om 9:30 uur", {"9.30"}), ("drie dagen", {"3"}), ("€ 2,45.", {"2,45"}),
    ("zie [1] en [PERSOON_2]", set()),
])
def test_numbers_are_normalised(text: str, expected: set[str]) -> None:
    assert numbers(text) == expected


def test_a_supported_sentence_gets_the_citation_of_its_source(terms: Terms) -> None:
    checked = Checker(terms).check("Je mag maximaal 3 dagen per week thuiswerken.", SOURCES)
    assert [(c.supported, c.source) for c in checked] == [(True, 1)]
    assert checked[0].shown() == "Je mag maximaal 3 dagen per week thuiswerken [1]."


def test_a_planted_wrong_number_is_never_supported(terms: Terms) -> None:
    checked = Checker(terms).check("Je werkt maximaal 4 dagen per week thuis [1].", SOURCES)
    assert not checked[0].supported and checked[0].reason == "number"


def test_an_invented_citation_is_replaced_by_the_supporting_source(terms: Terms) -> None:
    checked = Checker(terms).check("Netwerk- en firewalllogging wordt 6 maanden bewaard [7].", SOURCES)
    assert checked[0].supported and checked[0].source == 2 and checked[0].model_cited == (7,)
    wrong = Checker(terms).check("Netwerk- en firewalllogging wordt 6 maanden bewaard [1].", SOURCES)
    assert wrong[0].source == 2


def test_an_unsupported_sentence_is_marked_removed_or_withheld(terms: Terms) -> None:
    checked = Checker(terms).check("Je werkt maximaal 3 dagen per week thuis. De kantine serveert gratis "
                                   "soep aan alle bezoekers.", SOURCES)
    assert [c.supported for c in checked] == [True, False] and checked[1].reason == "content"
    assert supported_share(checked) == 0.5
    assert present("generative", checked, 0.5) == ["shown", "marked"]
    assert present("auto", checked, 0.5) == ["shown", "removed"]
    assert present("auto", checked, 0.75) == ["withheld", "withheld"]
    assert present("extractive", checked, 0.5) == ["withheld", "withheld"]


def test_filler_without_content_words_is_left_out(terms: Terms) -> None:
    assert Checker(terms).check("Zie hieronder.", SOURCES) == []
