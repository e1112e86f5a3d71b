"""Comparing the words of two texts as a Dutch reader would: stemmed, weighted by rarity (IDF), and with
compounds matching their parts ("firewalllogging" ~ "netwerk- en firewalllogging", "bewaard" ~
"bewaartermijn"); and the numbers a text states, normalised ("1.000" = "1000", "drie" = "3", "9:30" = "9.30").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from assistant.citations import CITATION

Weigh = Callable[[Iterable[str]], dict[str, float]]
COMPOUND_MIN = 5  # the shortest word that counts as a part of a compound
PREFIX_SHARE = 0.75  # "bewaard" ~ "bewaartermijn": a shared prefix of this share of the asked word
INFLECTION = 3  # "modellen" ~ "model", "minimale" ~ "minimum": letters inflections may differ in after a shared start
MODIFIER = 0.5  # the weight of a match on a compound's modifier rather than its head
HEAD_MIN = 8  # "chatgeschiedenis" ~ "gespreksgeschiedenis": the shortest shared head that counts (not "-ligheid")
_WORD = re.compile(r"[^\W_]+")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*_\d+\]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
NUMBER_WORDS = {
    "twee": "2", "drie": "3", "vier": "4", "vijf": "5", "zes": "6", "zeven": "7", "acht": "8", "negen": "9",
    "tien": "10", "elf": "11", "twaalf": "12", "twintig": "20", "dertig": "30", "veertig": "40",
    "vijftig": "50", "honderd": "100", "duizend": "1000", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "hundred": "100",
}
STOP = frozenset(["aan", "al", "alle", "als", "ben", "bij", "dan", "dat", "de", "der", "des", "deze", "die", "dit", "door", "doen", "dus", "een", "eens", "en", "er", "ge", "geen", "had", "heb", "hebben", "heeft", "het", "hier", "hij", "hoe", "hun", "iemand", "ik", "in", "is", "ja", "je", "jij", "jouw", "kan", "kon", "kunnen", "maar", "me", "meer", "men", "met", "mij", "mijn", "moet", "na", "naar", "niet", "niets", "nog", "nu", "of", "om", "omdat", "ons", "onze", "ook", "op", "over", "reeds", "te", "tegen", "toch", "toen", "tot", "u", "uit", "uw", "van", "veel", "voor", "want", "waren", "was", "wat", "we", "wel", "werd", "wie", "wij", "wil", "worden", "wordt", "zal", "ze", "zelf", "zich", "zij", "zijn", "zo", "zonder", "zou", "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "if", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with", "you", "your", "bron", "bronnen", "source", "sources", "volgens", "antwoord", "per", "zie", "hieronder", "hierboven",
                   "namelijk", "echter", "see", "below", "above"])


@dataclass(frozen=True)
class Bag:
    """The comparable form of a text: its content words (lower case) with their stems, and its numbers."""

    words: tuple[str, ...]
    stems: frozenset[str]
    numbers: frozenset[str]
    word_stems: tuple[frozenset[str], ...] = ()  # each word's stems, in the order of ``words``


def normalise(text: str) -> str:
    """NFKC, lower case, one space between words: the form facts and quotes are compared in."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def plain(text: str) -> str:
    """The text without citations ([1], [1, 2]) and placeholders ([PERSOON_1]), for word and number counts."""
    return _PLACEHOLDER.sub(" ", CITATION.sub(" ", text))


def has_placeholder(text: str) -> bool:
    """True when ``text`` holds a placeholder of the guardrail ([PERSOON_1])."""
    return bool(_PLACEHOLDER.search(text))


def numbers(text: str) -> frozenset[str]:
    """The numbers stated in ``text``, normalised: thousands dots dropped, time colons as dots, words as digits."""
    found = set()
    for match in _NUMBER.finditer(plain(text)):
        value = match.group(0).replace(":", ".")
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", value):
            value = value.replace(".", "")
        found.add(value.rstrip(".,").lstrip("0") or "0")
    for word in _WORD.findall(text.lower()):
        if word in NUMBER_WORDS:
            found.add(NUMBER_WORDS[word])
    return frozenset(found)


class Terms:
    """Makes `Bag`s with a stemmer and compares them; ``stem`` maps words to their stems (both languages)."""

    def __init__(self, stem: Callable[[list[str]], list[set[str]]], weigh: Weigh | None = None) -> None:
        self._stem = stem
        self._weigh = weigh

    def bag(self, text: str) -> Bag:
        """The content words, stems and numbers of ``text``."""
        text = unicodedata.normalize("NFKC", plain(text)).lower()
        words = tuple(dict.fromkeys(w for w in _WORD.findall(text)
                                    if len(w) > 1 and w not in STOP and not w.isdigit()))
        word_stems = tuple(frozenset(group) for group in self._stem(list(words))) if words else ()
        stems = frozenset().union(*word_stems)
        return Bag(words, stems | frozenset(words), numbers(text), word_stems)

    def weights(self, words: Iterable[str]) -> dict[str, float]:
        """The IDF weight of each word (1.0 each without an index to weigh by)."""
        words = list(words)
        if self._weigh is None:
            return {w: 1.0 for w in words}
        weights = self._weigh(words)
        return {w: weights.get(w, 1.0) for w in words}

    def coverage(self, asked: Bag, target: Bag, weights: dict[str, float] | None = None) -> float:
        """IDF-weighted share of ``asked``'s content words that ``target`` contains (stem or compound part)."""
        if not asked.words:
            return 0.0
        weights = weights or self.weights(asked.words)
        found = total = 0.0
        for word, match in zip(asked.words, self.matches(asked, target)):
            weight = weights.get(word, 1.0)
            total += weight
            found += weight * match
        return round(found / total, 4) if total else 0.0

    def matches(self, asked: Bag, target: Bag) -> list[float]:
        """How much ``target`` holds of each of ``asked``'s content words: 1.0 for a stem it contains, else its
        compound match (`compound_match`)."""
        return [1.0 if word_stems & target.stems or word in target.stems else compound_match(word, target.words)
                for word, word_stems in zip(asked.words, asked.word_stems)]  # stemmed once, when the bag was made


def compound_match(word: str, others: Iterable[str]) -> float:
    """How much of ``word`` the words ``others`` account for as compound parts. Dutch compounds end in what
    they name (their head): 1.0 when ``word`` is the head of one of them ("logging" of "firewalllogging") or
    differs from one only in its inflection ("modellen" ~ "model", "minimale" ~ "minimum") or is a verb
    whose stem starts one ("bewaard" ~ "bewaartermijn"); half when the whole word is a modifier ("paspoort"
    of "paspoortfoto"). Else a share of its letters:
    whole words of ``others`` inside it ("firewall" + "logging" of "firewalllogging"), a head in full
    ("berichten" of "werkberichten") and a modifier for half ("personeel" of "personeelsfeest"); or a long
    head it shares with one ("chatgeschiedenis" ~ "gespreksgeschiedenis"). A compound's head alone does not
    name what the compound names."""
    if len(word) < COMPOUND_MIN:  # a short word counts as the head of a compound: "dag" in "thuiswerkdag"
        return 1.0 if len(word) >= 3 and any(o.endswith(word) and len(o) >= len(word) + 4 for o in others) \
            else 0.0
    parts = 0.0  # letters of ``word`` that whole words of ``others`` make up
    partial = 0.0  # the best single partial match, as letters
    for other in others:
        if len(other) < COMPOUND_MIN:
            continue
        if other.endswith(word):
            return 1.0
        shorter = min(len(word), len(other))
        share = 0
        while share < shorter and word[share] == other[share]:
            share += 1
        if share >= COMPOUND_MIN and (max(len(word), len(other)) - share <= INFLECTION or
                                      PREFIX_SHARE * len(word) <= share < len(word)):
            return 1.0  # an inflection, or a verb's stem as a compound's start: "bewaard" ~ "bewaartermijn"
        if word in other:
            # the whole asked word as the start or middle of a compound names something else: "paspoort" of
            # "paspoortfoto" (a photo)
            partial = max(partial, MODIFIER * len(word))
        elif other in word:
            parts += len(other) if word.endswith(other) else MODIFIER * len(other)
        else:
            head = 0
            while head < shorter and word[-1 - head] == other[-1 - head]:
                head += 1
            if head >= HEAD_MIN:
                partial = max(partial, float(head))
    return min(1.0, max(parts, partial) / len(word))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two vectors (0.0 when one is zero)."""
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
