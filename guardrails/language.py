"""A cheap guess of whether a text is (partly) English, to decide whether English NER must run."""

from __future__ import annotations

import re

from guardrails.detection import words

_WORD = re.compile(r"[a-z']+")
_ENGLISH = words("""
the and of to is are was were be been this that these those with for from you your please would could
should which what who they them their there here have has had will shall not but about into our we he
she his her it its as at by an on or if my me i dear regards thanks thank
""")
_DUTCH = words("""
de het een en van is zijn was waren dit dat deze die met voor uit je jij u uw graag zou kunnen moeten
welke wat wie zij hun er hier hebben heeft had zal niet maar over naar ons wij hij haar als bij op of
mijn ik beste groet groeten bedankt dank ook nog wordt worden door aan te om
""")


def english_share(text: str) -> float:
    """The share of English among the function words of ``text`` (0.0 when it has none)."""
    english = dutch = 0
    for word in _WORD.findall(text.lower()):
        if word in _ENGLISH:
            english += 1
        elif word in _DUTCH:
            dutch += 1
    total = english + dutch
    return english / total if total else 0.0


def looks_english(text: str, minimum: float = 0.25) -> bool:
    """True when enough of the text's function words are English to be worth English NER."""
    return english_share(text) >= minimum


_CAPITAL = re.compile(r"(?<![\w'’-])[A-Z][a-z'’]+")
_STARTERS = _ENGLISH | _DUTCH | words("""
can could would will shall may might must what how why when where who whom whose which please kindly schedule
send write summarise summarize draft make give find check tell explain list translate draw create prepare do
does did is are was were have has had if so yes no thanks hello hi also then next after before there here
""")


def unexplained_capital_spans(text: str, explained: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The capitalised words of ``text`` that no finding covers and that are not ordinary sentence openers:
    only there can English NER find a name the other recognizers missed."""
    from guardrails.lexicon import lexicon

    lists = lexicon()
    spans = []
    for match in _CAPITAL.finditer(text):
        start, end = match.span()
        if any(s <= start and end <= e for s, e in explained):
            continue
        word = match.group().lower()
        # Openers ("Can", "Please") also where a missing full stop hides the sentence start; words of town
        # names ("Hendrik-Ido-Ambacht", "Eck en Wiel"); and everyday words that are no name.
        if word in _STARTERS or word in lists.place_words or (
                word in lists.common_words and not lists.is_first_name(word) and not lists.is_surname(word)):
            continue
        spans.append((start, end))
    return spans


def unexplained_capitals(text: str, explained: list[tuple[int, int]]) -> bool:
    """True when ``text`` has a capitalised word that no finding covers and that is not an ordinary opener."""
    return bool(unexplained_capital_spans(text, explained))
