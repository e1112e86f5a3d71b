"""Baken's one guess of a text's language: Dutch or English, by counting their function words.

Dependency-free and fast, for the places that need only this choice: which stemmer a chunk gets, which
language a question is answered in, and whether English NER must run over a text before redaction. A word
that is a function word of both languages ("is", "was", "we", "of") counts for neither language in
`detect_language`, and as English in `english_share`: there it decides whether English NER runs, and running
it once too often costs time, while not running it can miss a name. "in" is in neither list: as common in
Dutch as in English, it would make English NER run over every Dutch question with an "in" in it.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    # A word list kept as wrapped text, not a list literal of 80 quoted words.
    return frozenset(text.split())


DUTCH = _words("""
de het een en van is zijn was waren dit dat deze die met voor uit je jij u uw ik we wij zij ze hij haar hun
ons onze mijn wat wie waar wanneer hoe waarom welke welk niet geen ook of maar dan er hier op aan bij naar
over als om tot door te nog moet moeten mag mogen kan kunnen zou zal wordt worden hebben heeft heb had
graag beste groet groeten bedankt dank gemeente
""")
ENGLISH = _words("""
the a an and of to on at for with from by about as into is are was were be been being this that these
those you your i he she his her it its we they them their there here my me our what who whom where when how
why which not no also or but then if must should may can could would will shall have has had please dear
regards thanks thank
""")

_WORD = re.compile(r"[a-zà-ÿ']+")
_ONLY_DUTCH = DUTCH - ENGLISH
_ONLY_ENGLISH = ENGLISH - DUTCH


def _counts(text: str, shared_is_english: bool = False) -> tuple[int, int]:
    english_words = ENGLISH if shared_is_english else _ONLY_ENGLISH
    dutch = english = 0
    for word in _WORD.findall(text.lower()):
        if word in english_words:
            english += 1
        elif word in _ONLY_DUTCH:
            dutch += 1
    return dutch, english


def english_share(text: str) -> float:
    """The share of English among the function words of ``text`` (0.0 when it has none); a word of both
    languages counts as English."""
    dutch, english = _counts(text, shared_is_english=True)
    total = dutch + english
    return english / total if total else 0.0


def detect_language(text: str) -> str:
    """'nl' or 'en'; Dutch wins ties (and texts without function words), since Baken serves Dutch
    municipalities."""
    dutch, english = _counts(text)
    return "en" if english > dutch else "nl"


def looks_english(text: str, minimum: float = 0.25) -> bool:
    """True when enough of the text's function words are English to be worth English NER."""
    return english_share(text) >= minimum
