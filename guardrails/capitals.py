"""Capitalised words no recognizer explained: only there can English NER find a name the others missed.

The language guess itself is `core.language`."""

from __future__ import annotations

import re

from core.language import DUTCH, ENGLISH
from guardrails.detection import words

_CAPITAL = re.compile(r"(?<![\w'’-])[A-Z][a-z'’]+")
_STARTERS = ENGLISH | DUTCH | words("""
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
