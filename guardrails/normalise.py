"""Text normalisation before detection, keeping every character mappable to the original offsets."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible characters that can hide an identifier ("111\u200b222333"); dropped.
_DROPPED = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Digits spaced out one by one ("1 1 1 2 2 2 3 3 3"): the spaces are dropped.
_SPACED_DIGITS = re.compile(r"(?<![\w.,])\d(?: \d(?![\w]))(?: \d(?!\w)){3,}")


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, for each of its characters, the offset of its source in the original."""

    text: str
    origin: list[int]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span [start, end)."""
        if end <= start:
            position = self.origin[start] if start < len(self.origin) else self.original_length
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def _char(ch: str) -> str:
    """One character made plain: spaces of every kind become a space, full-width forms become ASCII."""
    if ch in "\t\n\r ":
        return ch
    if ch.isspace() or unicodedata.category(ch) == "Zs":
        return " "
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
        return chr(code - 0xFEE0)
    if ch.isdigit() and not ch.isascii():
        try:
            return str(unicodedata.digit(ch))
        except ValueError:
            return ch
    if ch in "\u2010\u2011\u2012\u2013\u2014\u2212":
        return "-"
    if unicodedata.category(ch) == "Cc":
        return " "
    return ch


def normalise(text: str) -> Normalised:
    """Drop invisible characters, plain spaces and digits, and join spaced-out digits; one char in, at most one out."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch in _DROPPED:
            continue
        chars.append(_char(ch))
        origin.append(index)
    plain = "".join(chars)
    if not _SPACED_DIGITS.search(plain):
        return Normalised(plain, origin, len(text))
    kept_chars: list[str] = []
    kept_origin: list[int] = []
    last = 0
    for match in _SPACED_DIGITS.finditer(plain):
        kept_chars.append(plain[last:match.start()])
        kept_origin.extend(origin[last:match.start()])
        for offset in range(match.start(), match.end()):
            if plain[offset] != " ":
                kept_chars.append(plain[offset])
                kept_origin.append(origin[offset])
        last = match.end()
    kept_chars.append(plain[last:])
    kept_origin.extend(origin[last:])
    return Normalised("".join(kept_chars), kept_origin, len(text))
