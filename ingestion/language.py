"""A tiny, dependency-free guess of whether a text is Dutch or English (stop-word counts)."""

from __future__ import annotations

import re

DUTCH = frozenset(["de", "het", "een", "en", "van", "ik", "je", "jij", "u", "we", "wij", "zij", "ze", "is", "zijn", "was", "waren", "wat", "wie", "waar", "wanneer", "hoe", "waarom", "welke", "welk", "niet", "geen", "ook", "of", "maar", "dan", "dat", "die", "dit", "deze", "moet", "moeten", "mag", "mogen", "kan", "kunnen", "wordt", "worden", "er", "op", "aan", "met", "voor", "bij", "naar", "uit", "over", "als", "om", "tot", "door", "hebben", "heeft", "heb", "mijn", "onze", "ons", "hun", "gemeente"])
ENGLISH = frozenset(["the", "a", "an", "and", "of", "i", "you", "he", "she", "we", "they", "is", "are", "was", "were", "what", "who", "where", "when", "how", "why", "which", "not", "no", "also", "or", "but", "then", "that", "this", "these", "those", "must", "should", "may", "can", "could", "be", "been", "being", "have", "has", "had", "my", "our", "their", "to", "in", "on", "at", "for", "with", "from", "by", "about", "as", "into"])


def detect_language(text: str) -> str:
    """'nl' or 'en'; Dutch wins ties, since Baken serves Dutch municipalities."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    dutch = sum(w in DUTCH for w in words)
    english = sum(w in ENGLISH for w in words)
    return "en" if english > dutch else "nl"
