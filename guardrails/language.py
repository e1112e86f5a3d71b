"""A cheap guess of whether a text is (partly) English, to decide whether English NER must run."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z']+")
_ENGLISH = frozenset(
    "the and of to is are was were be been this that these those with for from you your please would could should "
    "which what who they them their there here have has had will shall not but about into our we he she his her "
    "it its as at by an on or if my me i dear regards thanks thank".split()
)
_DUTCH = frozenset(
    "de het een en van is zijn was waren dit dat deze die met voor uit je jij u uw graag zou kunnen moeten welke wat "
    "wie zij hun er hier hebben heeft had zal niet maar over naar ons wij hij haar als bij op of mijn ik beste "
    "groet groeten bedankt dank ook nog wordt worden door aan te om".split()
)


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
