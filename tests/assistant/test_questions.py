"""What a question asks for, and whether it refers back to the previous one."""

from __future__ import annotations

import pytest

from assistant.questions import (
    asked_form,
    asks_amount,
    counted,
    is_follow_up,
    question_kind,
    standalone_query,
    without_question_words,
)


@pytest.mark.parametrize(("question", "kind"), [
    ("Hoe lang wordt firewalllogging bewaard?", "duration"),
    ("Binnen welke termijn krijg ik antwoord op een klacht?", "duration"),
    ("Wanneer is het beleid vastgesteld?", "date"),
    ("Hoeveel thuiswerkdagen heb ik?", "number"),
    ("Wie beslist over werken vanuit het buitenland?", "role"),
    ("Mag ik thuis printen?", "yes_no"),
    ("Wat is hybride werken?", None),
    ("Vanaf hoe laat hoef ik geen berichten meer te lezen?", "date"),
    ("In welke periode worden archiefstukken vernietigd?", "date"),
])
def test_the_question_kind_is_read_from_its_words(question: str, kind: str | None) -> None:
    assert question_kind(question) == kind


@pytest.mark.parametrize(("question", "amount"), [
    ("Hoeveel dagen per week mag ik thuiswerken?", True),
    ("Binnen hoeveel werkdagen krijg ik een ontvangstbevestiging?", True),
    ("Hoe hoog is de reiskostenvergoeding?", True),
    ("Wat kost een parkeervergunning?", True),
    ("en hoeveel voor deeltijd?", True),
    ("Hoe vaak wordt de richtlijn herzien?", False),  # "jaarlijks" answers it as well as a number
    ("Hoe meten we hoeveel energie ons AI-systeem gebruikt?", False),  # asks how, not how much
    ("Wie stelt de teamdag vast?", False),
])
def test_a_question_that_opens_by_asking_an_amount_is_told_apart(question: str, amount: bool) -> None:
    assert asks_amount(question) == amount


@pytest.mark.parametrize(("question", "what"), [
    ("Hoeveel vakantiedagen krijg ik?", "vakantiedagen"), ("Binnen hoeveel werkdagen reageert de gemeente?", "werkdagen"),
    ("Hoeveel kost een paspoort?", None), ("Binnen hoeveel tijd moet ik de werkplekcheck invullen?", None),
    ("Hoe hoog is de vergoeding?", None),
])
def test_a_count_question_names_what_it_counts(question: str, what: str | None) -> None:
    assert counted(question) == what


PREVIOUS = "Hoeveel dagen per week mag ik thuiswerken?"


@pytest.mark.parametrize(("question", "follow_up"), [
    ("en voor deeltijd?", True),
    ("Geldt dat ook voor stagiairs?", True),
    ("Wie beslist daarover?", True),
    ("En hoe lang mag dat?", True),
    ("Hoe lang wordt firewalllogging bewaard?", False),
    ("Wat doet de Nationale ombudsman bij een klacht over de gemeente?", False),
    ("Welke AI-tools mag ik gebruiken voor vertrouwelijke documenten van inwoners?", False),
])
def test_follow_ups_are_told_from_new_questions(question: str, follow_up: bool) -> None:
    assert is_follow_up(question, PREVIOUS) is follow_up


def test_a_first_question_is_never_a_follow_up() -> None:
    assert not is_follow_up("en voor deeltijd?", None)


def test_the_standalone_query_carries_the_previous_topic() -> None:
    query = standalone_query("en voor deeltijd?", PREVIOUS)
    assert "deeltijd" in query and "thuiswerken" in query and "week" in query


def test_question_words_are_not_the_topic() -> None:
    assert without_question_words("Hoe lang wordt firewalllogging bewaard?").split() == \
        ["wordt", "firewalllogging", "bewaard?"]


def test_the_light_verbs_a_question_is_framed_with_are_not_its_topic() -> None:
    assert without_question_words("Vanaf wanneer gelden de eisen?").split() == ["de", "eisen?"]
    assert "gaat" not in without_question_words("Met welke tool gaat Hilversum bellen?").split()


@pytest.mark.parametrize(("question", "form"), [
    ("Wat kost de e-learning?", ("price", None)),
    ("Hoeveel kost een paspoort?", ("price", None)),
    ("Hoe hoog is het OZB-tarief?", ("price", None)),
    ("Hoe laat gaat de kantine open?", ("clock", None)),
    ("Wat zijn de openingstijden van de balie?", ("clock", None)),
    ("Hoe heet de gemeentearchivaris?", ("name", "gemeentearchivaris")),
    ("Wie is de vertrouwenspersoon?", ("person", "vertrouwenspersoon")),
    ("Welke cursussen kan ik volgen?", ("which", "cursussen")),
    ("Hoe heet het wanneer een chatbot iets verzint?", None),  # a term
    ("Wie is zorgdrager voor de archiefbescheiden?", None),  # no article: a role answers, the kind's bonus ranks it
    ("Op welke dag is de teamdag?", None),  # a date: `question_kind`
    ("Hoe lang duurt de e-learning?", None),
])
def test_the_form_an_answer_must_take_is_read_from_the_question(question: str,
                                                                form: tuple[str, str | None] | None) -> None:
    assert asked_form(question) == form
