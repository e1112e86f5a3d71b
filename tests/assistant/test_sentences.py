"""Sentence splitting: Dutch abbreviations, initials, numbers, list items, table rows, offsets, linear time."""

from __future__ import annotations

import time

import pytest

from assistant.sentences import MAX_UNIT_CHARS, split_units


@pytest.mark.parametrize("text", [
    "Dit geldt o.a. voor stagiairs en bijv. voor uitzendkrachten.",
    "Neem contact op met mr. J. de Vries van de afdeling HR.",
    "De vergoeding is € 1.000 per jaar en de kernuren zijn 9.30 tot 15.30 uur.",
    "Zie art. 5.1 van de regeling, lid 2.",
])
def test_abbreviations_initials_and_numbers_do_not_end_a_sentence(text: str) -> None:
    assert [u.text for u in split_units(text)] == [text]


def test_sentences_split_at_full_stops_and_keep_their_offsets() -> None:
    text = "Eerste zin over thuiswerken. Tweede zin over de vergoeding! Derde zin met een vraag?"
    units = split_units(text)
    assert [u.text for u in units] == ["Eerste zin over thuiswerken.", "Tweede zin over de vergoeding!",
                                       "Derde zin met een vraag?"]
    assert all(text[u.start:u.end] == u.text for u in units)


def test_list_items_are_units_with_the_line_that_introduces_them() -> None:
    text = "Voor logbestanden gelden deze bewaartermijnen:\n\n- beveiligingslogging: 12 maanden;\n" \
           "- netwerk- en firewalllogging: 6 maanden;\n"
    units = split_units(text)
    assert [u.text for u in units[1:]] == ["- beveiligingslogging: 12 maanden;",
                                           "- netwerk- en firewalllogging: 6 maanden;"]
    assert units[2].lead == "Voor logbestanden gelden deze bewaartermijnen:"
    assert all(text[u.start:u.end] == u.text for u in units)


def test_table_rows_are_units_and_rules_are_skipped() -> None:
    text = "| Soort | Termijn |\n|---|---|\n| Besluiten | 20 jaar |\n"
    assert [u.text for u in split_units(text)] == ["| Soort | Termijn |", "| Besluiten | 20 jaar |"]


def test_a_text_without_boundaries_is_cut_at_spaces_in_linear_time() -> None:
    short = "woord " * 2000
    started = time.perf_counter()
    units = split_units(short * 5)
    elapsed = time.perf_counter() - started
    assert units and all(len(u.text) <= MAX_UNIT_CHARS for u in units)
    dots = "a." * 20000  # many candidate boundaries, none real
    started_dots = time.perf_counter()
    split_units(dots)
    assert elapsed < 1.0 and time.perf_counter() - started_dots < 1.0


def test_headings_and_blank_lines_are_not_units() -> None:
    assert split_units("# Vergoedingen\n\n\n") == []


def test_hard_wrapped_lines_are_joined_into_their_sentence() -> None:
    text = "Tijdens de contractvorming worden afspraken vastgelegd. Mede met gebruikmaking \n" \
           "van de gemeentelijke inkoopvoorwaarden bij IT (GIBIT).\nSociale media\nHet college stopt met X.\n"
    units = split_units(text)
    assert [" ".join(u.text.split()) for u in units] == [
        "Tijdens de contractvorming worden afspraken vastgelegd.",
        "Mede met gebruikmaking van de gemeentelijke inkoopvoorwaarden bij IT (GIBIT).",
        "Sociale media", "Het college stopt met X."]
    assert all(text[u.start:u.end] == u.text for u in units)
