"""The checked answer as the model writes it: in generative mode each sentence is shown once it is complete and
checked, not after the whole answer. (Auto mode decides on the whole answer, whether enough of it is supported,
so it waits for the end.)

A sentence is complete once the model has begun the next one (`split_units` of the text so far finds a later
unit). It is checked on its words alone, which is fast, and released while every sentence before it passed.
The first one that does not pass on its words stops the release, and the rest is checked at the end with the
whole check (words, then embedding similarity), as an unreleased answer is. So what the user saw as it
streamed and the answer the turn records are one text.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.check import CheckedSentence
from assistant.sentences import split_units

REPEAT_CHARS = 20  # a sentence this long said again is a small model looping: left out, as a repeated line is


class SentenceRelease:
    """Fed the model's pieces; gives back the sentences to show now, checked by ``check_words``."""

    def __init__(self, check_words: Callable[[str], list[CheckedSentence]]) -> None:
        self._check = check_words
        self._text = ""
        self._start = 0  # where the text not yet released begins
        self._open = True
        self.released: list[CheckedSentence] = []

    def feed(self, piece: str) -> list[CheckedSentence]:
        """The sentences ``piece`` completed that passed (none once one did not), in order."""
        self._text += piece
        if not self._open:
            return []
        base = self._start
        units = split_units(self._text[base:])
        shown: list[CheckedSentence] = []
        for following in units[1:]:
            end = base + following.start
            checked = self._check(self._text[self._start:end])
            if not all(c.supported for c in checked):
                self._open = False
                break
            self._start = end
            fresh = [c for c in checked if not self.said(c.text)]
            self.released += fresh
            shown += fresh
        return shown

    @property
    def start(self) -> int:
        """The offset, in the text fed, of what is not released (checked at the end)."""
        return self._start

    def said(self, text: str) -> bool:
        """Whether ``text`` (of some length) is a sentence already released."""
        return len(text) >= REPEAT_CHARS and any(c.text == text for c in self.released)
