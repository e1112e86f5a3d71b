"""Evidence selection and the sentence check, on texts written here, with the real Dutch/English stemmer."""

from __future__ import annotations

import time

import pytest

from assistant.check import Checker, present, supported_share
from assistant.evidence import Evidence, answer_signal, answers_question, select_evidence
from assistant.terms import Terms, compound_match, numbers
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


@pytest.mark.parametrize(("word", "others", "expected"), [
    ("logging", ["firewalllogging"], 1.0),  # the head of a compound: a kind of logging
    ("modellen", ["model"], 1.0),  # an inflection
    ("minimale", ["minimum"], 1.0),
    ("bewaard", ["bewaartermijnen"], 1.0),  # a verb's stem starting a compound
    ("paspoort", ["paspoortfoto"], 0.5),  # the whole word as a modifier: a photo, not a passport
    ("werkberichten", ["berichten"], 9 / 13),  # its head only
    ("personeelsfeest", ["personeel"], 4.5 / 15),  # its modifier only, for half
    ("chatgeschiedenis", ["gespreksgeschiedenis"], 12 / 16),  # a long shared head
    ("gevoeligheid", ["veiligheid"], 0.0),  # a shared suffix is no shared head
])
def test_compounds_match_by_their_head_more_than_by_their_modifier(word: str, others: list[str],
                                                                    expected: float) -> None:
    assert compound_match(word, others) == pytest.approx(expected)


def test_the_sentence_naming_the_topic_stays_ahead_of_the_one_that_goes_on_with_it(terms: Terms) -> None:
    text = ("De gemeente Amsterdam gebruikt het algoritme Public Eye om drukte te tellen. De gemeente hanteert "
            "een minimum nauwkeurigheid van 70%. Het team evalueert dit jaarlijks.")
    evidence = select_evidence("Welke minimale nauwkeurigheid hanteert Amsterdam voor Public Eye?",
                               [(1, text, "", None)], terms)
    assert "70%" in evidence[0].text  # found through the sentence before it, which names Amsterdam


def test_evidence_without_what_the_question_asks_for_counts_for_half_as_a_source() -> None:
    fits = Evidence(1, "De vergoeding is € 2,45 per dag.", 0, 10, 1.0, 0.6, fits=True)
    lacks = Evidence(1, "Over een thuiswerkdag ontvang je geen reiskostenvergoeding.", 0, 10, 1.0, 0.6, fits=False)
    assert answer_signal([fits]) == 0.6 and answer_signal([lacks]) == 0.3 and answer_signal([]) == 0.0


def test_a_sentence_on_the_topic_without_the_amount_asked_for_does_not_fit(terms: Terms) -> None:
    text = "Over een thuiswerkdag ontvang je geen reiskostenvergoeding voor woon-werkverkeer."
    evidence = select_evidence("Hoe hoog is de reiskostenvergoeding voor woon-werkverkeer?", [(1, text, "", None)],
                               terms)
    assert evidence and not evidence[0].fits  # "een" is an article here, not a number


def test_a_sentence_on_the_topic_without_the_amount_asked_for_cannot_answer(terms: Terms) -> None:
    text = "Over een thuiswerkdag ontvang je geen reiskostenvergoeding voor woon-werkverkeer."
    question = "Hoe hoog is de reiskostenvergoeding voor woon-werkverkeer met het openbaar vervoer?"
    evidence = select_evidence(question, [(1, text, "", None)], terms)
    assert evidence and evidence[0].names and not evidence[0].states_amount
    assert not answers_question(evidence)
    assert answers_question(select_evidence("Hoeveel dagen per week mag ik thuiswerken?", SOURCES, terms))


@pytest.mark.parametrize(("question", "answers"), [
    ("Hoeveel klachten heeft de gemeente vorig jaar ontvangen?", False),  # a number, but of working days
    ("Binnen hoeveel werkdagen krijgt een klager een ontvangstbevestiging?", True),
    ("Hoeveel procent van de klachten is gegrond?", True),  # "%" counts as "procent"
    ("Binnen hoeveel tijd krijgt een klager een ontvangstbevestiging?", True),  # "tijd": any duration answers
])
def test_a_count_question_needs_a_number_of_what_it_counts(terms: Terms, question: str, answers: bool) -> None:
    text = ("De klachtencoördinator stuurt u binnen 5 werkdagen na ontvangst van uw klacht een "
            "ontvangstbevestiging. In 2025 was 40% van de klachten gegrond.")
    assert answers_question(select_evidence(question, [(1, text, "Klachtenregeling", None)], terms)) == answers


COLLEGE = "Het college van burgemeester en wethouders stelt deze richtlijn vast. De richtlijn geldt vanaf 1 april."


@pytest.mark.parametrize(("question", "answers"), [
    ("Wie is de wethouder van financiën?", False),  # one of its two words: a sentence on another subject
    ("Welke kledingvoorschriften gelden er voor baliemedewerkers?", False),
    ("Wie stelt de richtlijn vast?", True),
    ("Wat is de rol van het college van burgemeester en wethouders?", True),
])
def test_evidence_must_name_two_of_the_question_words_to_answer_it(terms: Terms, question: str,
                                                                   answers: bool) -> None:
    sources = [*SOURCES, (3, COLLEGE, "Richtlijn\nVaststelling", None),
               (4, "Baliemedewerkers van het Klant Contact Centrum werken op locatie.", "", None)]
    assert answers_question(select_evidence(question, sources, terms)) == answers


def test_a_one_word_question_needs_its_word_and_no_evidence_answers_nothing(terms: Terms) -> None:
    assert answers_question(select_evidence("firewalllogging?", SOURCES, terms))
    assert not answers_question([])


def test_word_matches_are_what_coverage_weighs(terms: Terms) -> None:
    asked, target = terms.bag("firewalllogging kantine"), terms.bag("netwerk- en firewalllogging: 6 maanden")
    assert terms.matches(asked, target) == [1.0, 0.0] and terms.coverage(asked, target) == 0.5


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


def _answers(question: str, text: str, terms: Terms) -> bool:
    return answers_question(select_evidence(question, [(1, text, "", None)], terms))


@pytest.mark.parametrize(("question", "text", "answers"), [
    # a price needs a sum of money, not any number: "45 minuten" is no price
    ("Wat kost de e-learning over AI?", "Iedere medewerker volgt de e-learning over AI (ongeveer 45 minuten).", False),
    ("Wat kost de e-learning over AI?", "De e-learning over AI kost € 25 per medewerker.", True),
    ("Hoeveel kost de e-learning over AI?", "De e-learning over AI is gratis voor medewerkers.", True),
    ("Wat is de prijs van een headset?", "Je krijgt een headset en een beeldscherm van 24 inch in bruikleen.", False),
    # a time of day needs a clock time: "binnen 24 uur" is a duration
    ("Hoe laat gaat de balie open?", "De balie is op werkdagen open; meldingen behandelen we binnen 24 uur.", False),
    ("Hoe laat gaat de balie open?", "De balie is op werkdagen open van 8.30 tot 17.00 uur.", True),
    ("Wat zijn de openingstijden van de balie?", "De openingstijden van de balie zijn van 9 tot 17 uur.", True),
    ("Vanaf hoe laat hoef ik geen berichten meer te lezen?",
     "Na 18.00 uur ben je niet verplicht berichten te lezen.", True),
])
def test_a_price_needs_money_and_a_time_of_day_a_clock_time(terms: Terms, question: str, text: str,
                                                            answers: bool) -> None:
    assert _answers(question, text, terms) == answers


@pytest.mark.parametrize(("question", "text", "answers"), [
    # the name must stand beside what the question names, not elsewhere in the sentence
    ("Hoe heet de gemeentearchivaris die over de lijst adviseert?",
     "Na advies van de gemeentearchivaris stelt de gemeentesecretaris de lijst vast.", False),
    ("Hoe heet de gemeentearchivaris die over de lijst adviseert?",
     "De gemeentearchivaris, Jan de Vries, adviseert over de lijst.", True),
    ("Wat is de naam van de functionaris gegevensbescherming?",
     ("Na advies van de Chief Information Security Officer (CISO) en de functionaris gegevensbescherming is "
      "het beleid vastgesteld."), False),
    ("Hoe heet de ondersteuningsorganisatie van de VNG voor gemeenten?",
     "De VNG kent ter ondersteuning het Servicecentrum Gemeenten.", True),
    ("Hoe heet het wanneer een chatbot onjuiste informatie geeft?",  # asks a term, not a name
     "Geeft een chatbot onjuiste informatie, dan heet dit 'hallucineren'.", True),
    ("Wie is de zorgdrager voor de archiefbescheiden?", "Het college is de zorgdrager voor de archiefbescheiden.",
     True),
    # "welk merk laptop": a brand, or the word itself; "VPN" qualifies a connection, not a laptop
    ("Welk merk laptop krijg ik van de gemeente?", "De laptop van de gemeente maakt een VPN-verbinding.", False),
    ("Welk merk laptop krijg ik van de gemeente?", "Je krijgt van de gemeente een Lenovo-laptop.", True),
    ("Met welke tool gaat de gemeente bellen?", "De gemeente gaat bellen met Microsoft Teams.", True),
])
def test_a_name_stands_beside_its_subject_and_a_which_question_needs_what_it_names(
        terms: Terms, question: str, text: str, answers: bool) -> None:
    assert _answers(question, text, terms) == answers
