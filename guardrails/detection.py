"""What a detector reports, and the small protocol every detector follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Detection:
    """One piece of personal data found in a (normalised) text."""

    type: str
    start: int
    end: int
    score: float
    recognizer: str
    explanation: str = ""


class Detector(Protocol):
    """Finds one or more types of personal data in a text."""

    name: str
    types: tuple[str, ...]

    def detect(self, text: str) -> list[Detection]:
        """Every finding in ``text``, with offsets into it."""
        ...


def has_context(text: str, start: int, end: int, words: tuple[str, ...], before: int = 40, after: int = 15) -> bool:
    """True when one of ``words`` occurs (lower case) shortly before or after the span."""
    window = text[max(0, start - before):start].lower() + " " + text[end:end + after].lower()
    return any(word in window for word in words)


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, for word lists written as text blocks."""
    return frozenset(text.split())
